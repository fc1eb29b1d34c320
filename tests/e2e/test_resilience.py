"""Nothing lost, nothing paid twice: SIGKILL and restarts, and a simulator full of faults."""

from __future__ import annotations

import hashlib
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from tests.stacks import Server, Simulator, server, simulator, wait_all_final
from tests.support import LTX, LTX_PARAMS

WORKLOAD: list[tuple[str, dict[str, Any]]] = [
    ("alibaba/wan-2.7/text-to-image", {"prompt": "a lighthouse at dusk"}),
    (LTX, LTX_PARAMS),
    ("rhart-text-g-25-pro/text-to-text", {"prompt": "a haiku about rain"}),
    (
        "rhart-audio/text-to-audio/speech-02-turbo",
        {
            "text": "hello",
            "voice_id": "Wise_Woman",
            "enable_base64_output": False,
            "english_normalization": False,
        },
    ),
]


def submit_burst(aipaint: Server, count: int, offset: int) -> list[str]:
    ids = []
    with aipaint.http() as http:
        for n in range(count):
            model, params = WORKLOAD[(offset + n) % len(WORKLOAD)]
            response = http.post("/v1/tasks", json={"model": model, "params": params})
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])
    return ids


def check_archives(sim: Simulator, tasks: dict[str, dict[str, Any]], http: httpx.Client) -> None:
    """Every success has every output archived, byte for byte what RunningHub served."""
    for task in tasks.values():
        if task["status"] != "succeeded":
            continue
        assert task["outputs"]
        for output in task["outputs"]:
            assert output["archived"]
            if output["text"] is not None:
                continue
            archived = http.get(output["url"]).content
            upstream = httpx.get(output["source_url"]).content
            digest = hashlib.sha256(upstream).hexdigest()
            assert output["sha256"] == digest == hashlib.sha256(archived).hexdigest()


def check_never_twice(sim: Simulator, task_ids: list[str]) -> Counter[int]:
    """How many upstream tasks each aipaint task has: never more than one."""
    per_task = Counter(len(sim.tasks_for(task_id)) for task_id in task_ids)
    assert set(per_task) <= {0, 1}, per_task
    return per_task


def test_sigkill_and_restart_lose_nothing(tmp_path: Path) -> None:
    rng = random.Random(5)
    # 100x RunningHub's pace: video tasks take seconds, so kills land in every state. Webhook
    # retries stay seconds apart (as RunningHub's are), so they outlast a restart.
    with (
        simulator(tmp_path, "--speed", "100", "--webhook-backoff", "200") as sim,
        server(
            tmp_path,
            sim,
            webhooks=True,
            AIPAINT_UPSTREAM_CONCURRENCY="6",
            AIPAINT_UNCERTAIN_TIMEOUT_S="30",
        ) as aipaint,
    ):
        task_ids: list[str] = []
        kills = 4
        for round_ in range(kills):
            task_ids += submit_burst(aipaint, 10, round_)
            time.sleep(rng.uniform(0.2, 1.2))
            aipaint.kill()
            aipaint.start()
        with aipaint.http() as http:
            tasks = wait_all_final(http, task_ids, timeout=180)
            check_archives(sim, tasks, http)
        per_task = check_never_twice(sim, task_ids)
        assert sim.get("stats")["submits"] == per_task[1]
        for task in tasks.values():
            upstream = sim.tasks_for(task["id"])
            if task["status"] == "succeeded":
                assert len(upstream) == 1
            else:
                # Only a submit a kill cut short may end so, and it says so; it is never sent
                # a second time. Had it reached RunningHub, its webhook would have found it: so
                # nothing that was paid for is lost.
                assert task["error"]["code"] == "submit_uncertain", task["error"]
                assert upstream == []
        # A kill cuts short at most the submits in flight at that moment (up to the 6 slots).
        succeeded = sum(task["status"] == "succeeded" for task in tasks.values())
        assert succeeded >= len(task_ids) - kills * 6


def test_three_hundred_tasks_through_faults(tmp_path: Path) -> None:
    with (
        simulator(
            tmp_path,
            "--fault-5xx",
            "0.1",
            "--fault-429",
            "0.1",
            "--retry-after",
            "0",
            "--webhook-drop",
            "0.05",
            "--webhook-duplicate",
            "0.05",
            "--fault-failed",
            "0.1",
            "--seed",
            "21",
        ) as sim,
        server(tmp_path, sim, webhooks=True, AIPAINT_UNCERTAIN_TIMEOUT_S="3") as aipaint,
    ):
        task_ids = submit_burst(aipaint, 300, 0)
        with aipaint.http() as http:
            tasks = wait_all_final(http, task_ids, timeout=300)
        per_task = check_never_twice(sim, task_ids)
        truth = {t["id"]: t for t in sim.get("tasks")["tasks"]}
        refused_5xx = sim.get("stats")["faults_by_call"]["5xx:submit"]
        outcomes: Counter[str] = Counter()
        for task in tasks.values():
            upstream = truth.get(task["upstream_task_id"] or "")
            if upstream is None:
                # Never created upstream: only a submit that got a 5xx ends so, and it fails
                # clearly instead of being sent again blindly.
                assert task["error"]["code"] == "submit_uncertain", task
                outcomes["uncertain"] += 1
            elif "failed" in upstream["faults"]:
                assert (task["status"], task["error"]["code"]) == ("failed", "upstream_failed")
                outcomes["failed"] += 1
            else:
                assert task["status"] == "succeeded", task
                outcomes["succeeded"] += 1
        # Every uncertain task was in truth never created upstream, so failing it lost nothing;
        # a 5xx on submit always ends so (a dropped keep-alive connection may add a few more).
        assert outcomes["uncertain"] == per_task[0]
        assert outcomes["uncertain"] >= refused_5xx > 0
        assert outcomes["failed"] > 0
        assert outcomes["succeeded"] > 200
        faults = sim.get("stats")
        assert faults["webhooks"]["dropped"] > 0
        assert faults["webhooks"]["duplicated"] > 0
        assert faults["faults"]["429"] > 0
