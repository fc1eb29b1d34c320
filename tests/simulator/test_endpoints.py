"""The simulator answers like RunningHub's OpenAPI v2, over a real socket."""

from __future__ import annotations

import hashlib
import io
import time
from typing import Any

import av
import httpx
import pytest
from PIL import Image

from aipaint.simulator.app import SimulatorServer
from aipaint.simulator.settings import DEMO_KEY, Account
from tests.simulator.conftest import AUTH, NORMAL_KEY, POOR_KEY, make_settings, wait_final
from tests.support import LTX, LTX_PARAMS

V2_FIELDS = {"taskId", "status", "errorCode", "errorMessage", "results", "clientId", "promptTips"}


class TestSubmit:
    def test_accepts_a_valid_task_in_the_v2_shape(self, http: httpx.Client) -> None:
        response = http.post(f"/openapi/v2/{LTX}", json=LTX_PARAMS)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == V2_FIELDS
        assert "code" not in body
        assert body["taskId"].isdigit()
        assert body["status"] in ("QUEUED", "RUNNING")
        assert (body["errorCode"], body["errorMessage"], body["results"]) == ("", "", None)

    def test_task_runs_to_success_with_a_downloadable_result(self, http: httpx.Client) -> None:
        task_id = http.post(f"/openapi/v2/{LTX}", json=LTX_PARAMS).json()["taskId"]
        body = wait_final(http, task_id)
        assert body["status"] == "SUCCESS"
        [result] = body["results"]
        assert (result["outputType"], result["text"]) == ("mp4", None)
        assert body["usage"]["consumeMoney"] is not None
        video = httpx.get(result["url"])
        assert video.status_code == 200
        assert video.headers["content-type"] == "video/mp4"

    def test_text_models_answer_in_text(self, http: httpx.Client) -> None:
        task_id = http.post(
            "/openapi/v2/rhart-text-g-25-pro/text-to-text", json={"prompt": "hello"}
        ).json()["taskId"]
        [result] = wait_final(http, task_id)["results"]
        assert result["url"] is None
        assert result["outputType"] == "txt"
        assert result["text"]

    @pytest.mark.parametrize(
        ("headers", "code"),
        [
            ({}, "1002"),
            ({"Authorization": "Bearer nope"}, "1002"),
            ({"Authorization": f"Basic {DEMO_KEY}"}, "1002"),
            ({"Authorization": f"Bearer {NORMAL_KEY}"}, "1014"),
        ],
    )
    def test_refuses_bad_keys(
        self, sim: SimulatorServer, headers: dict[str, str], code: str
    ) -> None:
        response = httpx.post(f"{sim.url}/openapi/v2/{LTX}", json=LTX_PARAMS, headers=headers)
        assert response.status_code == 200
        body = response.json()
        assert (body["errorCode"], body["taskId"]) == (code, "")
        assert "code" not in body

    def test_refuses_bad_params_naming_the_field(self, http: httpx.Client) -> None:
        body = http.post(f"/openapi/v2/{LTX}", json={**LTX_PARAMS, "duration": 99}).json()
        assert body["errorCode"] == "1007"
        assert "duration" in body["errorMessage"]

    def test_refuses_an_unknown_model(self, http: httpx.Client) -> None:
        assert http.post("/openapi/v2/no/such-model", json={}).json()["errorCode"] == "1001"

    def test_refuses_a_body_that_is_not_json(self, http: httpx.Client) -> None:
        response = http.post(f"/openapi/v2/{LTX}", content=b"{", headers={"Content-Type": "x"})
        assert response.json()["errorCode"] == "1007"

    def test_refuses_when_the_wallet_is_empty(self, sim: SimulatorServer) -> None:
        headers = {"Authorization": f"Bearer {POOR_KEY}"}
        body = httpx.post(
            f"{sim.url}/openapi/v2/alibaba/happyhorse-1.0/image-to-video",
            json={"imageUrl": "https://example.com/a.png", "resolution": "1080p", "duration": "5"},
            headers=headers,
        ).json()
        assert body["errorCode"] == "416"

    def test_counts_submits_per_key(self, sim: SimulatorServer, http: httpx.Client) -> None:
        before = httpx.get(f"{sim.url}/simulator/stats").json()["submits"]
        http.post(f"/openapi/v2/{LTX}", json=LTX_PARAMS)
        http.post(f"/openapi/v2/{LTX}", json={"prompt": "x"})  # refused: not a submit
        stats = httpx.get(f"{sim.url}/simulator/stats").json()
        assert stats["submits"] == before + 1
        assert DEMO_KEY not in str(stats)


class TestConcurrencyLimit:
    def test_tasks_over_the_limit_get_421(self, catalog: Any) -> None:
        settings = make_settings(concurrency_limit=2, speed=1)
        with (
            SimulatorServer(settings, catalog=catalog) as sim,
            httpx.Client(base_url=sim.url, headers=AUTH) as http,
        ):
            codes = [
                http.post(f"/openapi/v2/{LTX}", json=LTX_PARAMS).json()["errorCode"]
                for _ in range(3)
            ]
            assert codes == ["", "", "421"]
            status = http.get("/openapi/v2/queue/status").json()["data"]
            assert (status["concurrentLimit"], status["totalCurrentTasks"]) == (2, "2")


