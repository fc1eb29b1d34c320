"""Fixtures of the task tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aipaint.db import create_engine, migrate, session_factory, transaction
from aipaint.models import Task, User
from tests.support import fresh_database

TASK_IDS = [f"tsk_{n:03d}" for n in range(10)]


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a fresh database holding one user's queued tasks TASK_IDS."""
    with fresh_database(tmp_path) as url:
        engine = create_engine(url)
        await migrate(engine)
        factory = session_factory(engine)
        async with transaction(factory) as session:
            session.add(User(id="usr_1", name="u", token_hash="h"))
            await session.flush()
            for task_id in TASK_IDS:
                session.add(
                    Task(id=task_id, user_id="usr_1", model="m", params={}, status="queued")
                )
        try:
            yield factory
        finally:
            await engine.dispose()
