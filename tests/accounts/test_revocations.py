"""The `Authenticator` remembers a token only while the revocation mark stands still, and every
kind of mark moves on a revoke."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from aipaint.accounts import repository
from aipaint.accounts.revocations import (
    FileMark,
    NoSharedMark,
    RedisMark,
    RevocationNotShared,
    Revocations,
    revocations_for,
)
from aipaint.accounts.service import (
    Authenticator,
    NotAuthenticated,
    create_user,
    hash_token,
    revoke,
)
from aipaint.db import create_engine, migrate, session_factory, transaction
from tests.stacks import redis_server
from tests.support import fresh_database

pytestmark = pytest.mark.anyio


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    with fresh_database(tmp_path) as url:
        engine = create_engine(url)
        await migrate(engine)
        yield engine
        await engine.dispose()


@dataclass
class Process:
    """One process's view: its sessions, the file mark beside the database, its Authenticator."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    mark: FileMark
    authenticator: Authenticator


@pytest.fixture
def process(engine: AsyncEngine, tmp_path: Path) -> Process:
    mark = FileMark(tmp_path / "db.revoked")
    return Process(engine, session_factory(engine), mark, Authenticator(engine, mark))


def token_lookups(engine: AsyncEngine) -> list[str]:
    """The token lookups the engine runs from now on, as they happen."""
    statements: list[str] = []

    def seen(_connection: object, _cursor: object, statement: str, *_: object) -> None:
        if "WHERE users.token_hash" in statement:
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    return statements


async def new_token(sessions: async_sessionmaker[AsyncSession], name: str) -> tuple[str, str]:
    async with transaction(sessions) as session:
        user, token = await create_user(session, name)
    return user.id, token


class TestAuthenticator:
    async def test_a_known_token_costs_no_query_until_a_revoke_moves_the_mark(
        self, process: Process, tmp_path: Path
    ) -> None:
        engine, sessions, authenticator = process.engine, process.sessions, process.authenticator
        alice_id, alice = await new_token(sessions, "alice")
        bob_id, _ = await new_token(sessions, "bob")
        queries = token_lookups(engine)
        assert (await authenticator(alice)).name == "alice"
        assert (await authenticator(alice)).user_id == alice_id
        assert len(queries) == 1
        # Another process revokes bob: alice is asked of the database again, and still let in.
        await revoke(sessions, FileMark(tmp_path / "db.revoked"), token_id=bob_id)
        assert (await authenticator(alice)).name == "alice"
        assert len(queries) == 2

    async def test_a_revoked_token_is_refused_on_the_next_call(self, process: Process) -> None:
        sessions, mark, authenticator = process.sessions, process.mark, process.authenticator
        alice_id, alice = await new_token(sessions, "alice")
        await authenticator(alice)
        assert await revoke(sessions, mark, token_id=alice_id) == [alice_id]
        with pytest.raises(NotAuthenticated):
            await authenticator(alice)

    async def test_a_lookup_that_raced_a_revoke_is_not_remembered(
        self, process: Process, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        sessions, mark, authenticator = process.sessions, process.mark, process.authenticator
        alice_id, alice = await new_token(sessions, "alice")
        _, bob = await new_token(sessions, "bob")
        # alice's lookup has read the old mark and found her valid, but is held before it is
        # done; meanwhile she is revoked and bob's request reads the new mark.
        found_alice, go_on = asyncio.Event(), asyncio.Event()
        lookup = repository.active_by_token_hash

        async def held(connection: AsyncConnection, token_hash: str) -> object:
            found = await lookup(connection, token_hash)
            if token_hash == hash_token(alice):
                found_alice.set()
                await go_on.wait()
            return found

        monkeypatch.setattr(repository, "active_by_token_hash", held)
        raced = asyncio.create_task(authenticator(alice))
        await found_alice.wait()
        await revoke(sessions, mark, token_id=alice_id)
        await authenticator(bob)
        go_on.set()
        assert (await raced).name == "alice"  # in flight before the revoke: let in
        with pytest.raises(NotAuthenticated):
            await authenticator(alice)  # but not remembered for the next request

    async def test_without_a_shared_mark_every_call_asks_the_database(
        self, engine: AsyncEngine
    ) -> None:
        authenticator = Authenticator(engine, NoSharedMark())
        _, alice = await new_token(session_factory(engine), "alice")
        queries = token_lookups(engine)
        for _ in range(3):
            await authenticator(alice)
        assert len(queries) == 3

    async def test_it_remembers_at_most_its_size(self, engine: AsyncEngine, tmp_path: Path) -> None:
        sessions = session_factory(engine)
        authenticator = Authenticator(engine, FileMark(tmp_path / "db.revoked"), size=2)
        tokens = [(await new_token(sessions, f"user{number}"))[1] for number in range(3)]
        for token in tokens:
            await authenticator(token)
        queries = token_lookups(engine)
        await authenticator(tokens[2])  # the newest two are remembered
        await authenticator(tokens[1])
        assert queries == []
        await authenticator(tokens[0])  # the oldest was let go
        assert len(queries) == 1

    async def test_an_unknown_token_is_refused(self, engine: AsyncEngine, tmp_path: Path) -> None:
        authenticator = Authenticator(engine, FileMark(tmp_path / "db.revoked"))
        with pytest.raises(NotAuthenticated):
            await authenticator("aip_nobody")


class TestMarks:
    async def test_a_file_mark_moves_on_each_revoke(self, tmp_path: Path) -> None:
        mark = FileMark(tmp_path / "db.revoked")
        seen = {await mark.mark()}
        for _ in range(3):
            await mark.move()
            seen.add(await mark.mark())
        assert len(seen) == 4
        assert None not in seen
        assert [path.name for path in tmp_path.iterdir()] == ["db.revoked"]  # no temp files left

    async def test_a_redis_mark_moves_on_each_revoke_and_is_none_while_redis_is_away(
        self, tmp_path: Path
    ) -> None:
        with redis_server(tmp_path) as server:
            client = Redis.from_url(server.url)
            mark = RedisMark(client)
            before = await mark.mark()
            await mark.move()
            assert await mark.mark() not in (None, before)
            server.stop()
            assert await mark.mark() is None  # nothing may be remembered: ask the database
            with pytest.raises(RevocationNotShared, match="revoke it again"):
                await mark.move()
            await client.aclose()

    @pytest.mark.parametrize(
        ("url", "redis", "kind"),
        [
            ("sqlite+aiosqlite:////data/aipaint.db", False, FileMark),
            ("sqlite+aiosqlite:////data/aipaint.db", True, RedisMark),
            ("postgresql+asyncpg://postgres@127.0.0.1/aipaint", True, RedisMark),
            ("postgresql+asyncpg://postgres@127.0.0.1/aipaint", False, NoSharedMark),
            ("sqlite+aiosqlite://", False, NoSharedMark),
        ],
    )
    def test_the_mark_follows_the_deployment(
        self, url: str, redis: bool, kind: type[Revocations]
    ) -> None:
        client = Redis.from_url("redis://127.0.0.1:1/0") if redis else None
        assert isinstance(revocations_for(url, client), kind)
