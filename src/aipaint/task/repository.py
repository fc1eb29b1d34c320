"""Every SQL statement about tasks, their outputs and their upstream accounts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import (
    BindParameter,
    ColumnDefault,
    Select,
    and_,
    bindparam,
    func,
    insert,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from aipaint.models import Output, Task, Upload, UpstreamAccount
from aipaint.task.slots import SlotCounts

ACTIVE_UPSTREAM = ("queued", "running")
UNFINISHED = ("pending", "queued", "running")


# One task with its outputs in one statement: a second SELECT (the relationship's default
# `selectin`, right for pages of tasks) is another round trip to SQLite's thread.
_WITH_OUTPUTS = (joinedload(Task.outputs),)


async def add_new(session: AsyncSession, tasks: Sequence[Task]) -> None:
    """Insert new tasks (without outputs) in one statement. Core, not the ORM's unit of work,
    which spends more than the round trip on a submit's one row: column defaults are filled in
    on each task here, as a flush would."""
    rows = []
    for task in tasks:
        row = {}
        for attribute in Task.__mapper__.column_attrs:
            column = attribute.columns[0]
            value = getattr(task, attribute.key)
            if value is None and isinstance(column.default, ColumnDefault):
                default = column.default
                value = default.arg(None) if default.is_callable else default.arg
                setattr(task, attribute.key, value)
            row[column.name] = value
        rows.append(row)
    await session.execute(insert(Task.metadata.tables[Task.__tablename__]), rows)


async def get(session: AsyncSession, task_id: str) -> Task | None:
    return await session.get(Task, task_id, populate_existing=True, options=_WITH_OUTPUTS)


async def get_many(session: AsyncSession, task_ids: Sequence[str]) -> dict[str, Task]:
    """Tasks by id, each with its outputs, in one statement."""
    result = await session.execute(
        select(Task)
        .where(Task.id.in_(task_ids))
        .options(*_WITH_OUTPUTS)
        .execution_options(populate_existing=True)
    )
    return {task.id: task for task in result.unique().scalars()}


async def get_for_update(session: AsyncSession, task_id: str) -> Task | None:
    """The task, locked for the rest of the transaction, as it is after every earlier commit."""
    return (await get_many_for_update(session, [task_id])).get(task_id)


async def get_many_for_update(session: AsyncSession, task_ids: Sequence[str]) -> dict[str, Task]:
    """Tasks by id, locked for the rest of the transaction, as they are after every earlier
    commit. Locked in id order on PostgreSQL, so that two writers of overlapping sets cannot
    deadlock.

    PostgreSQL locks the rows (FOR UPDATE) first and loads them with their outputs after: a
    statement that waited for a lock sees the locked row anew but every other table (the
    outputs) as it was when the statement began. SQLite has no row locks: a no-op write takes its
    database write lock, so two writers of one task run one after the other.
    """
    ids = sorted(set(task_ids))
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(update(Task).where(Task.id.in_(ids)).values(version=Task.version))
    else:
        await session.execute(
            select(Task.id).where(Task.id.in_(ids)).order_by(Task.id).with_for_update()
        )
    return await get_many(session, ids)


async def by_idempotency_key(session: AsyncSession, user_id: str, key: str) -> Task | None:
    result = await session.execute(
        select(Task).where(Task.user_id == user_id, Task.idempotency_key == key)
    )
    return result.scalar_one_or_none()


async def page(
    session: AsyncSession,
    *,
    user_id: str | None,
    status: str | None,
    model: str | None,
    before: str | None,
    limit: int,
) -> list[Task]:
    """Newest first (ids sort by creation time); `before` is the last id of the previous page."""
    query = select(Task).order_by(Task.id.desc()).limit(limit)
    if user_id is not None:
        query = query.where(Task.user_id == user_id)
    if status is not None:
        query = query.where(Task.status == status)
    if model is not None:
        query = query.where(Task.model == model)
    if before is not None:
        query = query.where(Task.id < before)
    return list((await session.execute(query)).scalars())


async def recent_run_times(
    session: AsyncSession, model: str, limit: int
) -> list[tuple[datetime, datetime]]:
    """(submitted, finished) of the model's latest successful tasks, all users, newest first."""
    query = (
        select(Task.submitted_at, Task.finished_at)
        .where(
            Task.model == model,
            Task.status == "succeeded",
            Task.submitted_at.is_not(None),
            Task.finished_at.is_not(None),
        )
        .order_by(Task.id.desc())
        .limit(limit)
    )
    rows = await session.execute(query)
    return [(start, end) for start, end in rows if start is not None and end is not None]


