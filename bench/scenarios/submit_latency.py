"""submit_latency: what a submit adds to the cheapest request, at 4 connections: on the all-in-one
process, and on an API process whose worker runs apart."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

import httpx

from bench.harness import Context, Figure, Target, scenario
from bench.loadgen import LoadResult, generate_load
from bench.scenarios._http import HAS_PROC, p50, p99
from bench.server import Simulator, running_cluster, running_server, running_simulator

MODEL = "alibaba/wan-2.7/text-to-image"
PARAMS = {"prompt": "a lighthouse on a cliff at dawn, oil painting"}
SECONDS, SMOKE_SECONDS, CONNECTIONS = 3.0, 0.5, 4
DRAIN_LIMIT_S = 60.0
# The worker submits as fast as it can (the default budget, 5 calls/s, would take minutes to
# submit what a phase creates), and only submits: the first poll of a task is put off past
# the run, so that what runs beside the API process is the work a submit itself causes.
ENV = {"AIPAINT_UPSTREAM_QPS": "1000", "AIPAINT_POLL_MIN_S": "3600"}
NOTE = (
    "A RunningHub simulator (at RunningHub's own speed, a concurrency limit it never reaches) "
    "and three shapes of aipaint pointed at it, each process on a free 127.0.0.1 port. "
    "`all-in-one`: one `aipaint serve` (SQLite, its worker in the same process: the shape of "
    "submit_overhead). `API-only`: `AIPAINT_WORKER=false aipaint serve` and one `aipaint "
    "worker` on a PostgreSQL database (127.0.0.1) and a `redis-server` of their own. `API-only, "
    "no worker`: the same without the worker, the API process's own cost (the tasks stay "
    "pending). The load generator holds "
    f"{CONNECTIONS} keep-alive httpx connections for {SECONDS:g} s per phase, after one untimed "
    "request per connection: `healthz` reads `GET /healthz` (no database, no queue), then "
    f"`submit` sends `POST /v1/tasks` `{{model, params}}` ({MODEL}), accepted on `202`. "
    "Meanwhile a worker submits each task to the simulator as in production, as fast as it can "
    "(`AIPAINT_UPSTREAM_QPS=1000`), and only that: the tasks' first polls are put off past the "
    "run (`AIPAINT_POLL_MIN_S=3600`; the simulator's tasks last 10–30 s); after the phase the "
    "run waits until it has submitted them all, so that every phase starts idle. "
    "`added latency` is submit minus healthz (p50 from p50, p99 from p99) in the same shape and "
    "repeat: the cost of a submit's own work (validation, the insert's transaction, waking the "
    "dispatcher), the queueing it causes among 4 connections, and the worker's competition for "
    "the cores. CPU per submit: the process's CPU time over the phase / requests (the "
    "all-in-one process's includes its worker's submits; the API process's does not: the "
    "worker's is given apart). "
    f"**Everything shares the machine's {os.cpu_count()} cores**, the worker and PostgreSQL "
    "included, and p99 over a few seconds is the figure most exposed to whatever else runs on "
    "the machine."
)


@dataclass(frozen=True)
class Shape:
    url: str
    token: str
    api_pid: int
    worker_pid: int | None  # None: no worker, or the one inside the API process
    worker_inside: bool = False


@scenario("submit_latency", "The latency a submit adds over /healthz at 4 connections", note=NOTE)
def submit_latency(ctx: Context) -> list[Figure]:
    seconds = SMOKE_SECONDS if ctx.smoke else SECONDS
    sim = ctx.shared("simulator", lambda: running_simulator(speed=1))
    figures: list[Figure] = []
    shapes = (
        ("all-in-one", partial(_all_in_one, sim)),
        ("API-only", partial(_api_only, sim, 1)),
        ("API-only, no worker", partial(_api_only, sim, 0)),
    )
    for label, factory in shapes:
        shape = ctx.shared(label, factory)
        healthz = _load(shape, "get", seconds)
        submit = _load(shape, "post", seconds)
        if shape.worker_inside or shape.worker_pid is not None:
            _drain(shape)
        target = label == "API-only"
        figures += [
            Figure(f"{label}: healthz latency p50", p50(healthz), "ms"),
            Figure(f"{label}: healthz latency p99", p99(healthz), "ms"),
            Figure(f"{label}: submit latency p50", p50(submit), "ms"),
            Figure(f"{label}: submit latency p99", p99(submit), "ms"),
            Figure(
                f"{label}: added latency p50",
                p50(submit) - p50(healthz),
                "ms",
                Target("<=", 3) if target else None,
            ),
            Figure(
                f"{label}: added latency p99",
                p99(submit) - p99(healthz),
                "ms",
                Target("<=", 15) if target else None,
            ),
            Figure(f"{label}: submit throughput", submit.ok_rate, "tasks/s"),
            Figure(f"{label}: errors", healthz.errors + submit.errors, "requests", Target("<=", 0)),
        ]
        if HAS_PROC:
            figures.append(
                Figure(
                    f"{label}: API process CPU per submit",
                    submit.pid_cpu_seconds[0] / submit.requests * 1e6,
                    "µs",
                )
            )
            if shape.worker_pid is not None:
                figures.append(
                    Figure(
                        f"{label}: worker CPU per submit",
                        submit.pid_cpu_seconds[1] / submit.requests * 1e6,
                        "µs",
                    )
                )
    return figures


@contextmanager
def _all_in_one(sim: Simulator) -> Iterator[Shape]:
    with running_server(env={**sim.env, **ENV}) as server:
        yield Shape(server.url, server.token, server.pid, None, worker_inside=True)


@contextmanager
def _api_only(sim: Simulator, workers: int) -> Iterator[Shape]:
    with running_cluster({**sim.env, **ENV}, apis=1, workers=workers) as cluster:
        api = cluster.apis[0]
        worker = cluster.workers[0] if cluster.workers else None
        yield Shape(api.url, cluster.token, api.pid, worker)


def _load(shape: Shape, mode: str, seconds: float) -> LoadResult:
    pids = [shape.api_pid] + ([shape.worker_pid] if shape.worker_pid is not None else [])
    if mode == "get":
        return generate_load(
            shape.url,
            "get",
            seconds=seconds,
            connections=CONNECTIONS,
            token=shape.token,
            paths=["/healthz"],
            expect_key="status",
            pids=pids,
        )
    return generate_load(
        shape.url,
        "post",
        seconds=seconds,
        connections=CONNECTIONS,
        token=shape.token,
        paths=["/v1/tasks"],
        body={"model": MODEL, "params": PARAMS},
        expect=202,
        expect_key="id",
        pids=pids,
    )


def _drain(shape: Shape) -> None:
    """Until the worker has submitted every task (none is pending)."""
    deadline = time.monotonic() + DRAIN_LIMIT_S
    headers = {"Authorization": f"Bearer {shape.token}"}
    with httpx.Client(base_url=shape.url, headers=headers, timeout=10) as client:
        while time.monotonic() < deadline:
            page = client.get("/v1/tasks", params={"status": "pending", "limit": 1})
            if not page.raise_for_status().json()["tasks"]:
                return
            time.sleep(0.1)
    raise RuntimeError(f"the worker did not submit every task within {DRAIN_LIMIT_S:g} s")
