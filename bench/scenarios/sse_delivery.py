"""sse_delivery: a worker's change of a task reaching an SSE stream on another API process."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any

import httpx
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bench.harness import Context, Figure, Target, percentile, scenario
from bench.server import Cluster, running_cluster, running_simulator

MODEL = "kling-lip-sync/tts"  # a text model: its output lives in the row, nothing to download
PARAMS = {"text": "bench", "voiceId": "genshin_vindi2", "voiceLanguage": "zh", "voiceSpeed": 1}
TASKS, SMOKE_TASKS = 50, 5
BUDGET_QPS = 20
COMMITS_EVERY_S = 0.01  # how often the benchmark reads the tasks' versions from the database
OPEN_LIMIT_S, FOLLOW_LIMIT_S = 30.0, 120.0
NOTE = (
    "Two API processes (`AIPAINT_WORKER=false aipaint serve`) on a PostgreSQL database "
    "(127.0.0.1) and a `redis-server` of their own, pointed at a RunningHub simulator at "
    f"RunningHub's own speed (`--speed 1`). Each repeat starts them afresh, creates {TASKS} "
    f"tasks ({MODEL}, a text model: 0–1 s queued upstream, 2–8 s running, nothing to archive) "
    "through the first API process, opens one SSE stream per task (`GET "
    "/v1/tasks/{id}/events`) on the second, waits until every stream has sent its first "
    "event, and only then starts one `aipaint worker` (polling only, a budget of "
    f"{BUDGET_QPS} queries/s). Every later event is a change the worker committed (the claim "
    "of a submit, the submit's outcome, running, succeeded): each is timed from its commit "
    "to the moment the benchmark read the event's `data:` line. The commit moment is "
    "observed from outside: the benchmark reads every task's `version` from the database "
    f"every {COMMITS_EVERY_S * 1000:g} ms, and a version first seen by one read was committed "
    "after the previous read began, whose start is taken as the commit time (so `commit → "
    "stream` is an upper bound, by at most `commit seen within`, the median time between two "
    "reads' starts); the SSE event's `id:` is the version it shows. This holds what the "
    "worker does after its commit (it publishes the change on Redis), Redis, and what the API "
    "process does (wake the stream, re-read the task from the database, send it). `change → "
    "stream`, for the events that first show `submitted_at` and the final ones: from the "
    "stamp the worker put on the change, taken before it writes it, so it also holds the "
    "worker's own write (its group commit's wait and the transaction). All processes share "
    "the machine's clock. Without the notification a stream still re-reads its task every "
    "second: times near 1 s would mean one was lost."
)


@dataclass(frozen=True)
class Event:
    arrived: float  # Unix time the data line was read
    version: int  # the SSE event's id
    task: dict[str, Any]


@dataclass
class Commits:
    """When each (task, version) was first seen committed: the start of the read before."""

    seen: dict[tuple[str, int], float] = field(default_factory=dict)
    gaps: list[float] = field(default_factory=list)  # between the starts of two reads
    known: dict[str, int] = field(default_factory=dict)  # the newest version read per task
    previous: float | None = None  # when the last read began


@scenario("sse_delivery", "SSE delivery across processes", note=NOTE)
def sse_delivery(ctx: Context) -> list[Figure]:
    tasks = SMOKE_TASKS if ctx.smoke else TASKS
    sim = ctx.shared("simulator", lambda: running_simulator(speed=1))
    env = {
        **sim.env,
        "AIPAINT_UPSTREAM_QPS": str(BUDGET_QPS),
        "AIPAINT_UPSTREAM_CONCURRENCY": "1000",
    }
    with running_cluster(env, apis=2, workers=0) as cluster:
        ids = _create(cluster, tasks)
        streams, commits = asyncio.run(_follow(cluster, ids))
    from_commit: list[float] = []
    from_change: list[float] = []
    for task_id, events in zip(ids, streams, strict=True):
        if events[-1].task["status"] != "succeeded":
            raise RuntimeError(f"a task ended {events[-1].task['status']}")
        # The first event of a stream is the state it found, not a change it was told of.
        for before, event in pairwise(events):
            committed = commits.seen.get((task_id, event.version))
            if committed is None:
                raise RuntimeError(f"version {event.version} of {task_id} was never seen")
            from_commit.append(event.arrived - committed)
            if before.task["submitted_at"] is None and event.task["submitted_at"] is not None:
                from_change.append(event.arrived - _unix(event.task["submitted_at"]))
        if len(events) > 1:
            from_change.append(events[-1].arrived - _unix(events[-1].task["finished_at"]))
    if not from_commit or not from_change:
        raise RuntimeError("no change was timed")
    return [
        Figure("streams", len(streams), "streams"),
        Figure("changes timed", len(from_commit), "changes"),
        Figure("commit → stream p50", percentile(from_commit, 50) * 1000, "ms"),
        Figure("commit → stream p99", percentile(from_commit, 99) * 1000, "ms", Target("<=", 100)),
        Figure("commit → stream max", max(from_commit) * 1000, "ms"),
        Figure("commit seen within", statistics.median(commits.gaps) * 1000, "ms"),
        Figure("change → stream p50", percentile(from_change, 50) * 1000, "ms"),
        Figure("change → stream p99", percentile(from_change, 99) * 1000, "ms"),
    ]


def _create(cluster: Cluster, count: int) -> list[str]:
    """`count` tasks created through the first API process (no worker yet: all stay pending)."""
    headers = {"Authorization": f"Bearer {cluster.token}"}
    ids = []
    with httpx.Client(base_url=cluster.apis[0].url, headers=headers, timeout=30) as client:
        for _ in range(count):
            answer = client.post("/v1/tasks", json={"model": MODEL, "params": PARAMS})
            if answer.status_code != 202:
                raise RuntimeError(f"create: {answer.status_code} {answer.text[:500]}")
            ids.append(answer.json()["id"])
    return ids


async def _follow(cluster: Cluster, ids: list[str]) -> tuple[list[list[Event]], Commits]:
    """Every task's events, from streams on the second API process, the worker started once
    all streams are open; and when each version of each task was committed."""
    headers = {"Authorization": f"Bearer {cluster.token}"}
    limits = httpx.Limits(max_connections=len(ids) + 10, max_keepalive_connections=0)
    timeout = httpx.Timeout(FOLLOW_LIMIT_S, connect=10)
    opened = [asyncio.Event() for _ in ids]
    commits = Commits()
    engine = create_async_engine(cluster.database.url, isolation_level="AUTOCOMMIT")
    try:
        async with (
            engine.connect() as connection,
            httpx.AsyncClient(
                base_url=cluster.apis[1].url, headers=headers, limits=limits, timeout=timeout
            ) as client,
        ):
            watcher = asyncio.create_task(_watch(connection, ids, commits))
            streams = [
                asyncio.create_task(_stream(client, task_id, event))
                for task_id, event in zip(ids, opened, strict=True)
            ]
            try:
                await asyncio.wait_for(
                    asyncio.gather(*(event.wait() for event in opened)), OPEN_LIMIT_S
                )
                await asyncio.to_thread(cluster.start_worker)
                events = await asyncio.wait_for(asyncio.gather(*streams), FOLLOW_LIMIT_S)
            finally:
                for task in [*streams, watcher]:
                    task.cancel()
                await asyncio.gather(*streams, watcher, return_exceptions=True)
        # The last events can reach their streams before the watcher's next read: one more
        # read, begun after every stream ended, sees the commits behind them (on a connection
        # of its own: the watcher may have been cancelled in the middle of a query).
        async with engine.connect() as connection:
            await _read_versions(connection, ids, commits)
    finally:
        await engine.dispose()
    return events, commits


async def _watch(connection: AsyncConnection, ids: Sequence[str], commits: Commits) -> None:
    """Read the tasks' versions over and over."""
    while True:
        await _read_versions(connection, ids, commits)
        await asyncio.sleep(COMMITS_EVERY_S)


