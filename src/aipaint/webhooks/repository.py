"""Every SQL statement about outbound webhooks: deliveries, attempts, gone URLs, users' secrets
and default URLs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from aipaint.models import Task, User, WebhookAttempt, WebhookDelivery, WebhookGone


async def user(session: AsyncSession, user_id: str) -> User | None:
    return await session.get(User, user_id, populate_existing=True)


async def user_by_name(session: AsyncSession, name: str) -> User | None:
    """The newest unrevoked user (token) of this name."""
    query = (
        select(User)
        .where(User.name == name, User.revoked_at.is_(None))
        .order_by(User.created_at.desc(), User.id.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def set_secret_if_none(session: AsyncSession, user_id: str, secret: str) -> None:
    """Give the user `secret` unless they have one: the first of two racing writers wins."""
    await session.execute(
        update(User)
        .where(User.id == user_id, User.webhook_secret.is_(None))
        .values(webhook_secret=secret)
    )


async def rotate_secret(
    session: AsyncSession, user_id: str, secret: str, previous_until: datetime
) -> None:
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(
            webhook_secret_previous=User.webhook_secret,
            webhook_secret_previous_until=previous_until,
            webhook_secret=secret,
        )
    )


async def set_default_url(session: AsyncSession, user_id: str, url: str | None) -> None:
    await session.execute(update(User).where(User.id == user_id).values(webhook_url=url))


async def default_url(session: AsyncSession, user_id: str) -> str | None:
    query = select(User.webhook_url).where(User.id == user_id)
    return (await session.execute(query)).scalar_one_or_none()


async def task_owner(session: AsyncSession, task_id: str) -> str | None:
    return (await session.execute(select(Task.user_id).where(Task.id == task_id))).scalar()


async def of_task(session: AsyncSession, task_id: str) -> list[WebhookDelivery]:
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.task_id == task_id)
        .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
    )
    return list((await session.execute(query)).scalars())


async def get(session: AsyncSession, delivery_id: str) -> WebhookDelivery | None:
    return await session.get(WebhookDelivery, delivery_id, populate_existing=True)


async def claim(
    session: AsyncSession, delivery_id: str, due_by: datetime, now: datetime, until: datetime
) -> bool:
    """Take the delivery's next attempt, due by `due_by`, for the caller until `until`, unless
    another sender holds it: one atomic UPDATE, so that each attempt is sent by one process."""
    result = await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= due_by,
            or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until <= now),
        )
        .values(lease_until=until)
        .returning(WebhookDelivery.id)
    )
    return result.scalar() is not None


async def add_attempt(session: AsyncSession, attempt: WebhookAttempt) -> None:
    session.add(attempt)
    await session.flush()


async def due(session: AsyncSession, now: datetime, limit: int) -> list[tuple[str, datetime]]:
    """(id, next attempt) of pending deliveries due now that no live sender holds."""
    query = (
        select(WebhookDelivery.id, WebhookDelivery.next_attempt_at)
        .where(
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until <= now),
        )
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in await session.execute(query) if row[1] is not None]


async def is_gone(session: AsyncSession, user_id: str, url: str) -> bool:
    return await session.get(WebhookGone, (user_id, url)) is not None


async def mark_gone(session: AsyncSession, user_id: str, url: str, now: datetime) -> list[str]:
    """Remember that `url` answered 410 for this user, and stop every delivery of theirs still
    waiting for it; the ids stopped."""
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
    await session.execute(
        insert(WebhookGone).values(user_id=user_id, url=url, at=now).on_conflict_do_nothing()
    )
    result = await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.user_id == user_id,
            WebhookDelivery.url == url,
            WebhookDelivery.status == "pending",
        )
        .values(status="disabled", next_attempt_at=None, updated_at=now)
        .returning(WebhookDelivery.id)
    )
    return list(result.scalars())


async def clear_gone(session: AsyncSession, user_id: str, url: str) -> None:
    await session.execute(
        delete(WebhookGone).where(WebhookGone.user_id == user_id, WebhookGone.url == url)
    )
