"""Webhook mode, polling-only mode, uncertain submits and capacity queueing, end to end."""

from __future__ import annotations

import time
from pathlib import Path

from aipaint.simulator.settings import DEMO_KEY
from tests.stacks import server, simulator, wait_all_final, wait_final
from tests.support import LTX, LTX_PARAMS

TEXT_TO_IMAGE = "alibaba/wan-2.7/text-to-image"


def test_webhook_mode_learns_of_completion_from_the_webhook(tmp_path: Path) -> None:
    # Polling so slow that only the webhook can explain a prompt finish.
    with (
        simulator(tmp_path) as sim,
        server(
            tmp_path, sim, webhooks=True, AIPAINT_POLL_MIN_S="20", AIPAINT_POLL_MAX_S="20"
        ) as aipaint,
        aipaint.http() as http,
    ):
        started = time.monotonic()
        task = http.post("/v1/tasks", json={"model": LTX, "params": LTX_PARAMS}).json()
        done = wait_final(http, task["id"], timeout=15)
        assert done["status"] == "succeeded"
        assert time.monotonic() - started < 10
        [upstream] = sim.tasks_for(task["id"])
        assert upstream["webhook_deliveries"][0]["outcome"] == "202"


def test_polling_only_mode_needs_no_webhook(tmp_path: Path) -> None:
    with simulator(tmp_path) as sim, server(tmp_path, sim) as aipaint, aipaint.http() as http:
        task = http.post("/v1/tasks", json={"model": LTX, "params": LTX_PARAMS}).json()
        assert wait_final(http, task["id"])["status"] == "succeeded"
        truth = [
            t
            for t in sim.get("tasks")["tasks"]
            if t["id"] == wait_final(http, task["id"])["upstream_task_id"]
        ]
        assert truth[0]["webhook_url"] is None


def test_an_uncertain_submit_is_found_through_its_webhook(tmp_path: Path) -> None:
    with simulator(tmp_path) as sim, server(tmp_path, sim, webhooks=True) as aipaint:
        sim.script("drop_after", "submit")  # the task lands upstream; aipaint never hears
        with aipaint.http() as http:
            task = http.post("/v1/tasks", json={"model": LTX, "params": LTX_PARAMS}).json()
            done = wait_final(http, task["id"])
        assert done["status"] == "succeeded"
        assert len(sim.tasks_for(task["id"])) == 1  # found, never submitted again
        assert sim.get("stats")["submits"] == 1


def test_an_uncertain_submit_without_webhooks_fails_clearly(tmp_path: Path) -> None:
    with simulator(tmp_path) as sim, server(tmp_path, sim) as aipaint, aipaint.http() as http:
        sim.script("drop_after", "submit")
        task = http.post("/v1/tasks", json={"model": LTX, "params": LTX_PARAMS}).json()
        done = wait_final(http, task["id"])
        assert done["status"] == "failed"
        assert done["error"]["code"] == "submit_uncertain"
        assert done["error"]["details"]["submitted_at"]
        assert sim.get("stats")["submits"] == 1  # and not a second time


def test_capacity_queueing_keeps_to_the_upstream_limit(tmp_path: Path) -> None:
    # RunningHub's pace slowed down 200x (not 1000x), so tasks overlap and the limit matters.
    with (
        simulator(tmp_path, "--concurrency", "2", "--speed", "200") as sim,
        server(tmp_path, sim) as aipaint,
        aipaint.http() as http,
    ):
        ids = [
            http.post(
                "/v1/tasks", json={"model": TEXT_TO_IMAGE, "params": {"prompt": f"#{i}"}}
            ).json()["id"]
            for i in range(20)
        ]
        done = wait_all_final(http, ids, timeout=120)
        errors = [task["error"] for task in done.values() if task["error"]]
        assert {task["status"] for task in done.values()} == {"succeeded"}, errors
        stats = sim.get("stats")
        assert stats["submits"] == 20
        [peak] = stats["peak_active_by_key"].values()
        assert peak <= 2
        assert DEMO_KEY not in str(stats)
