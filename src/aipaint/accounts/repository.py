"""Every SQL statement about users (each holding one token)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from aipaint.models import User


async def add(session: AsyncSession, user: User) -> None:
    session.add(user)
    await session.flush()


async def active_by_token_hash(
    connection: AsyncConnection, token_hash: str
) -> tuple[str, str, bool, str | None] | None:
    """(id, name, is_admin, default webhook URL) of the user of a token that is not revoked:
    one probe of the
    token_hash unique index. Core on a bare connection, not an ORM session: it runs on every
    request, and the session's setup and teardown cost more than the query."""
    result = await connection.execute(
        select(User.id, User.name, User.is_admin, User.webhook_url).where(
            User.token_hash == token_hash, User.revoked_at.is_(None)
        )
    )
    row = result.one_or_none()
    return (row.id, row.name, row.is_admin, row.webhook_url) if row is not None else None


async def get(session: AsyncSession, user_id: str) -> User | None:
    return await session.get(User, user_id)


async def all_users(session: AsyncSession) -> Sequence[User]:
    return (await session.execute(select(User).order_by(User.created_at, User.id))).scalars().all()


async def revoke(
    session: AsyncSession, now: datetime, *, user_id: str | None = None, name: str | None = None
) -> list[str]:
    """Revoke the token of one user (by id) or of every user of a name; the ids revoked now."""
    query = update(User).where(User.revoked_at.is_(None)).values(revoked_at=now)
    if user_id is not None:
        query = query.where(User.id == user_id)
    if name is not None:
        query = query.where(User.name == name)
    result = await session.execute(query.returning(User.id))
    return list(result.scalars())
