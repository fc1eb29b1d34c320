"""RunningHub's webhook receiver: whatever arrives, the answer is a 2xx or a 404, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from aipaint.accounts.service import create_user
from aipaint.db import transaction
from aipaint.kit.ids import new_id
from aipaint.models import Task
from aipaint.runtime import Runtime
from tests.support import LTX, LTX_PARAMS

pytestmark = pytest.mark.anyio

DEPTH = 100_000


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
async def hook_url(app: FastAPI) -> str:
    """The genuinely signed webhook URL of a task in the database. (Stored as finished, not
    created through the API: the worker then sends nothing upstream, whose client's log other
    tests capture.)"""
    runtime: Runtime = app.state.runtime
    async with transaction(runtime.sessions) as session:
        user, _ = await create_user(session, "hooks")
        task = Task(
            id=new_id("tsk_"),
            user_id=user.id,
            model=LTX,
            params=LTX_PARAMS,
            status="succeeded",
            outputs=[],
        )
        session.add(task)
    return f"/hooks/runninghub/{task.id}/{runtime.sign('hook', task.id)}"


async def test_a_non_ascii_signature_is_not_found(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.post("/hooks/runninghub/tsk_x/%C3%A9")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "body",
    [
        b"[" * DEPTH + b"]" * DEPTH,
        b'{"a":' * DEPTH + b"1" + b"}" * DEPTH,
        b'{"taskId": ' + b"[" * DEPTH + b"]" * DEPTH + b"}",
        b'{"event": "TASK_END", "eventData": "' + b"[" * DEPTH + b'"}',
        b'{"taskId": {"not": "an id"}}',
        b'{"taskId": "' + b"9" * 5000 + b'"}',
        b'{"taskId": true}',
        b"\xff\xfe not json",
    ],
)
async def test_any_body_of_a_signed_webhook_is_accepted_without_a_500(
    anonymous: httpx.AsyncClient, hook_url: str, body: bytes
) -> None:
    response = await anonymous.post(hook_url, content=body)
    assert response.status_code == 202, response.text
