"""auth_lookup: what checking a token costs, per request.

Every `/v1` request pays it. The process's `Authenticator` asks the database the first time it
meets a token, and again after any revoke anywhere; otherwise it answers from memory once it has
read the revocation mark (a stat of a file beside SQLite, a Redis GET with Redis).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from aipaint.accounts.revocations import Revocations, revocations_for
from aipaint.accounts.service import Authenticator, create_user
from aipaint.db import create_engine, migrate, session_factory, transaction
from bench.harness import Context, Figure, Target, percentile, scenario
from bench.server import postgres_database, running_redis

USERS, LOOKUPS = 10_000, 2_000
SMOKE_USERS, SMOKE_LOOKUPS = 20, 20
NOTE = (
    "The `Authenticator` as `current_user` calls it on every `/v1` request. "
    f"{USERS:,} users in the table; {LOOKUPS:,} lookups of random valid tokens in a row, each "
    "timed with `perf_counter`, in one process. `first sight`: a token this process has not met "
    "since the last revoke, so one Core `SELECT` on the `users.token_hash` unique index through "
    "a pooled connection; `known`: the same tokens again, answered from memory after reading "
    "the revocation mark. SQLite (WAL, a file in a temp dir, the mark a file beside it) and the "
    "machine's PostgreSQL over 127.0.0.1 (the mark in a `redis-server` of the run's own)."
)


@scenario("auth_lookup", "Token check per request", note=NOTE)
def auth_lookup(ctx: Context) -> list[Figure]:
    users, lookups = (SMOKE_USERS, SMOKE_LOOKUPS) if ctx.smoke else (USERS, LOOKUPS)
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = f"sqlite+aiosqlite:///{Path(tmp) / 'auth.db'}"
        timings = asyncio.run(_measure(sqlite, None, users, lookups))
        figures += _figures("SQLite", timings)
    with postgres_database() as database, running_redis() as redis:
        timings = asyncio.run(_measure(database.url, redis.url, users, lookups))
        figures += _figures("PostgreSQL + Redis", timings)
    return figures


def _figures(label: str, timings: dict[str, list[float]]) -> list[Figure]:
    figures = []
    for kind, target in (("first sight", 3000.0), ("known", 300.0)):
        figures += [
            Figure(
                f"{label}, {kind}: p50", percentile(timings[kind], 50), "µs", Target("<", target)
            ),
            Figure(f"{label}, {kind}: p99", percentile(timings[kind], 99), "µs"),
        ]
    return figures


async def _measure(
    url: str, redis_url: str | None, users: int, lookups: int
) -> dict[str, list[float]]:
    engine = create_engine(url)
    redis = Redis.from_url(redis_url) if redis_url else None
    try:
        await migrate(engine)
        tokens = await _tokens(engine, users)
        revocations: Revocations = revocations_for(url, redis)
        authenticator = Authenticator(engine, revocations, size=lookups)
        picks = [tokens[(number * 7919) % len(tokens)] for number in range(lookups)]
        first = await _timed(authenticator, picks)
        known = await _timed(authenticator, picks)
        return {"first sight": first, "known": known}
    finally:
        if redis is not None:
            await redis.aclose()
        await engine.dispose()


async def _tokens(engine: AsyncEngine, users: int) -> list[str]:
    tokens = []
    async with transaction(session_factory(engine)) as session:
        for number in range(users):
            _, token = await create_user(session, f"user{number}")
            tokens.append(token)
    return tokens


async def _timed(check: Authenticator, tokens: list[str]) -> list[float]:
    timings = []
    for token in tokens:
        start = time.perf_counter()
        await check(token)
        timings.append((time.perf_counter() - start) * 1e6)
    return timings
