"""`POST /v1/uploads`: streamed to disk after the token is checked, limited as the bytes arrive,
checked by decoding the file's header, forwarded upstream from disk."""

from __future__ import annotations

import io
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image

from aipaint.simulator.outputs import render

pytestmark = pytest.mark.anyio

MB = 1024 * 1024
BOUNDARY = "aipaint-test-boundary"
# A param that takes 20 MB of JPG, PNG or WEBP images.
HITEM = {"model": "hitem3d-portrait-v15/image-to-3d", "param": "imageUrl"}
VIDEO = {"model": "bytedance/dreamactor-v2", "param": "videoUrl"}


def png(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (20, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def temp_files() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("aipaint-upload-*"))


class Pulled:
    """A multipart body streamed in chunks, counting how much of it the server pulled."""

    def __init__(self, fields: dict[str, str], file: bytes | None, padding: int = 0) -> None:
        head = "".join(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in fields.items()
        ).encode()
        if file is not None:
            head += (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
                'filename="a.png"\r\nContent-Type: image/png\r\n\r\n'
            ).encode() + file
        self.parts = [head, b"\0" * padding, f"\r\n--{BOUNDARY}--\r\n".encode()]
        self.total = sum(map(len, self.parts))
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self.parts:
            for start in range(0, len(part), 256 * 1024):
                chunk = part[start : start + 256 * 1024]
                self.sent += len(chunk)
                yield chunk


async def post(http: httpx.AsyncClient, body: Pulled) -> httpx.Response:
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    return await http.post("/v1/uploads", content=body.__aiter__(), headers=headers)


async def test_an_image_is_forwarded_and_cached_by_content(client: httpx.AsyncClient) -> None:
    before = temp_files()
    data = png(61, 47)
    first = await client.post("/v1/uploads", data=HITEM, files={"file": ("x.bin", data)})
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["content_type"], body["size"]) == ("image/png", len(data))
    again = await client.post("/v1/uploads", files={"file": ("again.png", data)})
    assert again.json()["url"] == body["url"]
    assert temp_files() == before  # every temporary file is gone


async def test_a_video_is_decoded_and_accepted(client: httpx.AsyncClient) -> None:
    video = render("video", {"prompt": "x"}, seed=3).data
    response = await client.post("/v1/uploads", data=VIDEO, files={"file": ("v.mp4", video)})
    assert response.status_code == 200, response.text
    assert response.json()["content_type"] == "video/mp4"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>" + b" " * 64, "png"),
        (png()[:60], "png"),  # the header cut short
        (render("video", {"prompt": "x"}, seed=3).data[:40] + b"<html>" * 50, "mp4"),
        (render("audio", {"prompt": "x"}, seed=3).data[:8] + b"<html>" * 50, "mp3"),
        (png(40_000, 1), "40000×1"),  # a real PNG, but no real upload is 40,000 pixels wide
        (b"<html>hi</html>", "not an image"),
    ],
)
async def test_magic_bytes_alone_are_not_enough(
    client: httpx.AsyncClient, data: bytes, reason: str
) -> None:
    response = await client.post("/v1/uploads", files={"file": ("cat.png", data, "image/png")})
    assert response.status_code == 415, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_upload"
    assert reason in error["message"]


async def test_the_params_limit_applies_as_the_file_arrives(client: httpx.AsyncClient) -> None:
    before = temp_files()
    body = Pulled(HITEM, png(), padding=100 * MB)
    response = await post(client, body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "invalid_upload"
    assert body.sent < 22 * MB  # cut at the param's 20 MB, not read to the end
    assert temp_files() == before


async def test_the_exact_limit_is_checked_when_the_fields_come_last(
    client: httpx.AsyncClient,
) -> None:
    data = png() + b"\0" * (21 * MB)
    response = await client.post("/v1/uploads", files={"file": ("a.png", data)}, data=HITEM)
    assert response.status_code == 413  # (httpx sends fields first; this checks the final check)
    late = Pulled({}, png(), padding=21 * MB)
    late.parts.insert(
        2,
        f'\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="model"\r\n\r\n'
        f"{HITEM['model']}".encode(),
    )
    assert (await post(client, late)).status_code == 413


async def test_without_a_token_nothing_is_read(app: FastAPI) -> None:
    body = Pulled({}, png(), padding=10 * MB)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await post(http, body)
    assert response.status_code == 401
    assert body.sent <= 256 * 1024  # at most the chunk in flight


@pytest.mark.parametrize(
    ("fields", "file", "status", "code"),
    [
        ({}, None, 422, "invalid_upload"),  # no file
        ({"model": "no/such-model"}, png(), 404, "model_not_found"),
        ({**HITEM, "param": "nope"}, png(), 404, "model_not_found"),
        ({}, b"", 422, "invalid_upload"),  # empty
        ({"model": "x" * 5000}, png(), 422, "invalid_upload"),  # a field too long
    ],
)
async def test_bad_forms_are_4xx(
    client: httpx.AsyncClient, fields: dict[str, str], file: bytes | None, status: int, code: str
) -> None:
    response = await post(client, Pulled(fields, file))
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"file": "x"}'),
        ("multipart/form-data", b"--x\r\n"),  # no boundary
        (f"multipart/form-data; boundary={BOUNDARY}", b"garbage without any boundary"),
        (f"multipart/form-data; boundary={BOUNDARY}", f"--{BOUNDARY}\r\nbroken\r\n\r\n".encode()),
    ],
)
async def test_a_body_that_is_no_form_is_422(
    client: httpx.AsyncClient, content_type: str, body: bytes
) -> None:
    response = await client.post(
        "/v1/uploads", content=body, headers={"Content-Type": content_type}
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_upload"


async def test_two_files_are_refused(client: httpx.AsyncClient) -> None:
    files = [("file", ("a.png", png())), ("file", ("b.png", png()))]
    response = await client.post("/v1/uploads", files=files)
    assert response.status_code == 422
