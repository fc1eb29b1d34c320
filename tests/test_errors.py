"""No request, however malformed, gets a 500: every route answers in the one error shape."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aipaint.catalog.service import Catalog

pytestmark = pytest.mark.anyio

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def _model_ids() -> list[str]:
    from aipaint.catalog.paths import MODELS_DIR

    return [spec.id for spec in Catalog.load(MODELS_DIR).search()]


MODEL_IDS = _model_ids()


def _assert_error_shape(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert isinstance(error["code"], str)
        assert isinstance(error["message"], str)
        assert isinstance(error["details"], list)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    model=st.sampled_from(MODEL_IDS) | st.text(max_size=30),
    params=json_values,
    language=st.sampled_from(["zh-CN", "en", "", "xx;q=bad", "zh;q=0.1,en;q=0.2"]),
)
async def test_estimates_never_answer_500(
    app: FastAPI, model: str, params: Any, language: str
) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post(
            "/v1/estimates",
            content=json.dumps({"model": model, "params": params}),
            headers={"Content-Type": "application/json", "Accept-Language": language},
        )
    _assert_error_shape(response)


@settings(max_examples=100, deadline=None)
@given(path=st.text(alphabet=st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=40))
async def test_model_lookup_never_answers_500(app: FastAPI, path: str) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/v1/models/" + path.replace("#", "").replace("?", ""))
    _assert_error_shape(response)


async def test_unknown_route_and_method_use_the_error_shape(client: httpx.AsyncClient) -> None:
    missing = await client.get("/v1/nothing")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong_method = await client.delete("/v1/estimates")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