class TestQuery:
    def test_unknown_task_is_1004(self, http: httpx.Client) -> None:
        body = http.post("/openapi/v2/query", json={"taskId": "123"}).json()
        assert body["errorCode"] == "1004"

    def test_another_keys_task_is_not_found(self, sim: SimulatorServer, catalog: Any) -> None:
        other = "aipaint-simulator-other-key-0001"
        sim.simulator.state.accounts[other] = Account()
        task_id = httpx.post(f"{sim.url}/openapi/v2/{LTX}", json=LTX_PARAMS, headers=AUTH).json()[
            "taskId"
        ]
        body = httpx.post(
            f"{sim.url}/openapi/v2/query",
            json={"taskId": task_id},
            headers={"Authorization": f"Bearer {other}"},
        ).json()
        assert body["errorCode"] == "1004"

    def test_accepts_task_id_spelled_snake_case(self, http: httpx.Client) -> None:
        task_id = http.post(f"/openapi/v2/{LTX}", json=LTX_PARAMS).json()["taskId"]
        assert http.post("/openapi/v2/query", json={"task_id": task_id}).json()["taskId"] == task_id


class TestOutputs:
    def test_image_is_a_png_of_the_requested_size(self, http: httpx.Client) -> None:
        task_id = http.post(
            "/openapi/v2/alibaba/wan-2.7/text-to-image",
            json={"prompt": "a cat", "width": 1024, "height": 576},
        ).json()["taskId"]
        [result] = wait_final(http, task_id)["results"]
        assert result["outputType"] == "png"
        image = Image.open(io.BytesIO(httpx.get(result["url"]).content))
        assert (image.format, image.size) == ("PNG", (1024, 576))

    def test_video_is_an_h264_mp4(self, http: httpx.Client) -> None:
        task_id = http.post(f"/openapi/v2/{LTX}", json=LTX_PARAMS).json()["taskId"]
        [result] = wait_final(http, task_id)["results"]
        with av.open(io.BytesIO(httpx.get(result["url"]).content)) as container:
            [stream] = container.streams.video
            assert stream.codec_context.name == "h264"
            assert stream.width / stream.height == pytest.approx(16 / 9, rel=0.02)


class TestResultLinks:
    def test_expire_and_refuse_forgery(self, catalog: Any) -> None:
        with (
            SimulatorServer(make_settings(result_ttl_s=0.3), catalog=catalog) as sim,
            httpx.Client(base_url=sim.url, headers=AUTH) as http,
        ):
            image = http.post(
                "/openapi/v2/alibaba/wan-2.7/text-to-image", json={"prompt": "a cat"}
            ).json()
            body = wait_final(http, image["taskId"])
            url = body["results"][0]["url"]
            assert httpx.get(url).status_code == 200
            assert httpx.get(url.replace("sig=", "sig=0")).status_code == 403
            time.sleep(1.5)
            expired = httpx.get(url)
            assert expired.status_code == 403
            assert b"expired" in expired.content


class TestUpload:
    def test_names_are_content_addressed(self, http: httpx.Client) -> None:
        data = b"\x89PNG\r\n\x1a\n" + b"0" * 100
        first = http.post(
            "/openapi/v2/media/upload/binary", files={"file": ("a.png", data, "image/png")}
        )
        second = http.post(
            "/openapi/v2/media/upload/binary", files={"file": ("b.png", data, "image/png")}
        )
        body = first.json()
        assert (body["code"], body["message"]) == (0, "success")
        digest = hashlib.sha256(data).hexdigest()
        assert body["data"]["fileName"] == f"openapi/{digest}.png"
        assert second.json()["data"]["fileName"] == body["data"]["fileName"]
        assert (body["data"]["type"], body["data"]["size"]) == ("image", str(len(data)))
        assert httpx.get(body["data"]["download_url"]).content == data

    def test_refuses_files_over_the_limit(self, catalog: Any) -> None:
        with SimulatorServer(make_settings(upload_max_mb=0.001), catalog=catalog) as sim:
            response = httpx.post(
                f"{sim.url}/openapi/v2/media/upload/binary",
                files={"file": ("a.png", b"0" * 2000, "image/png")},
                headers=AUTH,
            )
            assert response.json()["code"] == 809

    def test_refuses_a_bad_key(self, sim: SimulatorServer) -> None:
        response = httpx.post(
            f"{sim.url}/openapi/v2/media/upload/binary",
            files={"file": ("a.png", b"x", "image/png")},
        )
        assert response.json()["code"] != 0


class TestAdminCalls:
    def test_queue_status_shape(self, http: httpx.Client) -> None:
        body = http.get("/openapi/v2/queue/status").json()
        assert (body["code"], body["msg"]) == (0, "success")
        data = body["data"]
        assert data["apiKeyType"] == "SHARED"
        assert isinstance(data["concurrentLimit"], int)
        assert all(
            isinstance(data[k], str) for k in ("runningCount", "queuedCount", "totalCurrentTasks")
        )

    def test_price_preview_uses_the_catalog_prices(self, http: httpx.Client) -> None:
        body = http.post(
            "/openapi/v2/price-preview/alibaba/happyhorse-1.0/image-to-video",
            json={"imageUrl": "https://example.com/a.png", "resolution": "720p", "duration": "5"},
        ).json()
        assert "code" not in body
        assert (body["errorCode"], body["estimatedPrice"], body["currency"]) == ("", 4.5, "CNY")

    def test_price_preview_refuses_bad_params(self, http: httpx.Client) -> None:
        body = http.post("/openapi/v2/price-preview/alibaba/happyhorse-1.0/image-to-video", json={})
        assert body.json()["errorCode"] == "1007"

    def test_account_status_needs_the_key_in_the_body_too(self, http: httpx.Client) -> None:
        good = http.post("/uc/openapi/accountStatus", json={"apikey": DEMO_KEY}).json()
        assert good["code"] == 0
        assert set(good["data"]) == {
            "remainCoins",
            "currentTaskCounts",
            "remainMoney",
            "currency",
            "apiType",
        }
        assert all(isinstance(v, str) for v in good["data"].values())
        bad = http.post("/uc/openapi/accountStatus", json={"apiKey": DEMO_KEY}).json()
        assert bad["code"] == 802
