"""Archival into S3 end to end: `aipaint serve`, the simulator and an S3-compatible server (moto's
server mode), each its own process. Image, video (over 50 MB) and text outputs; the recorded
sha256 is the object's; `/files` streams ranges or redirects to a presigned URL; an unusable
bucket is a clear 503, never a 500."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_lifecycle import TEXT_MODEL, TEXT_TO_IMAGE, create, png
from tests.s3 import S3Server, s3_server
from tests.stacks import Server, Simulator, server, simulator, wait_final
from tests.support import LTX, LTX_PARAMS

VIDEO_MB = 50


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("s3")


@pytest.fixture(scope="module")
def s3(tmp: Path) -> Iterator[S3Server]:
    with s3_server(tmp) as started:
        yield started


@pytest.fixture(scope="module")
def sim(tmp: Path) -> Iterator[Simulator]:
    with simulator(tmp) as started:
        yield started


@pytest.fixture(scope="module")
def streaming(tmp: Path, s3: S3Server, sim: Simulator) -> Iterator[tuple[Server, str]]:
    """aipaint archiving into a bucket and streaming `/files` from it."""
    bucket = s3.new_bucket()
    with server(tmp, sim, variables=s3.env(bucket)) as aipaint:
        yield aipaint, bucket


def object_of(s3: S3Server, bucket: str, output: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    index_and_type = f"{output['index']}.{output['type']}"
    task_id = output["url"].split("/files/", 1)[1].split("/", 1)[0]
    return s3.object(bucket, f"archive/tasks/{task_id}/{index_and_type}")


class TestStreaming:
    def test_an_image_is_archived_with_its_sha256(
        self, s3: S3Server, streaming: tuple[Server, str]
    ) -> None:
        aipaint, bucket = streaming
        with aipaint.http() as http:
            task = create(http, TEXT_TO_IMAGE, {"prompt": "a fox", "width": 512, "height": 512})
            done = wait_final(http, task["id"])
            assert done["status"] == "succeeded", done
            [output] = done["outputs"]
            body, head = object_of(s3, bucket, output)
            assert hashlib.sha256(body).hexdigest() == output["sha256"]
            assert head["Metadata"]["sha256"] == output["sha256"]
            assert head["ContentType"] == "image/png"
            assert len(body) == output["bytes"]
            assert body == httpx.get(output["source_url"]).content

            whole = http.get(output["url"])
            assert (whole.status_code, whole.content) == (200, body)
            assert whole.headers["content-type"] == "image/png"
            assert whole.headers["accept-ranges"] == "bytes"

            part = http.get(output["url"], headers={"Range": "bytes=100-1099"})
            assert part.status_code == 206
            assert part.content == body[100:1100]
            assert part.headers["content-range"] == f"bytes 100-1099/{len(body)}"
            tail = http.get(output["url"], headers={"Range": "bytes=-10"})
            assert (tail.status_code, tail.content) == (206, body[-10:])
            beyond = http.get(output["url"], headers={"Range": f"bytes={len(body)}-"})
            assert beyond.status_code == 416
            assert beyond.headers["content-range"] == f"bytes */{len(body)}"
        # The signed link alone (no token) serves the same bytes.
        signed = httpx.get(aipaint.url + output["url"])
        assert (signed.status_code, signed.content) == (200, body)
        unsigned = httpx.get(aipaint.url + output["url"].split("?", 1)[0])
        assert unsigned.status_code == 404

    def test_a_text_output_lives_in_its_row(
        self, s3: S3Server, streaming: tuple[Server, str]
    ) -> None:
        aipaint, bucket = streaming
        with aipaint.http() as http:
            task = create(http, TEXT_MODEL, {"prompt": "say hello"})
            done = wait_final(http, task["id"])
        assert done["status"] == "succeeded", done
        [output] = done["outputs"]
        assert output["archived"]
        assert output["text"]
        assert s3.open_uploads(bucket) == []

    def test_an_upload_is_kept_in_the_bucket(
        self, s3: S3Server, streaming: tuple[Server, str]
    ) -> None:
        aipaint, bucket = streaming
        data = png()
        with aipaint.http() as http:
            uploaded = http.post("/v1/uploads", files={"file": ("cat.png", data, "image/png")})
        assert uploaded.status_code == 200, uploaded.text
        sha256 = hashlib.sha256(data).hexdigest()
        body, head = s3.object(bucket, f"archive/uploads/{sha256}.png")
        assert body == data
        assert head["Metadata"]["sha256"] == sha256


def test_a_large_video_is_streamed_in_parts_and_served_by_redirect(tmp: Path, s3: S3Server) -> None:
    """A video over 50 MB goes up as a multipart upload; with AIPAINT_S3_PRESIGN `/files`
    redirects to a presigned URL (after checking the token or signature), which seeks too."""
    bucket = s3.new_bucket()
    with (
        simulator(tmp, "--output-pad-mb", str(VIDEO_MB)) as padded,
        server(tmp, padded, variables=s3.env(bucket), AIPAINT_S3_PRESIGN="true") as aipaint,
        aipaint.http() as http,
    ):
        task = create(http, LTX, LTX_PARAMS)
        done = wait_final(http, task["id"], timeout=120)
        assert done["status"] == "succeeded", done
        [output] = done["outputs"]
        assert output["type"] == "mp4"
        assert output["bytes"] >= VIDEO_MB * 2**20
        body, head = object_of(s3, bucket, output)
        assert hashlib.sha256(body).hexdigest() == output["sha256"] == head["Metadata"]["sha256"]
        assert head["ContentType"] == "video/mp4"
        assert s3.open_uploads(bucket) == []

        redirect = http.get(output["url"].split("?", 1)[0])  # the owner's token
        assert redirect.status_code == 307
        location = redirect.headers["location"]
        assert location.startswith(s3.url)
        seek = httpx.get(location, headers={"Range": "bytes=1000000-1000999"})
        assert (seek.status_code, seek.content) == (206, body[1000000:1001000])
        assert httpx.get(aipaint.url + output["url"]).status_code == 307  # signed, no token
        assert httpx.get(aipaint.url + output["url"].split("?", 1)[0]).status_code == 404
        del body


@pytest.mark.parametrize("problem", ["missing bucket", "refused credentials"])
def test_an_unusable_bucket_is_a_clear_503(
    tmp: Path, s3: S3Server, sim: Simulator, problem: str
) -> None:
    with (
        s3_server(tmp, auth=True)
        if problem == "refused credentials"
        else nullcontext(s3) as target,
        server(tmp, sim, variables=target.env("no-such-bucket")) as aipaint,
        aipaint.http() as http,
    ):
        uploaded = http.post("/v1/uploads", files={"file": ("cat.png", png(), "image/png")})
        assert uploaded.status_code == 503, uploaded.text
        error = uploaded.json()["error"]
        assert error["code"] == "storage_unavailable"
        expected = "does not exist" if problem == "missing bucket" else "credentials were refused"
        assert expected in error["message"]
        # The task runs; its archival is retried, and nothing answers 500.
        task = create(http, TEXT_TO_IMAGE, {"prompt": "a fox"})
        for _ in range(20):
            assert http.get(f"/v1/tasks/{task['id']}").status_code == 200
