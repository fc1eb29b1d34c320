"""Many processes on PostgreSQL and Redis: every guarantee holds across them, through crashes of
workers, of an API process and of Redis itself."""

from __future__ import annotations

import hashlib
import itertools
import random
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from tests.cluster import Cluster, cluster
from tests.e2e.test_resilience import WORKLOAD, check_never_twice
from tests.stacks import (
    FINAL,
    Simulator,
    server,
    simulator,
    wait_all_final,
    wait_final,
)

LIMIT, BUDGET = 8, 30


def _post(http: httpx.Client, n: int) -> str:
    model, params = WORKLOAD[n % len(WORKLOAD)]
    response = http.post("/v1/tasks", json={"model": model, "params": params})
    assert response.status_code == 202, response.text
    task_id: str = response.json()["id"]
    return task_id


def _answered_submits(sim: Simulator) -> dict[str, str]:
    """Upstream task id -> the fault of its submit, for every submit that created a task."""
    answered: dict[str, str] = {}
    since = 0
    while True:
        page = sim.get(f"requests?since={since}")["requests"]
        if not page:
            return answered
        for entry in page:
            if entry["call"] == "submit" and entry.get("task_id"):
                answered[entry["task_id"]] = entry.get("fault") or ""
        since = page[-1]["seq"]


def _check_outputs_everywhere(stack: Cluster, tasks: dict[str, dict[str, Any]]) -> int:
    """Every output of every success is served by every API process with its recorded sha256,
    and that is the sha256 of what RunningHub served (checked on a sample: the simulator draws
    each file anew, which takes long for video)."""
    checked = 0
    with stack.http(0) as first, stack.http(1) as second:
        for task in tasks.values():
            checked += _check_outputs(task, [first, second], sample=checked % 10 == 0)
    return checked


def _check_outputs(task: dict[str, Any], clients: list[httpx.Client], *, sample: bool) -> int:
    """The outputs of one task as every API process serves them; how many were checked."""
    if task["status"] != "succeeded":
        return 0
    checked = 0
    for output in task["outputs"]:
        assert output["archived"]
        if output["text"] is not None:
            continue
        path = output["url"].split("/files/", 1)[1]
        for http in clients:
            served = http.get(f"/files/{path}")
            assert served.status_code == 200, served.text
            assert hashlib.sha256(served.content).hexdigest() == output["sha256"]
        if sample:
            upstream = httpx.get(output["source_url"]).content
            assert hashlib.sha256(upstream).hexdigest() == output["sha256"]
        checked += 1
    return checked


def test_two_api_and_two_worker_processes_through_crashes_and_faults(tmp_path: Path) -> None:
    rng = random.Random(11)
    faults = [
        *("--fault-5xx", "0.03", "--fault-429", "0.03", "--retry-after", "0"),
        *("--fault-drop-after", "0.03", "--fault-failed", "0.08"),
        *("--webhook-drop", "0.05", "--webhook-duplicate", "0.05", "--webhook-backoff", "300"),
        *("--concurrency", "50", "--speed", "100", "--seed", "7"),
    ]
    with (
        simulator(tmp_path, *faults) as sim,
        cluster(
            tmp_path,
            sim,
            AIPAINT_UPSTREAM_CONCURRENCY=str(LIMIT),
            AIPAINT_UPSTREAM_QPS=str(BUDGET),
            AIPAINT_SUBMIT_LEASE_S="3",
            AIPAINT_UNCERTAIN_TIMEOUT_S="60",
            AIPAINT_UNCERTAIN_GRACE_S="5",
            AIPAINT_QUEUE_STATUS_REFRESH_S="1",
        ) as stack,
    ):
        task_ids: list[str] = []
        turn = itertools.count()
        # Each crash lands amid a burst of tasks sent to both API processes in turn.
        crashes = ["worker", "api", "worker", "redis", "worker"]
        for crash in crashes:
            for _ in range(32):
                n = next(turn)
                alive = [a for a in range(2) if stack.apis[a].process is not None]
                with stack.http(alive[n % len(alive)]) as http:
                    task_ids.append(_post(http, n))
            time.sleep(rng.uniform(0.3, 1.5))
            if crash == "worker":
                victim = stack.workers[rng.randrange(2)]
                victim.kill()
                victim.start()
            elif crash == "api":
                stack.apis[0].kill()  # the one RunningHub's webhooks go to
                stack.apis[0].start()
            else:
                stack.redis.kill()
                stack.redis.start()
        assert len(task_ids) >= 150
        with stack.http(1) as http:
            tasks = wait_all_final(http, task_ids, timeout=400)
        per_task = check_never_twice(sim, task_ids)
        stats = sim.get("stats")
        assert stats["submits"] == per_task[1]
        truth = {t["id"]: t for t in sim.get("tasks")["tasks"]}
        answered = _answered_submits(sim)
        tracked = {t["upstream_task_id"]: t for t in tasks.values() if t["upstream_task_id"]}
        outcomes: Counter[str] = Counter()
        for upstream_id, fault in answered.items():
            if fault:  # the answer never reached aipaint: found by its webhook, if one came
                continue
            task = tracked[upstream_id]  # every answered submit is tracked under its id
            expected = {"SUCCESS": "succeeded", "FAILED": "failed"}[truth[upstream_id]["status"]]
            assert task["status"] == expected, task
            outcomes[expected] += 1
        for task in tasks.values():
            if task["status"] == "failed" and task["error"]["code"] == "submit_uncertain":
                # Only a submit whose answer never came ends so.
                assert task["upstream_task_id"] is None
                mine = sim.tasks_for(task["id"])
                assert not mine or answered.get(mine[0]["id"]), (task, mine)
                outcomes["uncertain"] += 1
        assert outcomes["succeeded"] > 100
        assert outcomes["failed"] > 0
        [peak_active] = stats["peak_active_by_key"].values()
        [peak_rate] = stats["peak_calls_per_second_by_key"].values()
        assert peak_active <= LIMIT
        assert peak_rate <= BUDGET
        assert _check_outputs_everywhere(stack, tasks) > 50