async def lock_account(session: AsyncSession, account_id: str) -> UpstreamAccount:
    """The key's account row, created when new, locked for the rest of the transaction: every
    claim of the key's slots takes this lock first, so claims run one after the other."""
    dialect = session.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    # Created by whichever process comes first; the others' inserts do nothing.
    await session.execute(insert(UpstreamAccount).values(id=account_id).on_conflict_do_nothing())
    if dialect == "sqlite":
        await session.execute(
            update(UpstreamAccount)
            .where(UpstreamAccount.id == account_id)
            .values(id=UpstreamAccount.id)
        )
    result = await session.execute(
        select(UpstreamAccount)
        .where(UpstreamAccount.id == account_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.scalar_one()


async def get_account(session: AsyncSession, account_id: str) -> UpstreamAccount | None:
    return await session.get(UpstreamAccount, account_id, populate_existing=True)


def _slot_counts_query() -> Select[int, int, int, int, int]:
    # Built once: the worker reads the counts before every claim, and building the statement
    # cost more than running it.
    now: BindParameter[datetime] = bindparam("now")
    then: BindParameter[datetime] = bindparam("then")
    in_flight = and_(Task.submit_started_at.is_not(None), Task.upstream_task_id.is_(None))
    live = and_(Task.uncertain_since.is_(None), Task.submit_lease_until > now)
    active = Task.upstream_status.in_(ACTIVE_UPSTREAM)
    return select(
        func.count().filter(active),
        func.count().filter(in_flight, live),
        func.count().filter(in_flight, not_(live)),
        func.count().filter(active, Task.submitted_at <= then),
        func.count().filter(in_flight, not_(live), Task.uncertain_since <= then),
    ).where(Task.upstream_account == bindparam("account"), Task.status.in_(UNFINISHED))


_SLOT_COUNTS = _slot_counts_query()


async def slot_counts(
    session: AsyncSession, account_id: str, now: datetime, reported_at: datetime | None = None
) -> SlotCounts:
    """The key's unfinished tasks that may hold an upstream slot: running or queued there,
    submits in flight under a live lease, submits whose outcome is unknown; and of the first
    and the last, those RunningHub's count read at `reported_at` could have seen."""
    then = reported_at or datetime(1970, 1, 1, tzinfo=UTC)
    values = {"now": now, "then": then, "account": account_id}
    return SlotCounts(*(int(n) for n in (await session.execute(_SLOT_COUNTS, values)).one()))


async def claimable(session: AsyncSession, now: datetime, limit: int) -> list[Task]:
    """Pending tasks due for a submit and not in flight, oldest first, locked; on PostgreSQL a
    row another claim holds is skipped, not waited for."""
    query = (
        select(Task)
        .where(
            Task.status == "pending",
            Task.submit_started_at.is_(None),
            or_(Task.next_check_at.is_(None), Task.next_check_at <= now),
        )
        .order_by(Task.id)
        .limit(limit)
        .options(*_WITH_OUTPUTS)
        .with_for_update(of=Task, skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(query)).unique().scalars())


async def renew_leases(
    session: AsyncSession, owner: str, task_ids: Sequence[str], until: datetime
) -> list[str]:
    """Extend the leases `owner` still holds among `task_ids`; the ids it still holds."""
    result = await session.execute(
        update(Task)
        .where(
            Task.id.in_(task_ids),
            Task.status == "pending",
            Task.submit_owner == owner,
            Task.upstream_task_id.is_(None),
            Task.uncertain_since.is_(None),
        )
        # The sweep leaves a submit alone until its lease could have lapsed.
        .values(submit_lease_until=until, next_check_at=until)
        .returning(Task.id)
    )
    return list(result.scalars())


async def count_tracked(session: AsyncSession) -> int:
    """Unfinished tasks running or queued upstream: the ones polls share the budget among."""
    query = (
        select(func.count())
        .select_from(Task)
        .where(Task.status.in_(UNFINISHED), Task.upstream_status.in_(ACTIVE_UPSTREAM))
    )
    return int((await session.execute(query)).scalar_one())


async def due(
    session: AsyncSession, now: datetime, limit: int
) -> list[tuple[str, bool, datetime | None]]:
    """(task id, waiting for a slot?, next check) of unfinished tasks whose next check is due,
    oldest first."""
    query = (
        select(Task.id, Task.status, Task.submit_started_at, Task.next_check_at)
        .where(
            Task.status.in_(UNFINISHED),
            or_(Task.next_check_at.is_(None), Task.next_check_at <= now),
        )
        .order_by(Task.id)
        .limit(limit)
    )
    return [
        (task_id, status == "pending" and started is None, next_check)
        for task_id, status, started, next_check in await session.execute(query)
    ]


async def output(session: AsyncSession, task_id: str, index: int) -> Output | None:
    result = await session.execute(
        select(Output).where(Output.task_id == task_id, Output.index == index)
    )
    return result.scalar_one_or_none()


async def cached_upload(session: AsyncSession, sha256: str, now: datetime) -> Upload | None:
    upload = await session.get(Upload, sha256)
    return upload if upload is not None and upload.expires_at > now else None


async def save_upload(session: AsyncSession, upload: Upload) -> None:
    await session.merge(upload)
    await session.flush()


async def archived_checksums(session: AsyncSession) -> dict[str, str]:
    """Every archived output's storage key and the sha256 recorded for it."""
    rows = await session.execute(
        select(Output.storage_key, Output.sha256).where(
            Output.archived, Output.storage_key.is_not(None), Output.sha256.is_not(None)
        )
    )
    return {key: sha256 for key, sha256 in rows.tuples() if key and sha256}
