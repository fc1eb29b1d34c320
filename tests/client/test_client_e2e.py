"""`Client` and `AsyncClient` against a real aipaint server (demo mode, real sockets)."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from aipaint.client import (
    AipaintAPIError,
    AsyncClient,
    Client,
    EventStreamError,
    Task,
    TaskFailed,
    WaitTimeout,
)
from aipaint.client.types import FINAL_STATUSES
from tests.client.conftest import Server
from tests.client.faults import AsyncCutEvents, CutEvents
from tests.support import LTX, LTX_PARAMS

QWEN_EDIT = "alibaba/qwen-image-2.0/image-edit"
WAN_EDIT = "alibaba/wan-2.5-preview/image-to-image"  # n: the number of images
TEXT = "rhart-text-g-25-flash/text-to-text"
ORDER = ["pending", "queued", "running", "succeeded", "failed", "canceled"]
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def client(server: Server) -> Iterator[Client]:
    with Client(server.url, server.token) as client:
        yield client


@pytest.fixture
async def aclient(server: Server) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(server.url, server.token) as client:
        yield client


def assert_in_order(statuses: list[str]) -> None:
    assert statuses, "no update at all"
    assert statuses[-1] in FINAL_STATUSES
    assert [ORDER.index(s) for s in statuses] == sorted(ORDER.index(s) for s in statuses)


def assert_changes(updates: list[Task]) -> None:
    """Each update differs from the one before: a state is reported once."""
    assert all(a != b for a, b in itertools.pairwise(updates))
    assert_in_order([u["status"] for u in updates])


def assert_downloaded(task: Task, paths: list[Path], out_dir: Path) -> None:
    outputs = task.get("outputs", [])
    assert outputs
    assert len(paths) == len(outputs)
    for path, output in zip(paths, outputs, strict=True):
        assert path.parent == out_dir
        assert path.name.startswith(f"{task['id']}_{output['index']}.")
        data = path.read_bytes()
        if output.get("text") is not None:
            assert path.suffix == ".txt"
            assert data.decode() == output.get("text")
            continue
        assert data
        if output.get("sha256"):
            assert hashlib.sha256(data).hexdigest() == output.get("sha256")
        assert not path.with_name(path.name + ".part").exists()


class TestCatalog:
    def test_models(self, client: Client) -> None:
        models = client.models()
        assert LTX in {m["id"] for m in models}
        videos = client.models(category="text-to-video", q="ltx")
        assert videos
        assert all(m["category"] == "text-to-video" for m in videos)

    def test_a_model_is_revalidated_by_its_etag(self, server: Server) -> None:
        statuses: list[int] = []

        def record(response: httpx.Response) -> None:
            statuses.append(response.status_code)

        http = httpx.Client(event_hooks={"response": [record]})
        with http, Client(server.url, server.token, http=http) as client:
            first = client.model(LTX)
            second = client.model(LTX)
        assert statuses == [200, 304]
        assert first == second
        assert first["schema"]["properties"]["duration"]["type"] == "integer"

    def test_an_unknown_model(self, client: Client) -> None:
        with pytest.raises(AipaintAPIError) as caught:
            client.model("no/such/model")
        assert (caught.value.status_code, caught.value.code) == (404, "model_not_found")

    def test_estimate(self, client: Client) -> None:
        estimate = client.estimate(LTX, LTX_PARAMS)
        assert estimate["model"] == LTX
        assert isinstance(estimate["known"], bool)


class TestAuth:
    def test_no_token(self, server: Server) -> None:
        with Client(server.url, "") as client, pytest.raises(AipaintAPIError) as caught:
            client.list_tasks()
        assert caught.value.status_code == 401

    def test_a_wrong_token(self, server: Server) -> None:
        with Client(server.url, "not-a-token") as client, pytest.raises(AipaintAPIError) as caught:
            client.get_task("tsk_nothing")
        assert caught.value.status_code == 401

    def test_another_users_task_is_not_found(
        self, client: Client, server: Server, other_token: str
    ) -> None:
        task = client.create_task(LTX, LTX_PARAMS)
        with Client(server.url, other_token) as other, pytest.raises(AipaintAPIError) as caught:
            other.get_task(task["id"])
        assert caught.value.status_code == 404
        client.wait(task["id"], timeout=60)


class TestTasks:
    def test_run_follows_and_downloads(self, client: Client, out_dir: Path) -> None:
        updates: list[Task] = []
        task = client.run(LTX, LTX_PARAMS, on_update=updates.append, timeout=60)
        assert task["status"] == "succeeded"
        assert task["params"] == LTX_PARAMS
        assert updates[-1] == task
        assert_changes(updates)
        assert_downloaded(task, client.download_outputs(task, out_dir), out_dir)

    def test_events_end_at_the_final_status(self, client: Client) -> None:
        task = client.create_task(LTX, LTX_PARAMS)
        seen = list(client.events(task["id"]))
        assert_changes(seen)
        assert seen[-1]["status"] == "succeeded"
        assert seen[-1] == client.get_task(task["id"])

    def test_events_of_a_finished_task(self, client: Client) -> None:
        task = client.run(LTX, LTX_PARAMS, timeout=60)
        assert list(client.events(task["id"])) == [task]

    def test_several_outputs_and_a_text_output(self, client: Client, out_dir: Path) -> None:
        upload = client.upload(PNG, model=WAN_EDIT, param="imageUrls")
        params = {"imageUrls": [upload["url"]], "prompt": "a hat", "n": 2}
        images = client.run(WAN_EDIT, params, timeout=60)
        assert len(images.get("outputs", [])) == 2
        assert_downloaded(images, client.download_outputs(images, out_dir), out_dir)
        text = client.run(TEXT, {"prompt": "hello"}, timeout=60)
        assert_downloaded(text, client.download_outputs(text, out_dir), out_dir)

    def test_invalid_params(self, client: Client) -> None:
        with pytest.raises(AipaintAPIError) as caught:
            client.create_task(LTX, {**LTX_PARAMS, "duration": 99, "resolution": "8k"})
        error = caught.value
        assert (error.status_code, error.code) == (422, "invalid_params")
        assert {d["param"] for d in error.details} == {"duration", "resolution"}
        assert "  duration: " in str(error)

    def test_messages_follow_the_language(self, server: Server) -> None:
        with (
            Client(server.url, server.token, accept_language="zh-CN") as client,
            pytest.raises(AipaintAPIError) as caught,
        ):
            client.create_task(LTX, {**LTX_PARAMS, "duration": 99})
        assert "时长" in caught.value.details[0]["message"]

    def test_idempotency_key(self, client: Client) -> None:
        first = client.create_task(LTX, LTX_PARAMS, idempotency_key="client-e2e-1")
        again = client.create_task(LTX, LTX_PARAMS, idempotency_key="client-e2e-1")
        assert again["id"] == first["id"]
        client.wait(first["id"], timeout=60)

    def test_an_unknown_task(self, client: Client) -> None:
        with pytest.raises(AipaintAPIError) as caught:
            client.get_task("tsk_does_not_exist")
        assert caught.value.status_code == 404

    def test_list_and_iterate(self, client: Client) -> None:
        ids = [client.create_task(LTX, LTX_PARAMS)["id"] for _ in range(3)]
        page = client.list_tasks(limit=2)
        assert len(page["tasks"]) == 2
        assert page["next_cursor"]
        newest = [t["id"] for t in client.iter_tasks(page_size=1, limit=3)]
        assert newest == ids[::-1]
        by_model = list(client.iter_tasks(model=LTX, page_size=2, limit=5))
        assert {t["model"] for t in by_model} == {LTX}
        for task_id in ids:
            client.wait(task_id, timeout=60)
        succeeded = client.list_tasks(status="succeeded", limit=100)["tasks"]
        assert set(ids) <= {t["id"] for t in succeeded}

    def test_cancel(self, client: Client, server: Server) -> None:
        task = server.stuck_task()
        canceled = client.cancel_task(task["id"])
        final = client.wait(task["id"], timeout=30)
        assert final["status"] == canceled["status"] == "canceled"

    def test_wait_timeout_leaves_the_task_going(self, client: Client, server: Server) -> None:
        task = server.stuck_task()
        with pytest.raises(WaitTimeout) as caught:
            client.wait(task["id"], timeout=1.5)
        assert caught.value.task_id == task["id"]
        assert client.get_task(task["id"])["status"] not in FINAL_STATUSES
        client.cancel_task(task["id"])

    def test_run_raises_when_the_task_fails(self, client: Client, server: Server) -> None:
        with server.faults(failed_rate=1), pytest.raises(TaskFailed) as caught:
            client.run(LTX, LTX_PARAMS, timeout=60)
        task = caught.value.task
        assert task["status"] == "failed"
        assert task.get("error")


class TestUploads:
    def test_bytes(self, client: Client) -> None:
        upload = client.upload(PNG, model=QWEN_EDIT, param="imageUrls")
        assert upload["size"] == len(PNG)
        assert upload["sha256"] == hashlib.sha256(PNG).hexdigest()
        assert upload["content_type"] == "image/png"
        assert upload["url"].startswith(("http://", "https://"))

    def test_a_path(self, client: Client, tmp_path: Path) -> None:
        path = tmp_path / "dot.png"
        path.write_bytes(PNG)
        assert client.upload(path)["sha256"] == hashlib.sha256(PNG).hexdigest()

    def test_an_empty_file_is_refused(self, client: Client) -> None:
        with pytest.raises(AipaintAPIError) as caught:
            client.upload(b"", filename="empty.png")
        assert 400 <= caught.value.status_code < 500


class TestBrokenStreams:
    """The real server behind a transport that cuts or refuses its event streams."""

    def test_a_dropped_stream_is_reopened(self, server: Server) -> None:
        transport = CutEvents("cut_first")
        task = server.stuck_task()

        def cancel_on_reconnect(request: httpx.Request) -> None:
            if len(transport.event_requests) == 2:
                plain_cancel(server, task["id"])

        transport.on_events = cancel_on_reconnect
        with (
            httpx.Client(transport=transport) as http,
            Client(server.url, server.token, http=http) as client,
        ):
            seen = list(client.events(task["id"]))
        assert len(transport.event_requests) == 2
        first_id = transport.event_ids[0]
        assert first_id is not None
        assert transport.event_requests[1].headers["Last-Event-ID"] == first_id
        assert seen[-1]["status"] == "canceled"
        assert_changes(seen)

    def test_a_stream_that_keeps_dropping_gives_up(self, server: Server) -> None:
        task = server.stuck_task()
        transport = CutEvents("cut_always")
        seen: list[Task] = []
        with (
            httpx.Client(transport=transport) as http,
            Client(server.url, server.token, http=http) as client,
            pytest.raises(EventStreamError, match="dropped"),
        ):
            seen.extend(client.events(task["id"]))
        assert len(transport.event_requests) == 2  # the first and its one reconnection
        assert [t["id"] for t in seen] == [task["id"]]  # the re-read state
        plain_cancel(server, task["id"])

    def test_wait_falls_back_to_polling(self, server: Server) -> None:
        transport = CutEvents("refuse")
        updates: list[Task] = []
        with (
            httpx.Client(transport=transport) as http,
            Client(server.url, server.token, http=http) as client,
        ):
            task = client.create_task(LTX, LTX_PARAMS)
            final = client.wait(task["id"], on_update=updates.append, timeout=60)
        assert final["status"] == "succeeded"
        assert transport.event_requests
        assert updates[-1] == final
        assert_changes(updates)


def plain_cancel(server: Server, task_id: str) -> None:
    with Client(server.url, server.token) as client:
        client.cancel_task(task_id)


@pytest.mark.anyio
class TestAsync:
    async def test_run_follows_and_downloads(self, aclient: AsyncClient, out_dir: Path) -> None:
        updates: list[Task] = []
        task = await aclient.run(LTX, LTX_PARAMS, on_update=updates.append, timeout=60)
        assert task["status"] == "succeeded"
        assert updates[-1] == task
        assert_changes(updates)
        assert_downloaded(task, await aclient.download_outputs(task, out_dir), out_dir)

    async def test_events(self, aclient: AsyncClient) -> None:
        task = await aclient.create_task(LTX, LTX_PARAMS)
        seen = [t async for t in aclient.events(task["id"])]
        assert seen[-1]["status"] == "succeeded"
        assert_changes(seen)

    async def test_catalog_estimate_and_upload(self, aclient: AsyncClient) -> None:
        assert LTX in {m["id"] for m in await aclient.models(q="ltx")}
        assert (await aclient.model(LTX))["id"] == LTX
        assert (await aclient.model(LTX))["id"] == LTX  # the ETag path
        assert (await aclient.estimate(LTX, LTX_PARAMS))["model"] == LTX
        upload = await aclient.upload(PNG, model=QWEN_EDIT, param="imageUrls")
        assert upload["sha256"] == hashlib.sha256(PNG).hexdigest()

    async def test_errors(self, aclient: AsyncClient) -> None:
        with pytest.raises(AipaintAPIError) as caught:
            await aclient.create_task(LTX, {**LTX_PARAMS, "duration": 99})
        assert caught.value.status_code == 422
        with pytest.raises(AipaintAPIError) as missing:
            await aclient.get_task("tsk_does_not_exist")
        assert missing.value.status_code == 404

    async def test_iterate_and_cancel(self, aclient: AsyncClient, server: Server) -> None:
        task = server.stuck_task()
        listed = [t["id"] async for t in aclient.iter_tasks(page_size=1, limit=2)]
        assert listed[0] == task["id"]
        assert len(listed) == 2
        with pytest.raises(WaitTimeout):
            await aclient.wait(task["id"], timeout=1)
        await aclient.cancel_task(task["id"])
        assert (await aclient.wait(task["id"], timeout=30))["status"] == "canceled"

    async def test_wait_falls_back_to_polling(self, server: Server) -> None:
        transport = AsyncCutEvents("refuse")
        async with (
            httpx.AsyncClient(transport=transport) as http,
            AsyncClient(server.url, server.token, http=http) as client,
        ):
            task = await client.create_task(LTX, LTX_PARAMS)
            with anyio.fail_after(60):
                final = await client.wait(task["id"])
        assert final["status"] == "succeeded"
        assert transport.event_requests

    async def test_a_dropped_stream_is_reopened(self, server: Server) -> None:
        transport = AsyncCutEvents("cut_first")
        async with (
            httpx.AsyncClient(transport=transport) as http,
            AsyncClient(server.url, server.token, http=http) as client,
        ):
            task = await client.create_task(LTX, LTX_PARAMS)
            seen = [t async for t in client.events(task["id"])]
        assert seen[-1]["status"] == "succeeded"
        assert 1 <= len(transport.event_requests) <= 2
