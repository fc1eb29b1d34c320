from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio

LTX = "rhart-video/ltx-2.3/text-to-video"
VALID_LTX = {
    "prompt": "a bird over a city",
    "resolution": "720p",
    "aspectRatio": "16:9",
    "duration": 5,
}


class TestListModels:
    async def test_lists_every_model_with_summary_fields(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/models")
        assert response.status_code == 200
        body = response.json()
        assert len(body["models"]) == 302
        first = body["models"][0]
        assert set(first) >= {"id", "title", "category", "output_type", "price", "provider"}
        assert set(first["title"]) == {"zh", "en"}
        assert "text-to-video" in body["categories"]

    async def test_filters_by_category(self, client: httpx.AsyncClient) -> None:
        models = (await client.get("/v1/models", params={"category": "image-to-3d"})).json()[
            "models"
        ]
        assert models
        assert {m["category"] for m in models} == {"image-to-3d"}

    async def test_searches_id_and_both_titles(self, client: httpx.AsyncClient) -> None:
        by_id = (await client.get("/v1/models", params={"q": "ltx-2.3"})).json()["models"]
        assert LTX in {m["id"] for m in by_id}
        by_zh_title = (await client.get("/v1/models", params={"q": "文生视频 LTX 2.3"})).json()[
            "models"
        ]
        assert [m["id"] for m in by_zh_title] == [LTX]

    async def test_unknown_category_is_an_empty_list(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/models", params={"category": "nope"})
        assert response.status_code == 200
        assert response.json()["models"] == []


class TestGetModel:
    async def test_serves_schema_with_ui_hints(self, client: httpx.AsyncClient) -> None:
        response = await client.get(f"/v1/models/{LTX}")
        assert response.status_code == 200
        body = response.json()
        assert body["id"] == LTX
        schema = body["schema"]
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["x-order"] == ["prompt", "resolution", "aspectRatio", "duration"]
        duration = schema["properties"]["duration"]
        assert (duration["type"], duration["minimum"], duration["maximum"]) == ("integer", 5, 15)
        assert duration["x-label"] == {"zh": "时长", "en": "Duration"}
        resolution = schema["properties"]["resolution"]
        assert resolution["x-enum-labels"]["720p"] == {"zh": "720p", "en": "720p"}
        assert schema["properties"]["prompt"]["x-widget"] == "textarea"

    async def test_etag_answers_304_when_unchanged(self, client: httpx.AsyncClient) -> None:
        first = await client.get(f"/v1/models/{LTX}")
        etag = first.headers["etag"]
        again = await client.get(f"/v1/models/{LTX}", headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        weak = await client.get(f"/v1/models/{LTX}", headers={"If-None-Match": f"W/{etag}"})
        assert weak.status_code == 304
        other = await client.get(f"/v1/models/{LTX}", headers={"If-None-Match": '"other"'})
        assert other.status_code == 200

    async def test_each_model_has_its_own_etag(self, client: httpx.AsyncClient) -> None:
        a = await client.get(f"/v1/models/{LTX}")
        b = await client.get("/v1/models/alibaba/happyhorse-1.0/image-to-video")
        assert a.headers["etag"] != b.headers["etag"]

    async def test_unknown_model_is_404_in_the_error_shape(self, client: httpx.AsyncClient) -> None:
        response = await client.get(
            "/v1/models/no/such-model", headers={"Accept-Language": "zh-CN"}
        )
        assert response.status_code == 404
        error = response.json()["error"]
        assert error["code"] == "model_not_found"
        assert "no/such-model" in error["message"]
        assert "不存在" in error["message"]


class TestEstimates:
    async def test_prices_a_per_second_model(self, client: httpx.AsyncClient) -> None:
        body = {
            "model": "alibaba/happyhorse-1.0/image-to-video",
            "params": {
                "imageUrl": "https://example.com/a.png",
                "resolution": "720p",
                "duration": "5",
            },
        }
        response = await client.post("/v1/estimates", json=body)
        assert response.status_code == 200
        estimate = response.json()
        assert estimate["known"] is True
        assert (estimate["unit_price"], estimate["quantity"], estimate["total"]) == (
            "0.9",
            5,
            "4.5",
        )
        assert estimate["currency"] == "CNY"

    async def test_unknown_price_is_never_free(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/estimates", json={"model": LTX, "params": VALID_LTX})
        estimate = response.json()
        assert estimate["known"] is False
        assert estimate["total"] is None
        assert estimate["unit_price"] is None

    async def test_invalid_params_answer_422_with_every_field(
        self, client: httpx.AsyncClient
    ) -> None:
        params = {"resolution": "4k", "duration": 20, "extra": True}
        response = await client.post("/v1/estimates", json={"model": LTX, "params": params})
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "invalid_params"
        found = [(d["param"], d["code"]) for d in error["details"]]
        assert found == [
            ("prompt", "missing_required"),
            ("resolution", "not_in_enum"),
            ("aspectRatio", "missing_required"),
            ("duration", "out_of_range"),
            ("extra", "unknown_param"),
        ]

    @pytest.mark.parametrize(
        ("language", "expected"),
        [
            ("zh-CN,zh;q=0.9", "时长必须在 [5, 15] 之间。"),
            ("en-US", "Duration must be within [5, 15]."),
        ],
    )
    async def test_messages_follow_accept_language(
        self, client: httpx.AsyncClient, language: str, expected: str
    ) -> None:
        params = {**VALID_LTX, "duration": 16}
        response = await client.post(
            "/v1/estimates",
            json={"model": LTX, "params": params},
            headers={"Accept-Language": language},
        )
        assert response.json()["error"]["details"][0]["message"] == expected

    async def test_unknown_model_is_404(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/estimates", json={"model": "nope", "params": {}})
        assert response.status_code == 404

    @pytest.mark.parametrize(
        "body",
        [b"", b"{", b"[]", b'{"model": 3}', b'{"params": {}}', b'{"model": "x", "params": []}'],
    )
    async def test_malformed_bodies_answer_422(
        self, client: httpx.AsyncClient, body: bytes
    ) -> None:
        response = await client.post(
            "/v1/estimates", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_request"
