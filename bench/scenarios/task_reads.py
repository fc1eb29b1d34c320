"""task_reads: `GET /v1/tasks/{id}` over real HTTP, against `GET /healthz` in the same run."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from bench.harness import Context, Figure, Target, scenario
from bench.loadgen import LoadResult, generate_load
from bench.scenarios._http import HAS_PROC, cpu_us, load_figures, p99
from bench.server import Server, running_server, running_simulator

MODEL = "alibaba/wan-2.7/text-to-image"
TASKS, SECONDS, CONNECTIONS = 500, 4.0, 32
SMOKE_TASKS, SMOKE_SECONDS, SMOKE_CONNECTIONS = 20, 1.0, 4
FINISH_TIMEOUT_S = 180.0
# Tracking as fast as the e2e tests': a simulated task lasts milliseconds at speed 1000.
FAST_TRACKING = {
    "AIPAINT_POLL_MIN_S": "0.05",
    "AIPAINT_POLL_MAX_S": "0.3",
    "AIPAINT_UPSTREAM_QPS": "500",
    "AIPAINT_ARCHIVE_BACKOFF_S": "0.05",
}
NOTE = (
    "A RunningHub simulator (`--speed 1000`) and `aipaint serve` pointed at it (SQLite, worker on, "
    f"fast polling), each its own process on a free 127.0.0.1 port. Before the first repeat, "
    f"{TASKS} text-to-image tasks ({MODEL}) are created and run to `succeeded` (submitted, "
    "tracked, one output archived each), so the worker is idle while reads are timed. The load "
    f"generator, another process, holds {CONNECTIONS} keep-alive httpx connections for "
    f"{SECONDS:g} s per phase, after one untimed pass: `task` reads every task in turn (must "
    "answer 200 with the task's id), `healthz` reads `GET /healthz`, the cheapest route, as the "
    "baseline of the same run (same client, same headers). "
    f"**The load generator shares the machine's {os.cpu_count()} cores with the server**, and "
    "httpx costs it more CPU per request than the server spends on the cheap route, so req/s "
    "is bounded by the client as much as by the server (see model_reads). `server capacity "
    "(1 core)` is 1 s / the server's CPU per request, what one fully busy core could serve; "
    "`task read cost over healthz` is the server CPU a task read adds to the cheapest request."
)


@dataclass(frozen=True)
class Stack:
    server: Server
    paths: list[str]


@scenario("task_reads", "Task reads over HTTP", note=NOTE)
def task_reads(ctx: Context) -> list[Figure]:
    tasks, seconds, connections = (
        (SMOKE_TASKS, SMOKE_SECONDS, SMOKE_CONNECTIONS)
        if ctx.smoke
        else (TASKS, SECONDS, CONNECTIONS)
    )
    stack = ctx.shared("stack", lambda: _stack(tasks))
    server = stack.server

    def load(paths: list[str], expect_key: str | None) -> LoadResult:
        return generate_load(
            server.url,
            "get",
            seconds=seconds,
            connections=connections,
            token=server.token,
            paths=paths,
            expect=200,
            expect_key=expect_key,
            pids=(server.pid,),
        )

    healthz = load(["/healthz"], "status")
    task = load(stack.paths, "id")
    figures = load_figures("healthz", healthz)
    figures += load_figures("task", task, rate_target=Target(">=", 2000))
    figures += [
        Figure("task / healthz throughput ratio", task.ok_rate / healthz.ok_rate, "×"),
        Figure("task p99 over healthz p99", p99(task) - p99(healthz), "ms"),
    ]
    if HAS_PROC:
        task_us = cpu_us(task.server_cpu_seconds, task)
        healthz_us = cpu_us(healthz.server_cpu_seconds, healthz)
        figures += [
            Figure("task: server capacity (1 core)", 1e6 / task_us, "req/s"),
            Figure("healthz: server capacity (1 core)", 1e6 / healthz_us, "req/s"),
            Figure("task read cost over healthz", task_us - healthz_us, "µs"),
        ]
    figures.append(Figure("tasks read", len(stack.paths), "tasks"))
    return figures


@contextmanager
def _stack(count: int) -> Iterator[Stack]:
    with (
        running_simulator() as sim,
        running_server(env={**sim.env, **FAST_TRACKING}) as server,
    ):
        headers = {"Authorization": f"Bearer {server.token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            ids = _create(client, count)
            _wait_succeeded(client, set(ids))
        yield Stack(server, [f"/v1/tasks/{task_id}" for task_id in ids])


def _create(client: httpx.Client, count: int) -> list[str]:
    def create(index: int) -> str:
        body = {"model": MODEL, "params": {"prompt": f"bench task {index}: a red fox in snow"}}
        response = client.post("/v1/tasks", json=body)
        if response.status_code != 202:
            raise RuntimeError(f"create: {response.status_code} {response.text[:500]}")
        task_id: str = response.json()["id"]
        return task_id

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(create, range(count)))


def _wait_succeeded(client: httpx.Client, ids: set[str]) -> None:
    """Until every task in `ids` is final (FINISH_TIMEOUT_S at most); all must have succeeded."""
    deadline = time.monotonic() + FINISH_TIMEOUT_S
    while True:
        statuses = _statuses(client)
        mine = {task_id: statuses.get(task_id, "missing") for task_id in ids}
        counts = Counter(mine.values())
        if all(status in ("succeeded", "failed", "canceled") for status in mine.values()):
            if counts["succeeded"] != len(ids):
                raise RuntimeError(f"not every task succeeded: {dict(counts)}")
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"tasks not final after {FINISH_TIMEOUT_S:g} s: {dict(counts)}")
        time.sleep(0.5)


def _statuses(client: httpx.Client) -> dict[str, str]:
    """Every task's status, from the paginated list (100 a page, a bounded number of pages)."""
    statuses: dict[str, str] = {}
    cursor: str | None = None
    for _ in range(10_000):
        params: dict[str, str | int] = {"limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/tasks", params=params).raise_for_status().json()
        statuses.update({task["id"]: task["status"] for task in page["tasks"]})
        cursor = page["next_cursor"]
        if not cursor:
            return statuses
    raise RuntimeError("too many pages of tasks")
