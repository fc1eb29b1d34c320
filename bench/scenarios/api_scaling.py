"""api_scaling: submits and task reads with one and two API processes on PostgreSQL and Redis."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from bench.cpu import CpuMeter
from bench.harness import Context, Figure, Target, scenario
from bench.loadgen import LoadResult, generate_load
from bench.scenarios._http import HAS_PROC, p50, p99
from bench.server import Cluster, running_cluster, running_simulator

MODEL = "alibaba/wan-2.7/text-to-image"
PARAMS = {"prompt": "a lighthouse on a cliff at dawn, oil painting"}
SECONDS, CONNECTIONS, READ_TASKS = 4.0, 32, 1000
SMOKE_SECONDS, SMOKE_CONNECTIONS, SMOKE_READ_TASKS = 1.0, 4, 20
CORES = os.cpu_count() or 1
NOTE = (
    "Two API processes (`AIPAINT_WORKER=false aipaint serve`) on a PostgreSQL database (127.0.0.1, "
    "the machine's own) and a `redis-server` of the run's own, each on a free 127.0.0.1 port, "
    "pointed at a RunningHub simulator; **no worker runs**: what is measured is the API "
    "processes' own work, and a worker submitting the tasks to the simulator would take the "
    "same 2 cores (submit_latency measures with one). `1 API`: the load generator's "
    f"{CONNECTIONS} keep-alive httpx connections all go to the first process (the second idles); "
    f"`2 API`: half to each. {SECONDS:g} s per phase, after one untimed request per connection. "
    f"`submit`: `POST /v1/tasks` `{{model, params}}` ({MODEL}), accepted on `202`: the task is "
    "stored pending (one group-committed transaction) and the dispatcher is woken through Redis; "
    "with no worker, the tasks stay pending. `read`: `GET /v1/tasks/{id}` over the "
    f"{READ_TASKS:,} newest of those tasks in turn (pending, so without outputs; task_reads "
    "reads finished ones). CPU, per process, over the timed phase: the API processes' "
    "(`API CPU, each` is their mean in % of one core), the PostgreSQL backends serving this "
    "database (found by their process title every 0.1 s, since the pools open and close "
    "connections under load: a lower bound), `redis-server`'s and the load generator's, each per "
    "request; `CPU busy` is the whole machine's, in % of its "
    f"{CORES} cores, and `CPU of other processes` what none of these used (the benchmark "
    "process itself, and anything else running on the machine, such as another test run: "
    "timings are only as quiet as the machine was). The ratios `2 / 1 API` divide the "
    "throughputs of the same repeat."
)


@scenario("api_scaling", "Submits and task reads with 1 and 2 API processes", note=NOTE)
def api_scaling(ctx: Context) -> list[Figure]:
    seconds, connections, read_tasks = (
        (SMOKE_SECONDS, SMOKE_CONNECTIONS, SMOKE_READ_TASKS)
        if ctx.smoke
        else (SECONDS, CONNECTIONS, READ_TASKS)
    )
    cluster = ctx.shared("cluster", _cluster)
    rates: dict[tuple[str, int], float] = {}
    figures: list[Figure] = []
    body = {"model": MODEL, "params": PARAMS}
    for apis in (1, 2):
        result, meter = _load(cluster, apis, "post", ["/v1/tasks"], body, seconds, connections)
        rates["submit", apis] = result.ok_rate
        figures += _figures(f"{apis} API: submit", result, meter, apis)
    paths = _task_paths(cluster, read_tasks)
    for apis in (1, 2):
        result, meter = _load(cluster, apis, "get", paths, None, seconds, connections)
        rates["read", apis] = result.ok_rate
        figures += _figures(f"{apis} API: read", result, meter, apis)
    figures += [
        Figure("submit: throughput 2 / 1 API", rates["submit", 2] / rates["submit", 1], "×"),
        Figure("read: throughput 2 / 1 API", rates["read", 2] / rates["read", 1], "×"),
    ]
    return figures


@contextmanager
def _cluster() -> Iterator[Cluster]:
    with running_simulator() as sim, running_cluster(sim.env, apis=2, workers=0) as cluster:
        yield cluster


def _load(
    cluster: Cluster,
    apis: int,
    mode: str,
    paths: list[str],
    body: object,
    seconds: float,
    connections: int,
) -> tuple[LoadResult, CpuMeter]:
    targets = cluster.apis[:apis]
    meter = CpuMeter(
        {"api": [api.pid for api in targets], "redis": [cluster.redis.pid]}, cluster.database
    )
    result = generate_load(
        [api.url for api in targets],
        "post" if mode == "post" else "get",
        seconds=seconds,
        connections=connections,
        token=cluster.token,
        paths=paths,
        body=body,
        expect=202 if mode == "post" else 200,
        expect_key="id",
        during=meter,
    )
    return result, meter


def _figures(label: str, result: LoadResult, meter: CpuMeter, apis: int) -> list[Figure]:
    if not result.requests:
        raise RuntimeError(f"{label}: no request completed")
    unit = "tasks/s" if label.endswith("submit") else "req/s"
    figures = [
        Figure(f"{label} throughput", result.ok_rate, unit),
        Figure(f"{label} latency p50", p50(result), "ms"),
        Figure(f"{label} latency p99", p99(result), "ms"),
        Figure(f"{label} errors", result.errors, "requests", Target("<=", 0)),
    ]
    if not HAS_PROC:
        return figures

    def per_request(seconds: float) -> float:
        return seconds / result.requests * 1e6

    ours = meter.ours + result.client_cpu_seconds
    figures += [
        Figure(f"{label}: API CPU, each", meter.seconds("api") / apis / meter.elapsed * 100, "%"),
        Figure(f"{label}: API CPU per request", per_request(meter.seconds("api")), "µs"),
        Figure(f"{label}: PostgreSQL CPU per request", per_request(meter.postgres), "µs"),
        Figure(f"{label}: Redis CPU per request", per_request(meter.seconds("redis")), "µs"),
        Figure(
            f"{label}: load generator CPU per request",
            per_request(result.client_cpu_seconds),
            "µs",
        ),
        Figure(f"{label}: CPU busy", meter.machine_busy / meter.elapsed / CORES * 100, "%"),
        Figure(
            f"{label}: CPU of other processes",
            max(0.0, meter.machine_busy - ours) / meter.elapsed / CORES * 100,
            "%",
        ),
    ]
    return figures


def _task_paths(cluster: Cluster, count: int) -> list[str]:
    """`/v1/tasks/{id}` of the `count` newest tasks (the submit phases made them)."""
    headers = {"Authorization": f"Bearer {cluster.token}"}
    ids: list[str] = []
    cursor: str | None = None
    with httpx.Client(base_url=cluster.apis[0].url, headers=headers, timeout=30) as client:
        while len(ids) < count:
            query: dict[str, str | int] = {"limit": 100}
            if cursor:
                query["cursor"] = cursor
            page = client.get("/v1/tasks", params=query).raise_for_status().json()
            ids += [task["id"] for task in page["tasks"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
    if not ids:
        raise RuntimeError("no task to read")
    return [f"/v1/tasks/{task_id}" for task_id in ids[:count]]
