"""The runtime's shared clients."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from aipaint.runtime import _redis
from tests.conftest import make_settings
from tests.stacks import redis_server

pytestmark = pytest.mark.anyio


async def test_a_burst_of_redis_calls_beyond_the_pool_waits_for_connections(
    tmp_path: Path,
) -> None:
    """A worker's burst (hundreds of jobs enqueued at once, say) never fails for want of a
    connection: past the pool's size, calls wait their turn."""
    with redis_server(tmp_path) as server:
        settings = make_settings(tmp_path, redis_url=server.url)
        redis = _redis(settings)
        assert redis is not None
        try:
            calls = 3 * settings.redis_max_connections
            # Each holds its connection for 50 ms, as SAQ's blocking dequeues do.
            await asyncio.gather(*(redis.blpop([f"none-{n}"], timeout=0.05) for n in range(calls)))
            clients = await redis.client_list()
            assert len(clients) <= settings.redis_max_connections
        finally:
            await redis.aclose()
