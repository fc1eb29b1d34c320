"""TASK_END webhooks in the documented shape, retried when the receiver fails, and their faults."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from aipaint.catalog.service import Catalog
from aipaint.simulator.app import SimulatorServer
from tests.simulator.conftest import AUTH, Receiver, make_settings
from tests.support import LTX, LTX_PARAMS


def serve(catalog: Catalog, **settings: Any) -> SimulatorServer:
    return SimulatorServer(make_settings(**{"webhook_backoff_s": 10, **settings}), catalog=catalog)


@pytest.fixture
def sim(catalog: Catalog) -> Iterator[SimulatorServer]:
    with serve(catalog) as server:
        yield server


def submit(sim: SimulatorServer, receiver: Receiver, model: str = LTX) -> str:
    params = {**LTX_PARAMS, "webhookUrl": receiver.url}
    task_id: str = httpx.post(f"{sim.url}/openapi/v2/{model}", json=params, headers=AUTH).json()[
        "taskId"
    ]
    return task_id


def wait_for(receiver: Receiver, count: int, timeout: float = 5) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while len(receiver.bodies) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return receiver.bodies


def truth(sim: SimulatorServer, task_id: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{sim.url}/simulator/tasks/{task_id}").json()
    return body


def test_posts_task_end_with_event_data_as_a_json_string(
    sim: SimulatorServer, receiver: Receiver
) -> None:
    task_id = submit(sim, receiver)
    [body] = wait_for(receiver, 1)
    assert (body["event"], body["taskId"]) == ("TASK_END", task_id)
    assert isinstance(body["eventData"], str)
    event = json.loads(body["eventData"])
    assert (event["code"], event["msg"]) == (0, "success")
    [output] = event["data"]
    assert output["fileType"] == "mp4"
    assert httpx.get(output["fileUrl"]).status_code == 200


def test_retries_while_the_receiver_fails(catalog: Catalog) -> None:
    failing = Receiver(fail_first=2)
    with failing.server, serve(catalog, webhook_backoff_s=20) as sim:
        task_id = submit(sim, failing)
        bodies = wait_for(failing, 3)
        assert len(bodies) == 3
        assert {b["taskId"] for b in bodies} == {task_id}
        outcomes = [d["outcome"] for d in truth(sim, task_id)["webhook_deliveries"]]
        assert outcomes == ["500", "500", "204"]
        stats = httpx.get(f"{sim.url}/simulator/stats").json()["webhooks"]
        assert (stats["sent"], stats["failed"], stats["delivered"]) == (3, 2, 1)


def test_gives_up_after_the_configured_attempts(catalog: Catalog) -> None:
    failing = Receiver(fail_first=100)
    with failing.server, serve(catalog, webhook_attempts=2, webhook_backoff_s=20) as sim:
        submit(sim, failing)
        wait_for(failing, 2)
        time.sleep(0.3)
        assert len(failing.bodies) == 2
        assert httpx.get(f"{sim.url}/simulator/stats").json()["webhooks"]["given_up"] == 1


def test_failed_tasks_report_code_805_with_the_reason(catalog: Catalog, receiver: Receiver) -> None:
    with serve(catalog) as sim:
        httpx.put(f"{sim.url}/simulator/faults", json={"failed_rate": 1.0})
        submit(sim, receiver)
        [body] = wait_for(receiver, 1)
        event = json.loads(body["eventData"])
        assert event["code"] == 805
        assert event["data"]["failedReason"]["exception_message"]


def test_query_shaped_event_data(catalog: Catalog, receiver: Receiver) -> None:
    with serve(catalog, webhook_format="query") as sim:
        task_id = submit(sim, receiver)
        [body] = wait_for(receiver, 1)
        event = json.loads(body["eventData"])
        assert (event["taskId"], event["status"]) == (task_id, "SUCCESS")
        assert event["results"][0]["outputType"] == "mp4"


def test_dropped_webhooks_never_come(catalog: Catalog, receiver: Receiver) -> None:
    with serve(catalog) as sim:
        httpx.put(f"{sim.url}/simulator/faults", json={"webhook_drop_rate": 1.0})
        task_id = submit(sim, receiver)
        time.sleep(0.6)
        assert receiver.bodies == []
        assert truth(sim, task_id)["faults"] == ["webhook_dropped"]
        assert httpx.get(f"{sim.url}/simulator/stats").json()["webhooks"] == {"dropped": 1}


def test_duplicated_webhooks_come_twice(catalog: Catalog, receiver: Receiver) -> None:
    with serve(catalog) as sim:
        httpx.put(f"{sim.url}/simulator/faults", json={"webhook_duplicate_rate": 1.0})
        task_id = submit(sim, receiver)
        bodies = wait_for(receiver, 2)
        assert [b["taskId"] for b in bodies] == [task_id, task_id]


def test_late_webhooks_come_after_the_task_ended(catalog: Catalog, receiver: Receiver) -> None:
    with serve(catalog) as sim:
        httpx.put(f"{sim.url}/simulator/faults", json={"webhook_delay_s": 0.5})
        task_id = submit(sim, receiver)
        wait_for(receiver, 1)
        task = truth(sim, task_id)
        [delivery] = task["webhook_deliveries"]
        assert delivery["at"] > task["ends_at"]
