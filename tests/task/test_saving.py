"""TaskSaver: changes that arrive together commit together, and fail alone."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aipaint.db import reading
from aipaint.models import Task
from aipaint.task import repository
from aipaint.task.events import TaskEvents
from aipaint.task.saving import Change, TaskInserter, TaskSaver
from tests.task.conftest import TASK_IDS

pytestmark = pytest.mark.anyio
IDS = TASK_IDS[:6]


def _commits(sessions: async_sessionmaker[AsyncSession]) -> list[int]:
    commits: list[int] = []
    bind = sessions.kw["bind"]
    event.listen(bind.sync_engine, "commit", lambda connection: commits.append(1))
    return commits


def _set_model(name: str) -> Change:
    def change(task: Task) -> bool:
        task.model = name
        return True

    return change


async def _models(sessions: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    async with reading(sessions) as session:
        tasks = [await repository.get(session, task_id) for task_id in IDS]
    return {task.id: task.model for task in tasks if task is not None}


async def test_changes_arriving_together_share_one_commit(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    saver = TaskSaver(sessions, TaskEvents())
    commits = _commits(sessions)

    saved = await asyncio.gather(
        *(saver.save(task_id, _set_model(f"m-{task_id}")) for task_id in IDS)
    )

    assert [task.id for task in saved if task is not None] == IDS
    assert len(commits) == 1
    assert await _models(sessions) == {task_id: f"m-{task_id}" for task_id in IDS}


async def test_a_failing_change_fails_alone(sessions: async_sessionmaker[AsyncSession]) -> None:
    saver = TaskSaver(sessions, TaskEvents())

    def broken(task: Task) -> bool:
        raise RuntimeError("broken change")

    outcomes = await asyncio.gather(
        saver.save(IDS[0], _set_model("first")),
        saver.save(IDS[1], broken),
        saver.save(IDS[2], _set_model("third")),
        return_exceptions=True,
    )

    assert isinstance(outcomes[1], RuntimeError)
    models = await _models(sessions)
    assert (models[IDS[0]], models[IDS[1]], models[IDS[2]]) == ("first", "m", "third")


async def test_two_changes_to_one_task_apply_in_order(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    saver = TaskSaver(sessions, TaskEvents())

    await asyncio.gather(
        saver.save(IDS[0], _set_model("earlier")),
        saver.save(IDS[0], _set_model("later")),
    )

    assert (await _models(sessions))[IDS[0]] == "later"


async def test_an_unknown_task_saves_nothing_and_tells_watchers_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    events = TaskEvents()
    saver = TaskSaver(sessions, events)

    with events.subscribe("tsk_missing") as changed:
        assert await saver.save("tsk_missing", _set_model("x")) is None
        assert not changed.is_set()


async def test_new_tasks_arriving_together_share_one_commit_and_a_duplicate_fails_alone(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    inserter = TaskInserter(sessions)
    commits = _commits(sessions)

    def new(task_id: str, key: str) -> Task:
        return Task(
            id=task_id, user_id="usr_1", model="m", params={}, status="pending", idempotency_key=key
        )

    stored = await asyncio.gather(
        *(inserter.insert(new(f"tsk_new{n}", f"key-{n}")) for n in range(4))
    )
    assert [task.id for task in stored] == [f"tsk_new{n}" for n in range(4)]
    assert len(commits) == 1

    outcomes = await asyncio.gather(
        inserter.insert(new("tsk_new8", "key-8")),
        inserter.insert(new("tsk_new9", "key-0")),  # the Idempotency-Key of an earlier task
        return_exceptions=True,
    )
    assert isinstance(outcomes[1], IntegrityError)
    async with reading(sessions) as session:
        assert await repository.get(session, "tsk_new8") is not None
        assert await repository.get(session, "tsk_new9") is None
