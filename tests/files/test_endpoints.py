"""`GET /files/...`: what an archived output is served as, and no input answers 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from aipaint.accounts.service import create_user
from aipaint.db import transaction
from aipaint.kit.ids import new_id
from aipaint.models import Output, Task
from aipaint.runtime import Runtime

pytestmark = pytest.mark.anyio

MODEL = "alibaba/wan-2.7/text-to-image"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
HTML = b"<html><script>alert(document.cookie)</script></html>"


async def _archived(app: FastAPI, data: bytes, content_type: str) -> Task:
    """A finished task of a user of its own, with one archived output recorded as `content_type`."""
    runtime: Runtime = app.state.runtime
    task_id = new_id("tsk_")
    key = f"tasks/{task_id}/0.png"
    await runtime.storage.put(key, _once(data), content_type="image/png")
    output = Output(index=0, type="png", archived=True, storage_key=key, content_type=content_type)
    async with transaction(runtime.sessions) as session:
        user, _ = await create_user(session, "files")
        task = Task(
            id=task_id,
            user_id=user.id,
            model=MODEL,
            params={"prompt": "x"},
            status="succeeded",
            outputs=[output],
        )
        session.add(task)
    return task


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def _link(app: FastAPI, task: Task, name: str = "0.png") -> str:
    index, _, extension = name.partition(".")
    return str(app.state.tasks.file_url(task.id, int(index), extension))


async def test_a_signed_link_serves_the_recorded_type_with_a_telling_name(
    app: FastAPI, anonymous: httpx.AsyncClient
) -> None:
    task = await _archived(app, PNG, "image/png")
    response = await anonymous.get(_link(app, task))
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"] == (
        f'inline; filename="alibaba-wan-2.7-text-to-image_{task.id}_0.png"'
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    policy = response.headers["content-security-policy"]
    assert "sandbox" in policy
    assert "default-src 'none'" in policy


async def test_a_type_recorded_from_runninghub_is_never_served_as_html(
    app: FastAPI, anonymous: httpx.AsyncClient
) -> None:
    # A row archived before types were sniffed holds whatever RunningHub sent.
    task = await _archived(app, HTML, "text/html")
    response = await anonymous.get(_link(app, task))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_another_extension_is_not_found(app: FastAPI, anonymous: httpx.AsyncClient) -> None:
    task = await _archived(app, PNG, "image/png")
    assert (await anonymous.get(_link(app, task, "0.html"))).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "0.png?expires=9999999999&sig=%C3%A9",  # a non-ASCII signature
        "99999999999999999999999.png",  # an index no column holds
        "%C2%B2.png",  # "²": a digit to str.isdigit, not to int()
        "0.png?expires=99999999999999999999999999&sig=0",
        "-1.png",
        ".png",
        "0",
    ],
)
async def test_bad_names_and_signatures_are_404_not_500(
    app: FastAPI, anonymous: httpx.AsyncClient, path: str
) -> None:
    task = await _archived(app, PNG, "image/png")
    response = await anonymous.get(f"/files/{task.id}/{path}")
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "file_not_found"
