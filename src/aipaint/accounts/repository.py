"""Every SQL statement about users."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aipaint.models import User


async def add(session: AsyncSession, user: User) -> None:
    session.add(user)
    await session.flush()


async def by_token_hash(session: AsyncSession, token_hash: str) -> User | None:
    result = await session.execute(select(User).where(User.token_hash == token_hash))
    return result.scalar_one_or_none()