async def _read_versions(connection: AsyncConnection, ids: Sequence[str], commits: Commits) -> None:
    """Read the tasks' versions once; note when each new one was first seen."""
    query = text("SELECT id, version FROM tasks WHERE id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    started = time.time()
    rows = (await connection.execute(query, {"ids": list(ids)})).all()
    for task_id, version in rows:
        if commits.previous is not None:
            # Committed after the previous read began (it did not see it), and before now.
            for seen in range(commits.known.get(task_id, 0) + 1, version + 1):
                commits.seen[task_id, seen] = commits.previous
        commits.known[task_id] = max(version, commits.known.get(task_id, 0))
    if commits.previous is not None:
        commits.gaps.append(started - commits.previous)
    commits.previous = started


async def _stream(client: httpx.AsyncClient, task_id: str, opened: asyncio.Event) -> list[Event]:
    events: list[Event] = []
    version = 0
    async with client.stream("GET", f"/v1/tasks/{task_id}/events") as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if line.startswith("id: "):
                version = int(line.removeprefix("id: "))
            elif line.startswith("data: "):
                task = json.loads(line.removeprefix("data: "))
                events.append(Event(time.time(), version, task))
                opened.set()
    if not events:
        raise RuntimeError(f"the stream of {task_id} sent nothing")
    return events


def _unix(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
