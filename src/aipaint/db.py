"""The database: one async engine and session factory, SQLite (WAL) embedded or PostgreSQL.

The schema is Alembic's: `migrate()` brings any database to the head revision at start-up.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import ConnectionPoolEntry

from aipaint.config import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Stable constraint names, so that migrations name what they drop on every database alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{(settings.data_dir / 'aipaint.db').resolve()}"


def create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(url, pool_size=10, max_overflow=10)
    event.listen(engine.sync_engine, "checkout", _drop_if_closed)
    return engine


def _drop_if_closed(_dbapi: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
    """Hand out no pooled connection the server has closed (a restart, an idle timeout): the
    pool then opens a fresh one. asyncpg notices a closed socket as soon as the server closes
    it, so this costs no round trip, unlike SQLAlchemy's `pool_pre_ping`, which queries the
    server on every checkout (a third of a small write's time)."""
    connection = record.driver_connection
    if connection is None or connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def _sqlite_pragmas(connection: Any, record: Any) -> None:
    # WAL lets readers go on while the worker writes; NORMAL sync is durable across process
    # crashes (only a power loss can undo the last commits); foreign keys are off by default.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


# SQLite has one writer at a time; a second one would sleep in SQLite's busy handler (up to
# 100 ms a try). Writers of one process queue on this lock instead, and wake the moment the
# previous one commits.
_WRITERS: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A writing session: its work commits at the end of the block, or rolls back on an error."""
    bind = sessions.kw.get("bind")
    if isinstance(bind, AsyncEngine) and bind.dialect.name == "sqlite":
        lock = _WRITERS.setdefault(bind.sync_engine, asyncio.Lock())
        async with lock, sessions() as session, session.begin():
            yield session
        return
    async with sessions() as session, session.begin():
        yield session


@asynccontextmanager
async def reading(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for reads only: it takes no write lock and commits nothing.

    On PostgreSQL it runs outside a transaction: each statement still sees what was committed
    when it began, as under READ COMMITTED inside one, and a one-statement read costs one round
    trip instead of three (BEGIN, the query, ROLLBACK)."""
    bind = sessions.kw.get("bind")
    if isinstance(bind, AsyncEngine) and bind.dialect.name == "postgresql":
        autocommit = _AUTOCOMMIT.get(bind.sync_engine)
        if autocommit is None:
            autocommit = bind.execution_options(isolation_level="AUTOCOMMIT")
            _AUTOCOMMIT[bind.sync_engine] = autocommit
        async with sessions(bind=autocommit) as session:
            yield session
        return
    async with sessions() as session:
        yield session


_AUTOCOMMIT: weakref.WeakKeyDictionary[Engine, AsyncEngine] = weakref.WeakKeyDictionary()


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


# Any number for the advisory lock that serialises migrations; only aipaint takes it.
_MIGRATION_LOCK = 0x61697061  # "aipa"


async def migrate(engine: AsyncEngine) -> None:
    """Upgrade the database to the latest revision (creating it when new).

    Processes starting together on one new PostgreSQL database would race to create its tables;
    an advisory lock held to the end of the transaction lets one migrate while the others wait,
    then find it done.
    """
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
            )
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), "head"))
