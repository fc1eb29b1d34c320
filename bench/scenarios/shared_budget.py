"""shared_budget: 10,000 tasks in flight, tracked by two worker processes under one query budget."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from aipaint.simulator.state import mask_key
from bench.cpu import CpuMeter
from bench.harness import Context, Figure, Target, scenario
from bench.querylog import POLL_S as QUERY_LOG_POLL_S
from bench.querylog import QueryLog, peak_rate
from bench.scenarios._http import HAS_PROC
from bench.seeding import Seeder
from bench.server import Cluster, Simulator, peak_rss_bytes, running_cluster, running_simulator

BUDGET_QPS = 20.0
WORKERS = 2
MODEL = "kling-lip-sync/tts"  # a text model: its output lives in the row, nothing to download
PARAMS = {"text": "bench", "voiceId": "genshin_vindi2", "voiceLanguage": "zh", "voiceSpeed": 1}
RUN_S = (3_600.0, 7_200.0)  # every task runs far longer than the benchmark: all stay in flight


@dataclass(frozen=True)
class Size:
    tasks: int
    window_s: float  # real seconds each repeat watches


FULL, SMOKE = Size(10_000, 20.0), Size(300, 4.0)
NOTE = (
    f"{FULL.tasks:,} tasks are put in flight the way a restart finds them (`bench/seeding.py`: "
    "running on a RunningHub simulator at real speed, `--speed 1`, a text model, each lasting "
    f"1–2 hours; stored `queued` in a PostgreSQL database, 127.0.0.1), then {WORKERS} "
    "`aipaint worker` processes start on it, sharing a `redis-server` of the run's own and "
    f"one budget: `AIPAINT_UPSTREAM_QPS={BUDGET_QPS:g}`, polling only (no API process: nothing "
    "else calls). Both start at once, so both start-up sweeps find every task due together. "
    f"The repeats are consecutive {FULL.window_s:g} s windows of that one run, the first "
    "beginning as soon as both workers have started (the burst a restart makes is in it). "
    "`peak calls in a second` is the simulator's own count (`/simulator/stats`: the busiest "
    "one-second window of any call with the key, queries and queue-status calls alike, since "
    "it started, so each repeat's value covers the run so far); `peak queries in a second`, "
    "`peak query rate over 10 s` (the most queries in any 10 s, per second: the window "
    "tracking uses) and `mean query rate` come from the simulator's request log, over the "
    "window. `tasks polled` "
    "counts the tasks whose first poll has moved them to `running` (each was polled at least "
    "once), and `polls beyond one per task` the queries over that: with 10,000 tasks at 20 "
    "queries/s each task's fair share is one poll every 500 s, so within the run no task should "
    "be polled twice, whichever worker polls it. CPU and peak RSS (VmHWM) per worker process. "
    "How the budget spends its calls: whenever its window (1.1 s, on Redis's clock) has room, "
    "the callers waiting take every free slot at once, so the queries leave in bursts of up to "
    "20 a window; the simulator counts each as it handles it, so a burst that reaches it (or is "
    "handled) more slowly than the next one can put more than 20 into one second there."
)


@dataclass(frozen=True)
class Run:
    cluster: Cluster
    log: QueryLog  # every query since before the workers started


@scenario("shared_budget", "10,000 tasks in flight, two workers, one query budget", note=NOTE)
def shared_budget(ctx: Context) -> list[Figure]:
    size = SMOKE if ctx.smoke else FULL
    sim = ctx.shared("simulator", lambda: running_simulator(speed=1))
    run = ctx.shared("run", lambda: _run(sim, size.tasks))
    cluster = run.cluster
    pids = {f"worker {n + 1}": [pid] for n, pid in enumerate(cluster.workers)}
    with CpuMeter(pids, cluster.database) as meter:
        started = time.time()
        time.sleep(size.window_s)
        ended = time.time()
    time.sleep(3 * QUERY_LOG_POLL_S)  # the log has read every query of the window by now
    window = [at for at in run.log.times if started <= at < ended]
    stats = httpx.get(f"{sim.url}/simulator/stats", timeout=30).raise_for_status().json()
    peak_calls = stats["peak_calls_per_second_by_key"].get(mask_key(sim.key), 0)
    polled = int(
        cluster.database.query("SELECT count(*) FROM tasks WHERE status = 'running'")[0][0]
    )
    budget = Target("<=", BUDGET_QPS)
    figures = [
        Figure("tasks in flight", size.tasks, "tasks"),
        Figure("peak calls in a second (simulator)", peak_calls, "calls", budget),
        Figure("peak queries in a second", peak_rate(window, 1.0), "queries", budget),
        Figure("peak query rate over 10 s", peak_rate(window, 10.0), "queries/s", budget),
        Figure("mean query rate", len(window) / (ended - started), "queries/s"),
        Figure("tasks polled, run so far", polled, "tasks"),
        Figure("polls beyond one per task, run so far", len(run.log.times) - polled, "queries"),
    ]
    if HAS_PROC:
        for name, worker_pids in pids.items():
            figures += [
                Figure(f"{name}: CPU", meter.seconds(name) / meter.elapsed * 100, "% of a core"),
                Figure(f"{name}: peak RSS", peak_rss_bytes(worker_pids[0]) / 2**20, "MB"),
            ]
        figures.append(
            Figure("PostgreSQL CPU", meter.postgres / meter.elapsed * 100, "% of a core")
        )
    return figures


@contextmanager
def _run(sim: Simulator, tasks: int) -> Iterator[Run]:
    seeder = Seeder(sim, count=tasks, model=MODEL, params=PARAMS, run_s=RUN_S, webhooks=False)
    env = {
        **sim.env,
        "AIPAINT_UPSTREAM_QPS": f"{BUDGET_QPS:g}",
        "AIPAINT_UPSTREAM_CONCURRENCY": "1000000",
    }
    with (
        QueryLog(sim.url) as log,
        running_cluster(env, apis=0, workers=WORKERS, prepare=seeder) as cluster,
    ):
        yield Run(cluster, log)
