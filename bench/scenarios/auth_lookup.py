"""auth_lookup: what checking a token against the database costs, per request.

Every `/v1` request pays it, so that a revoked token is refused on the next request in every
process sharing the database (a per-process cache of tokens would outlive a revocation).
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
import time
from pathlib import Path

from aipaint.accounts.service import authenticate, create_user
from aipaint.db import create_engine, migrate, session_factory, transaction
from bench.harness import Context, Figure, Target, percentile, scenario

USERS, LOOKUPS = 10_000, 2_000
SMOKE_USERS, SMOKE_LOOKUPS = 20, 20
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
NOTE = (
    "`authenticate` as `current_user` calls it on every `/v1` request: a connection from the "
    "app's pool, one Core `SELECT` of three columns by the token's sha256 on the "
    f"`users.token_hash` unique index, `revoked_at IS NULL`. {USERS:,} users in the table; "
    f"{LOOKUPS:,} lookups of random valid tokens in a row, each timed with `perf_counter`, in one "
    "process, on SQLite (WAL, a file in a temp dir) and on the machine's PostgreSQL over "
    "127.0.0.1. What the lookup adds to a request shows in `model_reads`, the one hot route "
    "that touched no database before tokens were checked on every request."
)


@scenario("auth_lookup", "Token lookup per request", note=NOTE)
def auth_lookup(ctx: Context) -> list[Figure]:
    users, lookups = (SMOKE_USERS, SMOKE_LOOKUPS) if ctx.smoke else (USERS, LOOKUPS)
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = f"sqlite+aiosqlite:///{Path(tmp) / 'auth.db'}"
        figures += _figures("SQLite", asyncio.run(_measure(sqlite, users, lookups)))
    database = f"aipaint_bench_auth_{int(time.time())}"
    if _psql(f"CREATE DATABASE {database}"):
        try:
            url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}"
            figures += _figures("PostgreSQL", asyncio.run(_measure(url, users, lookups)))
        finally:
            _psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    return figures


def _figures(label: str, timings_us: list[float]) -> list[Figure]:
    return [
        Figure(f"{label}: lookup p50", percentile(timings_us, 50), "µs", Target("<", 3000)),
        Figure(f"{label}: lookup p99", percentile(timings_us, 99), "µs"),
    ]


async def _measure(url: str, users: int, lookups: int) -> list[float]:
    engine = create_engine(url)
    try:
        await migrate(engine)
        sessions = session_factory(engine)
        tokens = []
        async with transaction(sessions) as session:
            for number in range(users):
                _, token = await create_user(session, f"user{number}")
                tokens.append(token)
        timings = []
        for number in range(lookups):
            token = tokens[(number * 7919) % len(tokens)]
            start = time.perf_counter()
            async with engine.connect() as connection:
                await authenticate(connection, token)
            timings.append((time.perf_counter() - start) * 1e6)
        return timings
    finally:
        await engine.dispose()


def _psql(statement: str) -> bool:
    done = subprocess.run(["psql", POSTGRES_ADMIN, "-q", "-c", statement], capture_output=True)
    return done.returncode == 0
