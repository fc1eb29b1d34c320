"""Outbound webhooks end to end: aipaint, the simulator and receivers as processes of their own,
every request verified by the receiver with the `standardwebhooks` library."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from aipaint.kit.background_server import free_port
from aipaint.webhooks import InvalidWebhook, verify
from tests.stacks import Server, Simulator, server, simulator, wait_final
from tests.support import LTX, LTX_PARAMS
from tests.webhooks.support import Receiver, events

TEXT_TO_IMAGE = "alibaba/wan-2.7/text-to-image"
PORTS = 20  # receivers a module may start: each is trusted by its port alone
HOOKS = {
    "AIPAINT_WEBHOOK_TIMEOUT_S": "2",
    "AIPAINT_WEBHOOK_RETRY_SCHEDULE_S": "[0, 0.3, 0.3, 0.3, 0.3]",
}


class Stack:
    def __init__(self, sim: Simulator, aipaint: Server, tmp: Path, ports: list[int]) -> None:
        self.sim, self.aipaint, self.tmp, self.ports = sim, aipaint, tmp, ports

    def receiver(self, script: str = "") -> Receiver:
        return Receiver(self.tmp, script, self.ports.pop())


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("webhooks")
    ports = [free_port() for _ in range(PORTS)]
    trusted = "[" + ",".join(f'"127.0.0.1:{port}"' for port in ports) + "]"
    with (
        simulator(tmp) as sim,
        server(
            tmp, sim, webhooks=True, variables={"AIPAINT_TRUSTED_HOSTS": trusted, **HOOKS}
        ) as aipaint,
    ):
        yield Stack(sim, aipaint, tmp, ports)


@pytest.fixture
def receivers(stack: Stack) -> Iterator[list[Receiver]]:
    started: list[Receiver] = []
    yield started
    for receiver in started:
        receiver.kill()
    stack.sim.faults()


@pytest.fixture
def http(stack: Stack) -> Iterator[httpx.Client]:
    with stack.aipaint.http() as client:
        yield client


def start(
    stack: Stack, receivers: list[Receiver], http: httpx.Client, script: str = ""
) -> Receiver:
    receiver = stack.receiver(script).trust(http.get("/v1/webhooks/secret").json()["key"])
    receivers.append(receiver.start())
    return receiver


def create(http: httpx.Client, model: str, params: dict[str, Any], **fields: Any) -> Any:
    response = http.post("/v1/tasks", json={"model": model, "params": params, **fields})
    assert response.status_code == 202, response.text
    return response.json()


def deliveries(http: httpx.Client, task_id: str) -> list[dict[str, Any]]:
    answer: list[dict[str, Any]] = http.get(f"/v1/tasks/{task_id}/deliveries").json()["deliveries"]
    return answer


def wait_deliveries(
    http: httpx.Client, task_id: str, done: str = "succeeded", timeout: float = 30
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        found = deliveries(http, task_id)
        if found and all(d["status"] == done for d in found):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"deliveries of {task_id}: {found}")
        time.sleep(0.05)


class TestEvents:
    def test_each_final_task_gets_one_delivery_per_event(
        self, stack: Stack, receivers: list[Receiver], http: httpx.Client
    ) -> None:
        receiver = start(stack, receivers, http)
        hook = {"webhook_url": receiver.url}
        succeeded = create(http, TEXT_TO_IMAGE, {"prompt": "a lighthouse"}, **hook)
        running = create(
            http, TEXT_TO_IMAGE, {"prompt": "a boat"}, webhook_events=["task.running"], **hook
        )
        assert running["webhook_events"] == ["task.running"]
        for task in (succeeded, running):
            wait_final(http, task["id"])
        stack.sim.faults(failed_rate=1.0)
        failed = create(http, LTX, LTX_PARAMS, **hook)
        assert wait_final(http, failed["id"])["status"] == "failed"
        stack.sim.faults(stuck_rate=1.0)
        canceled = create(http, LTX, LTX_PARAMS, **hook)
        assert http.post(f"/v1/tasks/{canceled['id']}/cancel").status_code == 200
        expected = {
            (succeeded["id"], "task.succeeded"),
            (running["id"], "task.running"),
            (running["id"], "task.succeeded"),
            (failed["id"], "task.failed"),
            (canceled["id"], "task.canceled"),
        }
        receiver.wait(lambda seen: set(events(seen)) >= expected)
        time.sleep(1.0)  # room for a duplicate to show up
        seen = receiver.requests()
        assert all(request["verified"] == [True] for request in seen)
        found = events(seen)
        assert set(found) == expected
        assert all(len(ids) == 1 for ids in found.values())
        assert len({request["id"] for request in seen}) == len(seen) == len(expected)
        # The succeeded event carries the task as GET returns it, its files archived and their
        # links valid as they are (signed, no token).
        body = next(r["body"] for r in seen if r["body"]["type"] == "task.succeeded")
        task = http.get(f"/v1/tasks/{body['data']['id']}").json()
        assert body["data"]["status"] == task["status"] == "succeeded"
        assert body["data"]["outputs"]
        for output in body["data"]["outputs"]:
            assert output["archived"]
            assert output["url"].startswith(stack.aipaint.url)
            assert httpx.get(output["url"]).status_code == 200
        listed = wait_deliveries(http, succeeded["id"])
        assert [(d["event"], d["id"]) for d in listed] == [
            ("task.succeeded", found[(succeeded["id"], "task.succeeded")].pop())
        ]
        assert [a["status_code"] for a in listed[0]["attempts"]] == [200]

    def test_500_twice_then_200_is_three_attempts_of_one_webhook_id(
        self, stack: Stack, receivers: list[Receiver], http: httpx.Client
    ) -> None:
        receiver = start(stack, receivers, http, "500,500")
        task = create(http, LTX, LTX_PARAMS, webhook_url=receiver.url)
        seen = receiver.wait(lambda seen: len(seen) >= 3)
        assert [r["step"] for r in seen] == ["500", "500", "200"]
        assert len({r["id"] for r in seen}) == 1
        assert len({r["signature"] for r in seen}) >= 1
        listed = wait_deliveries(http, task["id"])
        assert [a["status_code"] for a in listed[0]["attempts"]] == [500, 500, 200]
        assert listed[0]["attempts"][0]["error"] == "answered 500"

    def test_a_slow_receiver_is_timed_out_and_retried(
        self, stack: Stack, receivers: list[Receiver], http: httpx.Client
    ) -> None:
        receiver = start(stack, receivers, http, "sleep:20")
        task = create(http, LTX, LTX_PARAMS, webhook_url=receiver.url)
        listed = wait_deliveries(http, task["id"])
        first, second = listed[0]["attempts"]
        assert (first["status_code"], first["error"]) == (None, "no answer within 2 s")
        assert 1900 <= first["duration_ms"] < 5000
        assert second["status_code"] == 200
        assert len({r["id"] for r in receiver.requests()}) == 1

    def test_410_stops_deliveries_to_that_url(
        self, stack: Stack, receivers: list[Receiver], http: httpx.Client
    ) -> None:
        receiver = start(stack, receivers, http, "410")
        first = create(http, LTX, LTX_PARAMS, webhook_url=receiver.url)
        [gone] = wait_deliveries(http, first["id"], "disabled")
        assert [a["status_code"] for a in gone["attempts"]] == [410]
        later = create(http, LTX, LTX_PARAMS, webhook_url=receiver.url)
        [stopped] = wait_deliveries(http, later["id"], "disabled")
        assert stopped["attempts"][0]["status_code"] is None
        assert "410" in stopped["attempts"][0]["error"]
        assert len(receiver.requests()) == 1
        # Sending one again is the user's word that the URL is back.
        retried = http.post(f"/v1/tasks/{later['id']}/deliveries/{stopped['id']}/retry")
        assert retried.status_code == 202
        wait_deliveries(http, later["id"])
        assert [r["id"] for r in receiver.requests()] == [gone["id"], stopped["id"]]

    def test_a_redirect_is_not_followed(
        self, stack: Stack, receivers: list[Receiver], http: httpx.Client
    ) -> None:
        inside = start(stack, receivers, http)
        target = f"http://localhost:{inside.port}/hook"
        receiver = start(stack, receivers, http, ",".join([f"redirect:{target}"] * 10))
        task = create(http, LTX, LTX_PARAMS, webhook_url=receiver.url)
        [failed] = wait_deliveries(http, task["id"], "failed")
        assert {a["status_code"] for a in failed["attempts"]} == {302}
        assert "not followed" in failed["attempts"][0]["error"]
        assert inside.requests() == []

    def test_rotation_signs_with_both_secrets_during_the_grace_period(
        self, stack: Stack, receivers: list[Receiver], http: httpx.Client
    ) -> None:
        old = http.get("/v1/webhooks/secret").json()["key"]
        new = http.post("/v1/webhooks/secret/rotate").json()["key"]
        assert new != old
        assert new.startswith("whsec_")
        assert http.get("/v1/webhooks/secret").json()["key"] == new
        receiver = stack.receiver().trust(old, new)
        receivers.append(receiver.start())
        create(http, LTX, LTX_PARAMS, webhook_url=receiver.url)
        [request] = receiver.wait(lambda seen: len(seen) >= 1)
        assert request["verified"] == [True, True]
        assert len(request["signature"].split(" ")) == 2


class TestTargets:
    @pytest.mark.parametrize(
        "url",
        [
            "gopher://127.0.0.1:6379/_INFO",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "http://127.0.0.1:6379/",
            "http://[::1]/hook",
            "http://10.1.2.3/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://localhost/hook",
        ],
    )
    def test_refused_with_422(self, http: httpx.Client, url: str) -> None:
        response = http.post(
            "/v1/tasks", json={"model": LTX, "params": LTX_PARAMS, "webhook_url": url}
        )
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_webhook_url"
        assert error["details"][0]["field"] == "webhook_url"
        assert "webhook" in error["message"]

    def test_a_name_resolving_to_loopback_is_never_contacted(
        self, stack: Stack, receivers: list[Receiver], http: httpx.Client
    ) -> None:
        receiver = start(stack, receivers, http)
        url = f"http://localhost:{receiver.port}/hook"
        response = http.post(
            "/v1/tasks", json={"model": LTX, "params": LTX_PARAMS, "webhook_url": url}
        )
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["code"] == "private_address"
        assert http.put("/v1/webhooks/default", json={"url": url}).status_code == 422
        time.sleep(0.5)
        assert receiver.requests() == []

    def test_a_url_that_redirects_to_loopback_is_refused_and_its_target_never_contacted(
        self, stack: Stack, receivers: list[Receiver], http: httpx.Client
    ) -> None:
        inside = start(stack, receivers, http)
        redirector = stack.receiver()
        redirector.redirect = f"http://localhost:{inside.port}/hook"
        receivers.append(redirector.start())
        response = http.post(
            "/v1/tasks",
            json={"model": LTX, "params": LTX_PARAMS, "webhook_url": redirector.url},
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"][0]["code"] == "private_address"
        time.sleep(0.5)
        assert inside.requests() == []

    def test_the_default_url_serves_tasks_that_name_none(
        self, stack: Stack, receivers: list[Receiver]
    ) -> None:
        token = stack.aipaint.new_token("default-url")
        with stack.aipaint.http(token) as http:
            assert http.get("/v1/webhooks/default").json() == {"url": None}
            receiver = start(stack, receivers, http)
            assert http.put("/v1/webhooks/default", json={"url": receiver.url}).json() == {
                "url": receiver.url
            }
            task = create(http, LTX, LTX_PARAMS)
            assert task["webhook_url"] == receiver.url
            receiver.wait(lambda seen: len(seen) == 1)
            assert http.put("/v1/webhooks/default", json={"url": None}).status_code == 200
            assert create(http, LTX, LTX_PARAMS)["webhook_url"] is None
            events_alone = http.post(
                "/v1/tasks",
                json={"model": LTX, "params": LTX_PARAMS, "webhook_events": ["task.running"]},
            )
            assert events_alone.status_code == 422
            assert events_alone.json()["error"]["code"] == "webhook_events_without_url"

    def test_deliveries_of_another_users_task_are_not_found(
        self, stack: Stack, receivers: list[Receiver], http: httpx.Client
    ) -> None:
        receiver = start(stack, receivers, http)
        task = create(http, LTX, LTX_PARAMS, webhook_url=receiver.url)
        [delivery] = wait_deliveries(http, task["id"])
        with stack.aipaint.http(stack.aipaint.new_token("other")) as other:
            assert other.get(f"/v1/tasks/{task['id']}/deliveries").status_code == 404
            retry = other.post(f"/v1/tasks/{task['id']}/deliveries/{delivery['id']}/retry")
            assert retry.status_code == 404
        missing = http.post(f"/v1/tasks/{task['id']}/deliveries/msg_nope/retry")
        assert (missing.status_code, missing.json()["error"]["code"]) == (
            404,
            "delivery_not_found",
        )


def test_verify_checks_what_the_receiver_got(
    stack: Stack, receivers: list[Receiver], http: httpx.Client
) -> None:
    """`aipaint.webhooks.verify` on a request as it arrived: the body bytes and headers."""
    secret = http.get("/v1/webhooks/secret").json()["key"]
    receiver = start(stack, receivers, http)
    create(http, LTX, LTX_PARAMS, webhook_url=receiver.url)
    [request] = receiver.wait(lambda seen: len(seen) == 1)
    headers = {
        "Webhook-Id": request["id"],
        "Webhook-Timestamp": request["timestamp"],
        "Webhook-Signature": request["signature"],
    }
    event = verify(headers, request["raw"].encode(), secret)
    assert event == request["body"]
    assert event["type"] == "task.succeeded"
    with pytest.raises(InvalidWebhook, match="No matching signature"):
        verify(headers, request["raw"] + " ", secret)
    with pytest.raises(InvalidWebhook, match="Missing required headers"):
        verify({"webhook-id": request["id"]}, request["raw"], secret)