def test_a_live_owner_keeps_its_submit_while_another_process_sweeps(tmp_path: Path) -> None:
    """Process A pauses between its marker and its call for several lease periods; process B
    sweeps all the while and never takes the submit for one a crash interrupted."""
    with (
        simulator(tmp_path) as sim,
        cluster(tmp_path, sim, workers=0, webhooks=False, AIPAINT_SUBMIT_LEASE_S="1") as stack,
    ):
        paused = stack.spawn_worker(
            tmp_path / "worker-a.log", ["-m", "tests.e2e.paused_worker", "12"]
        )
        other = stack.spawn_worker(tmp_path / "worker-b.log")
        with stack.http() as http:
            task_id = _post(http, 1)
            _wait_for(lambda: "submit_paused" in paused.log.read_text())
            paused_at = time.monotonic()
            time.sleep(4)  # four leases long, B sweeping every 0.5 s
            assert http.get(f"/v1/tasks/{task_id}").json()["status"] == "pending"
            task = wait_final(http, task_id)
            assert time.monotonic() - paused_at > 10  # sent by A once its pause ended
        assert task["status"] == "succeeded", task
        assert sim.get("stats")["submits"] == 1
        assert "task_submitted" in paused.log.read_text()
        assert "task_submitted" not in other.log.read_text()


def test_a_stalled_owner_loses_its_lease_and_never_sends(tmp_path: Path) -> None:
    """Process A is frozen (SIGSTOP) between its marker and its call for longer than its lease:
    B takes the submit for an interrupted one; A, thawed, finds its lease gone and never sends."""
    with (
        simulator(tmp_path) as sim,
        cluster(tmp_path, sim, workers=0, webhooks=False, AIPAINT_SUBMIT_LEASE_S="1") as stack,
    ):
        frozen = stack.spawn_worker(
            tmp_path / "worker-a.log", ["-m", "tests.e2e.paused_worker", "1"]
        )
        with stack.http() as http:
            task_id = _post(http, 1)
            _wait_for(lambda: "submit_paused" in frozen.log.read_text())
            assert frozen.process is not None
            frozen.process.send_signal(signal.SIGSTOP)
            stack.spawn_worker(tmp_path / "worker-b.log")
            task = wait_final(http, task_id)
            frozen.process.send_signal(signal.SIGCONT)
            _wait_for(lambda: "submit_lease_lost" in frozen.log.read_text())
        assert task["error"]["code"] == "submit_uncertain", task
        assert sim.get("stats")["submits"] == 0


def test_sigterm_drains_a_worker_without_losing_its_submits(tmp_path: Path) -> None:
    with (
        simulator(tmp_path, "--latency-ms", "1500") as sim,
        cluster(tmp_path, sim, workers=1, AIPAINT_UPSTREAM_CONCURRENCY="4") as stack,
    ):
        with stack.http() as http:
            task_ids = [_post(http, n) for n in range(4)]
            _wait_for(lambda: sim.get("stats")["requests"] > 0)
            draining = stack.workers[0]
            assert draining.process is not None
            draining.process.send_signal(signal.SIGTERM)
            assert draining.process.wait(timeout=30) == 0
            draining.process = None
            submitted = Counter(http.get(f"/v1/tasks/{t}").json()["status"] for t in task_ids)
            assert submitted["pending"] < 4  # the submits it held were finished, not dropped
            draining.start()
            tasks = wait_all_final(http, task_ids, timeout=60)
        assert {t["status"] for t in tasks.values()} == {"succeeded"}
        assert sim.get("stats")["submits"] == 4


