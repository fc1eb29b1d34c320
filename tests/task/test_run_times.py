"""`GET /v1/run-times`: what the studio's progress bars estimate from."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from aipaint.accounts.service import create_user
from aipaint.db import transaction
from aipaint.kit.ids import new_id
from aipaint.models import Task
from aipaint.models.base import utc_now

pytestmark = pytest.mark.anyio

MODEL = "hunyuan3d-v3.1/text-to-3d"
UNUSED = "hunyuan3d-v3.1/image-to-3d"


async def test_median_and_p90_of_the_models_successes(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    now = utc_now()
    async with transaction(app.state.runtime.sessions) as session:
        user, _ = await create_user(session, "run-times")
        runs = [(10, "succeeded"), (20, "succeeded"), (30, "succeeded"), (400, "failed")]
        for seconds, status in runs:
            task = Task(
                id=new_id("tsk_"),
                user_id=user.id,
                model=MODEL,
                params={},
                status=status,
                submitted_at=now - timedelta(seconds=seconds),
                finished_at=now,
                outputs=[],
            )
            session.add(task)

    response = await client.get("/v1/run-times", params={"model": MODEL})

    assert response.status_code == 200
    assert response.json() == {"model": MODEL, "samples": 3, "median_s": 20.0, "p90_s": 30.0}


async def test_a_model_never_run_has_no_estimate(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/run-times", params={"model": UNUSED})).json()
    assert body == {"model": UNUSED, "samples": 0, "median_s": None, "p90_s": None}


async def test_unknown_model_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/run-times", params={"model": "no/such-model"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"
