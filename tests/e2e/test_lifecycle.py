"""The task lifecycle end to end: aipaint and the simulator as separate processes, real HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from aipaint.kit.background_server import BackgroundServer
from tests.stacks import SECRET, Server, Simulator, server, simulator, wait_final
from tests.support import LTX, LTX_PARAMS

TEXT_TO_IMAGE = "alibaba/wan-2.7/text-to-image"
IMAGE_TO_VIDEO = "alibaba/happyhorse-1.0/image-to-video"
TEXT_MODEL = "rhart-text-g-25-pro/text-to-text"
KEY = "e2e-distinctive-runninghub-key-7"  # 32 characters, like a RunningHub key


async def _redirect(request: Request) -> Response:
    """A host the operator trusts, whose file answers with a redirect to a private address."""
    return RedirectResponse("http://10.0.0.7/internal.png", status_code=302)


@pytest.fixture(scope="module")
def redirector() -> Iterator[BackgroundServer]:
    app = Starlette(routes=[Route("/photo.png", _redirect, methods=["GET", "HEAD"])])
    with BackgroundServer(app) as server_:
        yield server_


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, redirector: BackgroundServer
) -> Iterator[tuple[Simulator, Server]]:
    tmp = tmp_path_factory.mktemp("lifecycle")
    trusted = f'["127.0.0.1:{redirector.port}"]'
    with simulator(tmp, key=KEY) as sim, server(tmp, sim, AIPAINT_TRUSTED_HOSTS=trusted) as aipaint:
        yield sim, aipaint


@pytest.fixture
def sim(stack: tuple[Simulator, Server]) -> Iterator[Simulator]:
    yield stack[0]
    stack[0].faults()  # every test leaves the simulator without faults


@pytest.fixture
def http(stack: tuple[Simulator, Server]) -> Iterator[httpx.Client]:
    with stack[1].http() as client:
        yield client


def create(http: httpx.Client, model: str, params: dict[str, Any], **headers: str) -> Any:
    response = http.post("/v1/tasks", json={"model": model, "params": params}, headers=headers)
    assert response.status_code == 202, response.text
    return response.json()


def png(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(buffer, "PNG")
    return buffer.getvalue()


class TestRuns:
    def test_text_to_image(self, http: httpx.Client) -> None:
        task = create(http, TEXT_TO_IMAGE, {"prompt": "a red fox", "width": 768, "height": 512})
        assert task["status"] == "pending"
        done = wait_final(http, task["id"])
        assert done["status"] == "succeeded"
        [output] = done["outputs"]
        assert (output["type"], output["archived"]) == ("png", True)
        archived = http.get(output["url"]).content
        assert hashlib.sha256(archived).hexdigest() == output["sha256"]
        assert len(archived) == output["bytes"]
        # The archive holds exactly RunningHub's bytes.
        assert httpx.get(output["source_url"]).content == archived
        assert Image.open(io.BytesIO(archived)).size == (768, 512)
        assert done["usage"]["money"] is not None
        assert done["upstream_task_id"]

    def test_image_to_video_with_an_uploaded_image(self, http: httpx.Client) -> None:
        data = png()
        uploaded = http.post(
            "/v1/uploads",
            files={"file": ("photo.bin", data, "application/octet-stream")},
            data={"model": IMAGE_TO_VIDEO, "param": "imageUrl"},
        )
        assert uploaded.status_code == 200, uploaded.text
        body = uploaded.json()
        assert body["content_type"] == "image/png"  # from the bytes, not the name
        assert body["sha256"] == hashlib.sha256(data).hexdigest()
        again = http.post("/v1/uploads", files={"file": ("again.png", data, "image/png")})
        assert again.json()["url"] == body["url"]  # cached by content
        params = {"imageUrl": body["url"], "resolution": "720p", "duration": "5"}
        done = wait_final(http, create(http, IMAGE_TO_VIDEO, params)["id"])
        assert done["status"] == "succeeded"
        assert done["outputs"][0]["type"] == "mp4"
        assert done["params"]["imageUrl"] == body["url"]

    def test_a_data_uri_input_becomes_an_upload(self, http: httpx.Client) -> None:
        data_uri = "data:image/png;base64," + base64.b64encode(png()).decode()
        params = {"imageUrl": data_uri, "resolution": "720p", "duration": "5"}
        task = create(http, IMAGE_TO_VIDEO, params)
        assert task["params"]["imageUrl"].startswith("http")  # no base64 in the task row
        assert wait_final(http, task["id"])["status"] == "succeeded"

    def test_text_model(self, http: httpx.Client) -> None:
        done = wait_final(http, create(http, TEXT_MODEL, {"prompt": "hello"})["id"])
        assert done["status"] == "succeeded"
        [output] = done["outputs"]
        assert output["text"]
        assert output["url"] is None

    def test_failed_upstream(self, http: httpx.Client, sim: Simulator) -> None:
        sim.faults(failed_rate=1.0)
        done = wait_final(http, create(http, LTX, LTX_PARAMS)["id"])
        assert done["status"] == "failed"
        assert done["error"]["code"] == "upstream_failed"
        assert done["error"]["upstream_code"] == "1015"
        assert done["outputs"] == []

    def test_refused_by_moderation(self, http: httpx.Client, sim: Simulator) -> None:
        sim.faults(moderation_rate=1.0)
        done = wait_final(http, create(http, LTX, LTX_PARAMS)["id"])
        assert done["status"] == "failed"
        assert (done["error"]["code"], done["error"]["upstream_code"]) == (
            "upstream_moderation",
            "1501",
        )

    def test_events_stream_every_change_and_end(self, http: httpx.Client) -> None:
        task = create(http, LTX, LTX_PARAMS)
        statuses = []
        with http.stream("GET", f"/v1/tasks/{task['id']}/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    statuses.append(json.loads(line[6:])["status"])
        order = ["pending", "queued", "running", "succeeded"]
        ranks = [order.index(status) for status in statuses]
        assert ranks == sorted(ranks)  # never backwards
        assert statuses[-1] == "succeeded"  # and the stream ended there
        assert len(statuses) >= 2

    def test_list_is_newest_first_with_a_cursor(self, http: httpx.Client) -> None:
        ids = [create(http, TEXT_MODEL, {"prompt": f"n{i}"})["id"] for i in range(3)]
        first = http.get("/v1/tasks", params={"limit": 2}).json()
        assert [t["id"] for t in first["tasks"]] == ids[::-1][:2]
        second = http.get("/v1/tasks", params={"limit": 2, "cursor": first["next_cursor"]}).json()
        assert second["tasks"][0]["id"] == ids[0]
        only = http.get("/v1/tasks", params={"model": TEXT_MODEL, "limit": 100}).json()["tasks"]
        assert {t["model"] for t in only} == {TEXT_MODEL}


class TestCancelAndIdempotency:
    def test_cancel_a_running_task(self, http: httpx.Client, sim: Simulator) -> None:
        sim.faults(stuck_rate=1.0)
        task = create(http, LTX, LTX_PARAMS)
        canceled = http.post(f"/v1/tasks/{task['id']}/cancel")
        assert canceled.status_code == 200
        done = wait_final(http, task["id"])
        assert done["status"] == "canceled"
        again = http.post(f"/v1/tasks/{task['id']}/cancel")
        assert (again.status_code, again.json()["error"]["code"]) == (409, "task_finished")

    def test_same_key_same_body_is_the_same_task(self, http: httpx.Client, sim: Simulator) -> None:
        before = sim.get("stats")["submits"]
        first = create(http, LTX, LTX_PARAMS, **{"Idempotency-Key": "order-42"})
        response = http.post(
            "/v1/tasks",
            json={"model": LTX, "params": LTX_PARAMS},
            headers={"Idempotency-Key": "order-42"},
        )
        assert response.json()["id"] == first["id"]
        assert response.headers["idempotent-replayed"] == "true"
        conflict = http.post(
            "/v1/tasks",
            json={"model": LTX, "params": {**LTX_PARAMS, "duration": 6}},
            headers={"Idempotency-Key": "order-42"},
        )
        assert (conflict.status_code, conflict.json()["error"]["code"]) == (
            409,
            "idempotency_conflict",
        )
        wait_final(http, first["id"])
        assert sim.get("stats")["submits"] == before + 1


class TestSecurity:
    def test_another_users_task_and_files_are_not_found(
        self, stack: tuple[Simulator, Server], http: httpx.Client
    ) -> None:
        done = wait_final(http, create(http, TEXT_TO_IMAGE, {"prompt": "mine"})["id"])
        url = done["outputs"][0]["url"]
        with stack[1].http(stack[1].new_token("mallory")) as other:
            assert other.get(f"/v1/tasks/{done['id']}").status_code == 404
            assert other.post(f"/v1/tasks/{done['id']}/cancel").status_code == 404
            assert other.get(f"/v1/tasks/{done['id']}/events").status_code == 404
            assert done["id"] not in str(other.get("/v1/tasks").json())
            unsigned = url.split("?")[0]
            assert other.get(unsigned).status_code == 404
        with stack[1].http(stack[1].new_token("root", admin=True)) as admin:
            assert admin.get(f"/v1/tasks/{done['id']}").status_code == 200
        assert http.get(unsigned).status_code == 200  # the owner's token
        forged = url.replace("sig=", "sig=0")
        assert httpx.get(stack[1].url + forged).status_code == 404
        assert httpx.get(stack[1].url + url).status_code == 200  # a signed link needs no token

    def test_forged_webhooks_are_rejected(self, stack: tuple[Simulator, Server]) -> None:
        base = stack[1].url
        with stack[1].http() as http:
            task = create(http, TEXT_MODEL, {"prompt": "hook"})
        body = {"event": "TASK_END", "taskId": "1", "eventData": "{}"}
        forged = httpx.post(f"{base}/hooks/runninghub/{task['id']}/{'0' * 32}", json=body)
        assert forged.status_code == 404
        signature = hmac.new(
            SECRET.encode(), f"hook:{task['id']}".encode(), hashlib.sha256
        ).hexdigest()[:32]
        genuine = httpx.post(f"{base}/hooks/runninghub/{task['id']}/{signature}", json=body)
        assert genuine.status_code == 202

    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1/a.png",
            "http://10.1.2.3/a.png",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/a.png",
            "http://2130706433/a.png",
        ],
    )
    def test_private_input_urls_are_refused(self, http: httpx.Client, url: str) -> None:
        params = {"imageUrl": url, "resolution": "720p", "duration": "5"}
        response = http.post("/v1/tasks", json={"model": IMAGE_TO_VIDEO, "params": params})
        assert response.status_code == 422
        [detail] = response.json()["error"]["details"]
        assert (detail["param"], detail["code"]) == ("imageUrl", "unsafe_url")

    def test_a_redirect_to_a_private_address_is_refused(
        self, http: httpx.Client, redirector: BackgroundServer
    ) -> None:
        url = f"{redirector.url}/photo.png"
        params = {"imageUrl": url, "resolution": "720p", "duration": "5"}
        response = http.post("/v1/tasks", json={"model": IMAGE_TO_VIDEO, "params": params})
        assert response.status_code == 422
        [detail] = response.json()["error"]["details"]
        assert detail["code"] == "unsafe_url"
        assert "private" in detail["message"]

    def test_file_urls_are_refused(self, http: httpx.Client) -> None:
        params = {"imageUrl": "file:///etc/passwd", "resolution": "720p", "duration": "5"}
        response = http.post("/v1/tasks", json={"model": IMAGE_TO_VIDEO, "params": params})
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["code"] == "invalid_url"

    def test_uploads_are_checked_by_content(self, http: httpx.Client) -> None:
        fake = http.post(
            "/v1/uploads", files={"file": ("cat.png", b"<html>hi</html>", "image/png")}
        )
        assert fake.status_code == 415
        big = png() + b"\0" * (21 * 1024 * 1024)
        too_big = http.post(
            "/v1/uploads",
            files={"file": ("big.png", big, "image/png")},
            data={"model": "hitem3d-portrait-v15/image-to-3d", "param": "imageUrl"},
        )
        assert too_big.status_code == 413  # that param takes 20 MB at most

    def test_the_runninghub_key_is_in_no_response_and_no_log(
        self, stack: tuple[Simulator, Server], http: httpx.Client
    ) -> None:
        done = wait_final(http, create(http, TEXT_MODEL, {"prompt": "secret?"})["id"])
        answers = [
            http.get(f"/v1/tasks/{done['id']}").text,
            http.get("/v1/tasks").text,
            httpx.get(f"{stack[1].url}/healthz").text,
            http.get("/openapi.json").text,
        ]
        assert all(KEY not in answer for answer in answers)
        server = stack[1]
        logs = [server.log, *([server.worker.log] if server.worker else [])]
        log = "".join(Path(path).read_text() for path in logs)
        assert "task_submitted" in log  # the logs are the server's (and its worker's)
        assert KEY not in log
