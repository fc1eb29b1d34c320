"""tracking: thousands of tasks in flight under one budget of queries, polling vs. webhooks."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.harness import Context, Figure, Target, percentile, scenario
from bench.querylog import QueryLog, peak_rate
from bench.scenarios._http import HAS_PROC
from bench.seeding import SECRET_ENV, Seeder, final_tasks
from bench.server import (
    Server,
    Simulator,
    cpu_seconds,
    peak_rss_bytes,
    running_server,
    running_simulator,
)

# Time runs SPEEDUP times faster than RunningHub's: the simulator's tasks, aipaint's polling
# intervals and its query budget alike, so the run is the nominal one, only shorter. Figures
# are given back in nominal units (RunningHub seconds, queries per RunningHub second).
SPEEDUP = 10.0
BUDGET_QPS = 20.0
MODEL = "kling-lip-sync/tts"  # a text model: its output lives in the row, nothing to download
PARAMS = {"text": "bench", "voiceId": "genshin_vindi2", "voiceLanguage": "zh", "voiceSpeed": 1}
PEAK_WINDOW_S = 10.0  # nominal seconds


@dataclass(frozen=True)
class Size:
    hold_tasks: int  # in flight while memory and the query rate under pressure are measured
    hold_s: float  # nominal seconds they are tracked
    tasks: int  # tracked to the end, for the completion delays
    run_s: tuple[float, float]  # nominal run time of each, uniform


FULL = Size(hold_tasks=10_000, hold_s=60.0, tasks=1_000, run_s=(30.0, 120.0))
# Long enough that every task still runs once aipaint is up, on a busy machine too.
SMOKE = Size(hold_tasks=200, hold_s=10.0, tasks=40, run_s=(80.0, 120.0))
FINISH_LIMIT_S = 120.0  # real seconds after the last upstream finish

NOTE = (
    f"Time runs {SPEEDUP:g}× faster than RunningHub's for everything: the simulator "
    f"(`--speed {SPEEDUP:g}`), aipaint's polling bounds (`AIPAINT_POLL_MIN_S` / `_MAX_S` / "
    f"`SWEEP_INTERVAL_S` divided by {SPEEDUP:g}) and its query budget (`AIPAINT_UPSTREAM_QPS` = "
    f"{BUDGET_QPS:g} × {SPEEDUP:g}); rates and delays are reported back in RunningHub time. "
    "Tasks are put in flight the way a restart finds them (`bench/seeding.py`): running upstream "
    "(`POST /simulator/tasks`, a text model so that nothing has to be downloaded) and stored "
    "`queued` in aipaint's database before `aipaint serve` starts; submitting them through the "
    "API would take minutes (submit_overhead measures that path). `hold`: "
    f"{FULL.hold_tasks:,} tasks running longer than the phase, tracked for {FULL.hold_s:g} s "
    "(polling only): aipaint's peak RSS (VmHWM) and CPU, and the peak query rate the simulator "
    f"saw in any {PEAK_WINDOW_S:g} s window. `polling` and `webhooks`: {FULL.tasks:,} tasks "
    f"lasting {FULL.run_s[0]:g}–{FULL.run_s[1]:g} s (uniform), tracked until every one is "
    "reported `succeeded`; completion delay = aipaint's `finished_at` − the simulator's end "
    "time. **Reduced**: 10,000 tasks tracked to the end under 20 queries/s take at least "
    "10,000 / 20 = 500 s of RunningHub time per run, too long for the 10-minute benchmark with "
    "three repeats of two modes, so the delay phases track 1,000; the hold phase keeps 10,000 "
    "in flight for memory and the budget. With webhooks on, aipaint polls 4× less often, with "
    "at most half the budget, and each webhook makes it query the task at once, ahead of any "
    "routine poll, under the same budget. The webhook delays are as measured, in milliseconds "
    "of real time, not scaled: the load behind them (the query rate) is ten times RunningHub's, "
    "so they overstate what the nominal load would see. `aipaint CPU (sped up)` is likewise the "
    "CPU of the ten-times load."
)


def _env(sim: Simulator) -> dict[str, str]:
    return {
        **sim.env,
        **SECRET_ENV,
        "AIPAINT_UPSTREAM_QPS": f"{BUDGET_QPS * SPEEDUP:g}",
        "AIPAINT_POLL_MIN_S": f"{2.0 / SPEEDUP:g}",
        "AIPAINT_POLL_MAX_S": f"{30.0 / SPEEDUP:g}",
        "AIPAINT_SWEEP_INTERVAL_S": f"{5.0 / SPEEDUP:g}",
        "AIPAINT_UPSTREAM_CONCURRENCY": "1000000",
    }


@scenario("tracking", "Tracking thousands of tasks under a query budget", note=NOTE)
def tracking(ctx: Context) -> list[Figure]:
    size = SMOKE if ctx.smoke else FULL
    figures = _hold(size)
    figures += _to_the_end("polling", size, webhooks=False)
    figures += _to_the_end("webhooks", size, webhooks=True)
    return figures


def _hold(size: Size) -> list[Figure]:
    with running_simulator(speed=SPEEDUP) as sim:
        seeded = _seeder(sim, size.hold_tasks, (size.hold_s * 10, size.hold_s * 20), webhooks=False)
        with running_server(env=_env(sim), prepare=seeded) as server, QueryLog(sim.url) as log:
            cpu_before, started = cpu_seconds(server.pid), time.perf_counter()
            time.sleep(size.hold_s / SPEEDUP)
            cpu = cpu_seconds(server.pid) - cpu_before
            elapsed = time.perf_counter() - started
            peak_rss = peak_rss_bytes(server.pid)
    label = f"hold ({size.hold_tasks:,} in flight)"
    figures = [
        _peak_rate(label, log),
        Figure(f"{label}: mean query rate", len(log.times) / elapsed / SPEEDUP, "queries/s"),
    ]
    if HAS_PROC:
        figures += [
            Figure(f"{label}: aipaint peak RSS", peak_rss / 2**20, "MB", Target("<", 300)),
            Figure(f"{label}: aipaint CPU (sped up)", cpu / elapsed * 100, "% of a core"),
        ]
    return figures


def _to_the_end(label: str, size: Size, *, webhooks: bool) -> list[Figure]:
    with running_simulator(speed=SPEEDUP) as sim:
        seeder = _seeder(sim, size.tasks, size.run_s, webhooks=webhooks)
        with running_server(env=_env(sim), webhooks=webhooks, prepare=seeder) as server:
            up_at = time.time()
            with QueryLog(sim.url) as log:
                cpu_before, started = cpu_seconds(server.pid), time.perf_counter()
                finished = _wait_finished(server, seeder.ends_at)
                cpu = cpu_seconds(server.pid) - cpu_before
                elapsed = time.perf_counter() - started
            peak_rss = peak_rss_bytes(server.pid)
    # A task that ended before aipaint was up would charge its start-up to tracking.
    delays = [finished[task_id] - end for task_id, end in seeder.ends_at.items() if end > up_at]
    if len(delays) < 0.9 * size.tasks:
        raise RuntimeError(f"only {len(delays)} tasks ended after aipaint was up")
    figures = [
        _peak_rate(label, log),
        Figure(f"{label}: queries per task", len(log.times) / size.tasks, "queries"),
        Figure(f"{label}: tasks timed", len(delays), "tasks"),
    ]
    if webhooks:
        # The webhook path is not slowed down with the clock: its delay is reported as measured.
        figures += [
            Figure(f"{label}: completion delay p50", percentile(delays, 50) * 1000, "ms"),
            Figure(
                f"{label}: completion delay p99",
                percentile(delays, 99) * 1000,
                "ms",
                Target("<", 500),
            ),
        ]
    else:
        figures += [
            Figure(f"{label}: completion delay p50", percentile(delays, 50) * SPEEDUP, "s"),
            Figure(f"{label}: completion delay p99", percentile(delays, 99) * SPEEDUP, "s"),
        ]
    if HAS_PROC:
        figures += [
            Figure(f"{label}: aipaint peak RSS", peak_rss / 2**20, "MB", Target("<", 300)),
            Figure(f"{label}: aipaint CPU (sped up)", cpu / elapsed * 100, "% of a core"),
        ]
    return figures


def _wait_finished(server: Server, ends_at: dict[str, float]) -> dict[str, float]:
    """Each task's `finished_at`, once all are; every one must have succeeded in time."""
    last_end = max(ends_at.values())
    while True:
        time.sleep(max(0.5, min(last_end - time.time(), 2.0)))
        tasks = final_tasks(server.url, server.token)
        if len(tasks) == len(ends_at):
            failed = [task_id for task_id, (status, _) in tasks.items() if status != "succeeded"]
            if failed:
                raise RuntimeError(f"{len(failed)} tasks did not succeed, e.g. {failed[0]}")
            return {task_id: at for task_id, (_, at) in tasks.items()}
        if time.time() > last_end + FINISH_LIMIT_S:
            raise RuntimeError(f"{len(ends_at) - len(tasks)} tasks unfinished after the deadline")


def _seeder(sim: Simulator, count: int, run_s: tuple[float, float], *, webhooks: bool) -> Seeder:
    return Seeder(sim, count=count, model=MODEL, params=PARAMS, run_s=run_s, webhooks=webhooks)


def _peak_rate(label: str, log: QueryLog) -> Figure:
    """The most queries the simulator saw in any window, in RunningHub time: the budget's test."""
    peak = peak_rate(log.times, PEAK_WINDOW_S / SPEEDUP) / SPEEDUP
    return Figure(f"{label}: peak query rate", peak, "queries/s", Target("<=", BUDGET_QPS))
