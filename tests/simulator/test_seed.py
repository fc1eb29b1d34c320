"""`POST /simulator/tasks`: tasks put in flight at once for benchmarks, queried like any other."""

from __future__ import annotations

import time

import httpx

from aipaint.simulator.app import SimulatorServer
from aipaint.simulator.settings import DEMO_KEY
from tests.simulator.conftest import AUTH

TEXT_MODEL = "kling-lip-sync/tts"


def _seed(sim: SimulatorServer, count: int, run_s: tuple[float, float]) -> list[dict[str, float]]:
    body = {"key": DEMO_KEY, "model": TEXT_MODEL, "run_s": run_s, "webhook_urls": [None] * count}
    answer = httpx.post(f"{sim.url}/simulator/tasks", json=body, timeout=10).raise_for_status()
    tasks: list[dict[str, float]] = answer.json()["tasks"]
    return tasks


def test_seeded_tasks_run_then_succeed_without_counting_as_submits(sim: SimulatorServer) -> None:
    before = httpx.get(f"{sim.url}/simulator/stats").json()
    # At speed 1000, 50 nominal seconds are 50 ms.
    tasks = _seed(sim, 3, (50, 50))

    assert len({task["id"] for task in tasks}) == 3
    with httpx.Client(base_url=sim.url, headers=AUTH, timeout=10) as http:
        first = http.post("/openapi/v2/query", json={"taskId": tasks[0]["id"]}).json()
        assert first["status"] in ("RUNNING", "SUCCESS")
        time.sleep(max(0.0, max(task["ends_at"] for task in tasks) - time.time()) + 0.05)
        done = http.post("/openapi/v2/query", json={"taskId": tasks[0]["id"]}).json()
    assert done["status"] == "SUCCESS"
    assert done["results"][0]["text"]
    after = httpx.get(f"{sim.url}/simulator/stats").json()
    assert after["submits"] == before["submits"]
    seeded = sum(after["seeded_by_key"].values()) - sum(before["seeded_by_key"].values())
    assert seeded == 3


def test_run_times_stay_in_the_range_asked(sim: SimulatorServer) -> None:
    started = time.time()
    tasks = _seed(sim, 20, (100, 200))  # 0.1 s to 0.2 s at speed 1000

    for task in tasks:
        assert started + 0.1 - 0.01 <= task["ends_at"] <= time.time() + 0.2


def test_refuses_an_inverted_range_and_an_unknown_model(sim: SimulatorServer) -> None:
    inverted = {"key": DEMO_KEY, "model": TEXT_MODEL, "run_s": [5, 1], "webhook_urls": [None]}
    unknown = {"key": DEMO_KEY, "model": "no/such-model", "run_s": [1, 5], "webhook_urls": [None]}

    assert httpx.post(f"{sim.url}/simulator/tasks", json=inverted).status_code == 422
    assert httpx.post(f"{sim.url}/simulator/tasks", json=unknown).status_code == 422
