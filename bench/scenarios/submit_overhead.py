"""submit_overhead: creating tasks through aipaint vs. submitting them straight to the simulator."""

from __future__ import annotations

import os
import time
from contextlib import ExitStack

import httpx

from aipaint.simulator.settings import DEMO_KEY
from bench.harness import Context, Figure, Target, scenario
from bench.loadgen import LoadResult, generate_load
from bench.scenarios._http import load_figures, p50, p99
from bench.server import Server, Simulator, running_server, running_simulator

MODEL = "alibaba/wan-2.7/text-to-image"
PARAMS = {"prompt": "a lighthouse on a cliff at dawn, oil painting"}
# aipaint's worker submits with the first key, the direct phases with the second: the
# simulator counts each key's submits apart, and each key has its own (huge) concurrency limit.
WORKER_KEY, DIRECT_KEY = DEMO_KEY, "aipaint-simulator-bench-key-0002"
SIM_CONCURRENCY = 1_000_000
SECONDS, CONNECTIONS, SERIAL_SECONDS, DRAIN_LIMIT_S = 4.0, 32, 1.5, 30.0
SMOKE_SECONDS, SMOKE_CONNECTIONS, SMOKE_SERIAL_SECONDS, SMOKE_DRAIN_LIMIT_S = 1.0, 4, 0.5, 10.0
NOTE = (
    f"Each repeat starts a fresh RunningHub simulator (`aipaint simulator --speed 1000 "
    f"--concurrency {SIM_CONCURRENCY}`, so that its limit never refuses a submit) and a fresh "
    "`aipaint serve` pointed at it (SQLite in a temp dir, the in-process worker on, webhooks off, "
    "default polling), each its own process on a free 127.0.0.1 port. The load generator, "
    f"another process, holds {CONNECTIONS} keep-alive httpx connections for {SECONDS:g} s per "
    f"phase, after one untimed request per connection. `direct`: `POST /openapi/v2/{MODEL}` "
    "with a Bearer key straight to the simulator, accepted when it answers a `taskId`. "
    "`aipaint`: `POST /v1/tasks` `{model, params}` for the same model and prompt, accepted on "
    "`202`; meanwhile the worker submits each task to the simulator from the same server "
    "process, as in production. Anything else is an error. Throughput: tasks accepted within "
    "the phase, per second of it. Latency: per request as the client sees it, queueing "
    f"included, so under {CONNECTIONS} connections it is mostly {CONNECTIONS} / throughput, and "
    "`added latency` (aipaint minus direct, p50 and p99) mostly restates the throughput gap; "
    f"the `1 connection` figures time one request at a time for {SERIAL_SECONDS:g} s each, the "
    "latency aipaint adds without queueing. CPU per request: the process's CPU time over the "
    "phase / requests (the aipaint process's includes its worker's submits). "
    f"**The load generator, aipaint and the simulator share the machine's {os.cpu_count()} "
    "cores.** `worker backlog drained in`: after the aipaint phase, the time until no task is "
    f"pending, i.e. all were submitted upstream ({DRAIN_LIMIT_S:g} means: not by then)."
)


@scenario("submit_overhead", "Task submission: through aipaint vs. straight upstream", note=NOTE)
def submit_overhead(ctx: Context) -> list[Figure]:
    if ctx.smoke:
        seconds, connections, serial, drain_limit = (
            SMOKE_SECONDS,
            SMOKE_CONNECTIONS,
            SMOKE_SERIAL_SECONDS,
            SMOKE_DRAIN_LIMIT_S,
        )
    else:
        seconds, connections, serial, drain_limit = (
            SECONDS,
            CONNECTIONS,
            SERIAL_SECONDS,
            DRAIN_LIMIT_S,
        )
    # A fresh pair per repeat: no repeat inherits the previous one's tasks or worker backlog.
    with ExitStack() as stack:
        sim = stack.enter_context(
            running_simulator(concurrency=SIM_CONCURRENCY, keys=(WORKER_KEY, DIRECT_KEY))
        )
        server = stack.enter_context(running_server(env=sim.env))
        direct = _direct(sim, seconds, connections)
        direct_one = _direct(sim, serial, 1)
        through_one = _through(server, sim, serial, 1)
        _drain(server, drain_limit)  # the loaded phase starts with an idle worker
        through = _through(server, sim, seconds, connections)
        drained_in = _drain(server, drain_limit)
        accepted = sum(r.requests - r.errors for r in (through_one, through))
        if drained_in < drain_limit and sim.submits(WORKER_KEY) < accepted:
            raise RuntimeError("aipaint accepted tasks that never reached the simulator")

    rate_target = Target(">=", 500)
    figures = load_figures(
        "aipaint",
        through,
        unit="tasks/s",
        rate_target=rate_target,
        cpu_names=("server", "simulator"),
    )
    figures += load_figures("direct", direct, unit="tasks/s", cpu_names=("simulator",))
    figures += [
        Figure("throughput ratio aipaint / direct", through.ok_rate / direct.ok_rate, "×"),
        Figure("added latency p50", p50(through) - p50(direct), "ms", Target("<=", 3)),
        Figure("added latency p99", p99(through) - p99(direct), "ms", Target("<=", 15)),
        Figure("1 connection: aipaint latency p50", p50(through_one), "ms"),
        Figure("1 connection: direct latency p50", p50(direct_one), "ms"),
        Figure("1 connection: added latency p50", p50(through_one) - p50(direct_one), "ms"),
        Figure("1 connection: added latency p99", p99(through_one) - p99(direct_one), "ms"),
        Figure(
            "1 connection: errors",
            through_one.errors + direct_one.errors,
            "requests",
            Target("<=", 0),
        ),
        Figure("worker backlog drained in", drained_in, "s"),
    ]
    return figures


def _direct(sim: Simulator, seconds: float, connections: int) -> LoadResult:
    return generate_load(
        sim.url,
        "post",
        seconds=seconds,
        connections=connections,
        headers={"Authorization": f"Bearer {DIRECT_KEY}"},
        paths=[f"/openapi/v2/{MODEL}"],
        body=PARAMS,
        expect=200,
        expect_key="taskId",
        pids=(sim.pid,),
    )


def _through(server: Server, sim: Simulator, seconds: float, connections: int) -> LoadResult:
    return generate_load(
        server.url,
        "post",
        seconds=seconds,
        connections=connections,
        token=server.token,
        paths=["/v1/tasks"],
        body={"model": MODEL, "params": PARAMS},
        expect=202,
        expect_key="id",
        pids=(server.pid, sim.pid),
    )


def _drain(server: Server, limit: float) -> float:
    """Seconds until aipaint has no pending task (all submitted upstream); `limit` at most."""
    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
        while (elapsed := time.perf_counter() - started) < limit:
            page = client.get("/v1/tasks", params={"status": "pending", "limit": 1})
            if not page.raise_for_status().json()["tasks"]:
                return elapsed
            time.sleep(0.1)
    print(f"  worker backlog not drained in {limit:g} s", flush=True)
    return limit
