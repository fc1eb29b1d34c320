"""The database: processes that start together on a new PostgreSQL database all come up."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from aipaint.db import create_engine
from tests.support import fresh_database

pytestmark = pytest.mark.anyio


def test_processes_starting_together_on_a_new_database_migrate_it_once(tmp_path: Path) -> None:
    with fresh_database(tmp_path, postgres=True) as url:
        env = {**os.environ, "AIPAINT_DATABASE_URL": url, "AIPAINT_DATA_DIR": str(tmp_path)}
        # `aipaint token create` brings the database to the latest revision first, as every
        # process does at start-up.
        command = [sys.executable, "-m", "aipaint", "token", "create", "--name"]
        processes = [
            subprocess.Popen([*command, f"p{n}"], env=env, stdout=subprocess.PIPE, text=True)
            for n in range(4)
        ]
        tokens = [process.communicate(timeout=60)[0].splitlines()[-1] for process in processes]
        assert [process.returncode for process in processes] == [0] * 4
        assert len(set(tokens)) == 4


async def test_connections_the_server_closed_are_replaced_without_an_error(tmp_path: Path) -> None:
    with fresh_database(tmp_path, postgres=True) as url:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                first = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            # What a PostgreSQL restart or an idle timeout does to every pooled connection.
            admin = create_engine(url)
            async with admin.connect() as other:
                await other.execute(text(f"SELECT pg_terminate_backend({first})"))
            await admin.dispose()
            await asyncio.sleep(0.2)  # the closed socket reaches the event loop
            async with engine.connect() as connection:
                second = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            assert second != first
        finally:
            await engine.dispose()
