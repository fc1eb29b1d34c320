"""Injected faults happen as configured, and each is visible in the simulator's counters and log."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from aipaint.catalog.service import Catalog
from aipaint.simulator.app import SimulatorServer
from aipaint.simulator.settings import Faults
from tests.simulator.conftest import AUTH, make_settings, wait_final
from tests.support import LTX, LTX_PARAMS


@pytest.fixture
def sim(catalog: Catalog) -> Iterator[SimulatorServer]:
    """A simulator of its own per test, since tests change its faults."""
    with SimulatorServer(make_settings(), catalog=catalog) as server:
        yield server


def script(sim: SimulatorServer, fault: str, target: str = "any", times: int = 1) -> None:
    body = {"fault": fault, "target": target, "times": times}
    assert httpx.post(f"{sim.url}/simulator/faults/script", json=body).status_code == 200


def set_faults(sim: SimulatorServer, **rates: Any) -> None:
    response = httpx.put(f"{sim.url}/simulator/faults", json=Faults(**rates).model_dump())
    assert response.status_code == 200


def stats(sim: SimulatorServer) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{sim.url}/simulator/stats").json()
    return body


def submit(sim: SimulatorServer) -> httpx.Response:
    return httpx.post(f"{sim.url}/openapi/v2/{LTX}", json=LTX_PARAMS, headers=AUTH)


class TestTransportFaults:
    def test_5xx(self, sim: SimulatorServer) -> None:
        script(sim, "5xx", "submit")
        assert submit(sim).status_code in (500, 502, 503)
        assert stats(sim)["faults"] == {"5xx": 1}
        assert stats(sim)["submits"] == 0

    def test_429_carries_retry_after(self, sim: SimulatorServer) -> None:
        set_faults(sim, retry_after_s=3)
        script(sim, "429", "query")
        response = httpx.post(f"{sim.url}/openapi/v2/query", json={"taskId": "1"}, headers=AUTH)
        assert response.status_code == 429
        assert response.headers["retry-after"] == "3"

    def test_drop_before_handling_creates_nothing(self, sim: SimulatorServer) -> None:
        script(sim, "drop", "submit")
        with pytest.raises(httpx.RemoteProtocolError):
            submit(sim)
        assert stats(sim)["submits"] == 0

    def test_drop_after_handling_creates_the_task(self, sim: SimulatorServer) -> None:
        script(sim, "drop_after", "submit")
        with pytest.raises(httpx.RemoteProtocolError):
            submit(sim)
        assert stats(sim)["submits"] == 1
        [entry] = list(httpx.get(f"{sim.url}/simulator/requests").json()["requests"])
        assert entry["fault"] == "drop_after"
        assert entry["task_id"]

    def test_scripted_faults_only_hit_their_target(self, sim: SimulatorServer) -> None:
        script(sim, "5xx", "upload")
        assert submit(sim).status_code == 200
        assert stats(sim)["faults"] == {}

    def test_rates_apply_to_each_request(self, sim: SimulatorServer) -> None:
        set_faults(sim, http_5xx_rate=1.0)
        assert all(submit(sim).status_code >= 500 for _ in range(3))
        set_faults(sim)
        assert submit(sim).status_code == 200
        assert stats(sim)["faults"] == {"5xx": 3}


class TestTaskFaults:
    def test_failed_tasks_carry_a_failed_reason(self, sim: SimulatorServer) -> None:
        set_faults(sim, failed_rate=1.0)
        task_id = submit(sim).json()["taskId"]
        truth = httpx.get(f"{sim.url}/simulator/tasks/{task_id}").json()
        assert truth["faults"] == ["failed"]
        with httpx.Client(base_url=sim.url, headers=AUTH) as http:
            body = wait_final(http, task_id)
        assert body["status"] == "FAILED"
        assert body["errorCode"] == "1015"
        assert body["failedReason"]["exception_message"]
        assert body["results"] is None

    def test_moderation_refuses_at_submit(self, sim: SimulatorServer) -> None:
        set_faults(sim, moderation_rate=1.0)
        assert submit(sim).json()["errorCode"] == "1501"
        assert stats(sim)["faults"] == {"moderation": 1}

    def test_stuck_tasks_never_finish(self, sim: SimulatorServer) -> None:
        set_faults(sim, stuck_rate=1.0)
        task_id = submit(sim).json()["taskId"]
        with httpx.Client(base_url=sim.url, headers=AUTH) as http:
            assert wait_final(http, task_id, timeout=0.8)["status"] == "RUNNING"

    def test_instant_answers_success_at_submit(self, sim: SimulatorServer) -> None:
        set_faults(sim, instant_rate=1.0)
        body = submit(sim).json()
        assert body["status"] == "SUCCESS"
        assert body["results"][0]["url"].startswith("http")

    def test_latency_is_added(self, sim: SimulatorServer) -> None:
        set_faults(sim, latency_ms=300)
        elapsed = [submit(sim).elapsed.total_seconds() for _ in range(5)]
        assert max(elapsed) > 0.05
        assert stats(sim)["faults"] == {"latency": 5}