def test_a_workers_change_reaches_sse_streams_on_every_api_process(tmp_path: Path) -> None:
    with simulator(tmp_path, "--speed", "50") as sim, cluster(tmp_path, sim, workers=1) as stack:
        with stack.http(0) as http:
            task_id = _post(http, 1)
        seen: dict[int, list[str]] = {0: [], 1: []}

        def follow(index: int) -> None:
            with (
                stack.http(index) as http,
                http.stream("GET", f"/v1/tasks/{task_id}/events") as events,
            ):
                for line in events.iter_lines():
                    if line.startswith("data: "):
                        status = httpx.Response(200, content=line[6:]).json()["status"]
                        seen[index].append(status)
                        if status in FINAL:
                            return

        threads = [threading.Thread(target=follow, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert seen[0][-1] == seen[1][-1] == "succeeded"
    assert "running" in seen[0]
    assert "running" in seen[1]


def test_three_hundred_tasks_on_one_process_through_kills(tmp_path: Path) -> None:
    """The embedded shape: one process on SQLite, 5% submit 500s, 3% answers dropped after the
    submit, webhooks on with the default hour-long wait for uncertain submits, three SIGKILLs.
    Submits of unknown outcome hold no slot once RunningHub's count shows they run nothing, so
    the queue never stalls, and they settle within the grace period instead of the hour."""
    rng = random.Random(3)
    faults = ["--fault-5xx", "0.05", "--fault-drop-after", "0.03", "--seed", "13"]
    with (
        simulator(tmp_path, *faults) as sim,
        server(
            tmp_path,
            sim,
            webhooks=True,
            AIPAINT_UPSTREAM_CONCURRENCY="3",
            AIPAINT_UNCERTAIN_TIMEOUT_S="3600",
            AIPAINT_UNCERTAIN_GRACE_S="10",
            AIPAINT_QUEUE_STATUS_REFRESH_S="1",
        ) as aipaint,
    ):
        started = time.monotonic()
        task_ids: list[str] = []
        with aipaint.http() as http:
            task_ids = [_post(http, n) for n in range(300)]
        for _ in range(3):
            time.sleep(rng.uniform(1, 4))
            aipaint.kill()
            aipaint.start()
        with aipaint.http() as http:
            tasks = wait_all_final(http, task_ids, timeout=540)
        elapsed = time.monotonic() - started
        check_never_twice(sim, task_ids)
        statuses = Counter(t["status"] for t in tasks.values())
        assert statuses["succeeded"] > 250, statuses
        assert elapsed < 600


def _wait_for(condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_any_api_process_answers_for_any_task(tmp_path: Path) -> None:
    """Idempotency keys, cancel, RunningHub's webhooks and file links, across API processes."""
    with (
        simulator(tmp_path, "--speed", "5") as sim,
        cluster(tmp_path, sim, workers=1, AIPAINT_UPSTREAM_CONCURRENCY="1") as stack,
        stack.http(0) as first,
        stack.http(1) as second,
    ):
        body = {"model": WORKLOAD[0][0], "params": WORKLOAD[0][1]}
        key = {"Idempotency-Key": "same-request"}
        created = first.post("/v1/tasks", json=body, headers=key).json()
        replayed = second.post("/v1/tasks", json=body, headers=key)
        assert replayed.headers["Idempotent-Replayed"] == "true"
        assert replayed.json()["id"] == created["id"]

        waiting = first.post("/v1/tasks", json=body).json()  # behind the one slot
        canceled = second.post(f"/v1/tasks/{waiting['id']}/cancel")
        assert canceled.json()["status"] == "canceled"

        done = wait_final(second, created["id"])
        assert done["status"] == "succeeded"
        [upstream] = sim.tasks_for(created["id"])
        hook = upstream["webhook_url"].split("/hooks/", 1)[1]
        assert second.post(f"/hooks/{hook}", json={"taskId": upstream["id"]}).status_code == 202
        link = done["outputs"][0]["url"].split("/files/", 1)[1]
        for http in (first, second):
            base = str(http.base_url).rstrip("/")
            served = httpx.get(f"{base}/files/{link}")  # the signed link alone, no token
            assert hashlib.sha256(served.content).hexdigest() == done["outputs"][0]["sha256"]
        assert sim.get("stats")["submits"] == 1
