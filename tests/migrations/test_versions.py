"""The migrations: a database at the first revision, with a user in it, upgrades to the head and
back down again, keeping its rows."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection

from aipaint.db import alembic_config, create_engine
from tests.support import fresh_database

pytestmark = pytest.mark.anyio


def _columns(connection: Connection, table: str) -> set[str]:
    return {column["name"] for column in sa.inspect(connection).get_columns(table)}


async def test_0003_tokens_adds_revoked_at_and_goes_back(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(
                    lambda sync: command.upgrade(alembic_config(sync), "0001")
                )
                await connection.execute(
                    sa.text(
                        "INSERT INTO users (id, name, is_admin, token_hash, created_at) "
                        "VALUES ('usr_1', 'old', false, 'h', CURRENT_TIMESTAMP)"
                    )
                )
                await connection.run_sync(
                    lambda sync: command.upgrade(alembic_config(sync), "head")
                )
                assert "revoked_at" in await connection.run_sync(_columns, "users")
                row = (
                    await connection.execute(sa.text("SELECT name, revoked_at FROM users"))
                ).one()
                assert tuple(row) == ("old", None)
                await connection.run_sync(
                    lambda sync: command.downgrade(alembic_config(sync), "0001")
                )
                assert "revoked_at" not in await connection.run_sync(_columns, "users")
                assert (
                    await connection.execute(sa.text("SELECT count(*) FROM users"))
                ).scalar() == 1
        finally:
            await engine.dispose()
