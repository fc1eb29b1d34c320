"""polling_delay: how soon a finished task is seen without webhooks, with 10 tasks in flight."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import httpx

from bench.harness import Context, Figure, Target, percentile, scenario
from bench.querylog import QueryLog
from bench.server import Cluster, Simulator, running_cluster, running_simulator

MODEL = "kling-lip-sync/tts"  # a text model: its output lives in the row, nothing to download
PARAMS = {"text": "bench", "voiceId": "genshin_vindi2", "voiceLanguage": "zh", "voiceSpeed": 1}
BUDGETS = (5.0, 20.0)  # AIPAINT_UPSTREAM_QPS: the default, and the budget of shared_budget
# The target holds where the budget allows it: at 5 q/s, 10 tasks and their submits (~1.7/s)
# leave each task a poll every ~3 s, so a task's end is seen up to ~3 s later at worst.
TARGET_BUDGET = 20.0
WATCH_S = 0.2  # how often the driver looks at the tasks it keeps in flight
FINISH_LIMIT_S = 60.0  # after the phase, for the last tasks to finish


@dataclass(frozen=True)
class Size:
    in_flight: int
    phase_s: float  # real seconds during which every finished task is replaced
    speed: float  # the simulator's (1: RunningHub's own timing)
    budgets: tuple[float, ...]


# The smoke run only proves the code works: one budget (a cluster takes seconds to start).
FULL, SMOKE = Size(10, 25.0, 1.0, BUDGETS), Size(3, 2.0, 4.0, BUDGETS[1:])
NOTE = (
    f"Per budget (`AIPAINT_UPSTREAM_QPS` = {BUDGETS[0]:g}, the default, and {BUDGETS[1]:g}), "
    "one API process and one `aipaint worker` on a PostgreSQL database (127.0.0.1) and a "
    "`redis-server` of their own, pointed at a RunningHub simulator of their own running at "
    "RunningHub's own speed (`--speed 1`); no webhooks (`AIPAINT_PUBLIC_URL` unset), every "
    "other setting at its default (`AIPAINT_POLL_MIN_S` 0.5 s, the sweep every 5 s). Both "
    "budgets run at once (each is a light load), and the repeats use the same processes. The "
    f"benchmark keeps {FULL.in_flight} tasks in flight for {FULL.phase_s:g} s: it creates them "
    f"through `POST /v1/tasks` ({MODEL}, a text model: its output lives in the row, so nothing "
    "is archived; the simulator runs it 0–1 s queued, then 2–8 s), reads each every "
    f"{WATCH_S * 1000:g} ms, and replaces each as soon as aipaint reports it `succeeded`; then "
    "it waits for the last ones. Completion delay: aipaint's `finished_at` − the end time the "
    "simulator gave the task (`/simulator/tasks`), over every task of the phase. aipaint polls "
    "each task every `tracked tasks / budget` seconds (at least 0.5 s): with 10 tracked, 2 s at "
    "5 queries/s and 0.5 s at 20, so a task's end is seen up to one interval later. The "
    "submits come out of the same budget (a task of ~6 s makes 10 in flight submit ~1.7 a "
    "second), which the polls' share does not count. "
    "`queries per task`: the simulator's `/openapi/v2/query` calls over the phase / the tasks. "
    f"The p99 target (1.5 s) is set at {TARGET_BUDGET:g} q/s: at {BUDGETS[0]:g} q/s the polls "
    "that the submits leave come round every ~3 s per task, the bound of any fair polling."
)


@dataclass(frozen=True)
class Stack:
    sim: Simulator
    cluster: Cluster


@scenario("polling_delay", "Polling-only completion delay with 10 tasks in flight", note=NOTE)
def polling_delay(ctx: Context) -> list[Figure]:
    size = SMOKE if ctx.smoke else FULL
    stacks = [ctx.shared(f"{budget:g}", partial(_stack, size, budget)) for budget in size.budgets]
    # Both budgets at once, each on processes of its own: the load of either is light.
    with ThreadPoolExecutor(len(stacks)) as pool:
        runs = list(pool.map(partial(_run, size), stacks))
    figures: list[Figure] = []
    for budget, (finished, queries) in zip(size.budgets, runs, strict=True):
        delays = _delays(finished)
        label = f"{budget:g} q/s"
        figures += [
            Figure(f"{label}: tasks timed", len(delays), "tasks"),
            Figure(f"{label}: completion delay p50", percentile(delays, 50), "s"),
            Figure(
                f"{label}: completion delay p99",
                percentile(delays, 99),
                "s",
                Target("<=", 1.5) if budget == TARGET_BUDGET else None,
            ),
            Figure(f"{label}: completion delay max", max(delays), "s"),
            Figure(f"{label}: queries per task", queries / len(delays), "queries"),
        ]
    return figures


@contextmanager
def _stack(size: Size, budget: float) -> Iterator[Stack]:
    with running_simulator(speed=size.speed) as sim:
        env = {**sim.env, "AIPAINT_UPSTREAM_QPS": f"{budget:g}"}
        with running_cluster(env, apis=1, workers=1) as cluster:
            yield Stack(sim, cluster)


def _run(size: Size, stack: Stack) -> tuple[dict[str, tuple[float, float]], int]:
    """One phase on `stack`: each task's (upstream end, `finished_at`), and the queries made."""
    with QueryLog(stack.sim.url) as log:
        finished = _drive(stack.cluster, size)
    truth = httpx.get(f"{stack.sim.url}/simulator/tasks", timeout=60).raise_for_status().json()
    ends = {task["id"]: task["ends_at"] for task in truth["tasks"]}
    return {key: (ends[key], at) for key, at in finished.items()}, len(log.times)


def _drive(cluster: Cluster, size: Size) -> dict[str, float]:
    """Keep `size.in_flight` tasks in flight for the phase, then let them finish: the upstream
    id and aipaint's `finished_at` (Unix time) of each."""
    headers = {"Authorization": f"Bearer {cluster.token}"}
    finished: dict[str, float] = {}
    with httpx.Client(base_url=cluster.apis[0].url, headers=headers, timeout=30) as client:

        def submit() -> str:
            answer = client.post("/v1/tasks", json={"model": MODEL, "params": PARAMS})
            if answer.status_code != 202:
                raise RuntimeError(f"create: {answer.status_code} {answer.text[:500]}")
            task_id: str = answer.json()["id"]
            return task_id

        live = {submit() for _ in range(size.in_flight)}
        phase_ends = time.monotonic() + size.phase_s
        while live:
            time.sleep(WATCH_S)
            for task_id in sorted(live):
                task = client.get(f"/v1/tasks/{task_id}").raise_for_status().json()
                if task["finished_at"] is None:
                    continue
                if task["status"] != "succeeded":
                    raise RuntimeError(f"task {task_id} ended {task['status']}: {task['error']}")
                live.discard(task_id)
                finished[task["upstream_task_id"]] = _unix(task["finished_at"])
                if time.monotonic() < phase_ends:
                    live.add(submit())
            if time.monotonic() > phase_ends + FINISH_LIMIT_S:
                raise RuntimeError(f"{len(live)} tasks unfinished {FINISH_LIMIT_S:g} s after")
    return finished


def _delays(finished: dict[str, tuple[float, float]]) -> list[float]:
    """aipaint's `finished_at` − the simulator's end time, per task."""
    return [at - end for end, at in finished.values()]


def _unix(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
