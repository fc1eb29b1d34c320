"""S3Storage against a real S3-compatible server (moto's server mode, its own process): streamed
multipart puts with sha256 metadata, aborts that leave no upload open, ranges, presigned URLs,
and one clear error for each way the service can be unusable."""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from aipaint.kit.background_server import free_port
from aipaint.storage import (
    BucketMissing,
    CredentialsRefused,
    ObjectNotFound,
    S3Options,
    S3Storage,
    Storage,
    StorageUnreachable,
)
from aipaint.storage.s3 import PART_BUFFERS, PART_BYTES, PartBuffers
from tests.s3 import CREDENTIALS, S3Server, s3_server

pytestmark = pytest.mark.anyio
PNG = b"\x89PNG\r\n\x1a\n" + bytes(100)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    with (
        pytest.MonkeyPatch.context() as patch,
        s3_server(tmp_path_factory.mktemp("moto")) as started,
    ):
        for name, value in CREDENTIALS.items():
            patch.setenv(name, value)
        yield started


@pytest.fixture
def bucket(server: S3Server) -> str:
    return server.new_bucket()


@pytest.fixture
async def storage(server: S3Server, bucket: str) -> AsyncIterator[S3Storage]:
    store = server.storage(bucket)
    yield store
    await store.aclose()


async def feed(data: bytes, chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), chunk):
        yield data[start : start + chunk]


def payload(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


async def test_it_is_a_storage(storage: S3Storage) -> None:
    store: Storage = storage
    assert store.local_path("a/b.png") is None


class TestPut:
    async def test_a_small_object_in_one_put(
        self, server: S3Server, bucket: str, storage: S3Storage
    ) -> None:
        stored = await storage.put("tasks/t/0.png", feed(PNG), content_type="image/png")
        body, head = server.object(bucket, "archive/tasks/t/0.png")
        assert body == PNG
        assert stored.sha256 == hashlib.sha256(PNG).hexdigest() == head["Metadata"]["sha256"]
        assert (stored.size, stored.content_type) == (len(PNG), "image/png")
        assert head["ContentType"] == "image/png"

    async def test_a_multipart_object_carries_its_sha256(
        self, server: S3Server, bucket: str, storage: S3Storage
    ) -> None:
        data = PNG + payload(2 * PART_BYTES + 12345)  # three parts, the last a short one
        stored = await storage.put("tasks/t/1.png", feed(data), content_type="image/png")
        body, head = server.object(bucket, "archive/tasks/t/1.png")
        assert hashlib.sha256(body).hexdigest() == stored.sha256 == head["Metadata"]["sha256"]
        assert head["ContentType"] == "image/png"
        assert stored.size == len(data) == await storage.stat("tasks/t/1.png")
        assert await storage.sha256("tasks/t/1.png") == stored.sha256
        assert server.open_uploads(bucket) == []

    async def test_a_source_failing_midway_aborts_the_upload(
        self, server: S3Server, bucket: str, storage: S3Storage
    ) -> None:
        async def breaks() -> AsyncIterator[bytes]:
            async for chunk in feed(payload(PART_BYTES * 2)):
                yield chunk
            raise httpx.ReadError("the download broke off")

        with pytest.raises(httpx.ReadError):
            await storage.put("tasks/t/2.mp4", breaks(), content_type="video/mp4")
        assert server.open_uploads(bucket) == []
        assert await storage.stat("tasks/t/2.mp4") is None

    async def test_a_cancelled_put_aborts_the_upload(
        self, server: S3Server, bucket: str, storage: S3Storage
    ) -> None:
        parts_sent = asyncio.Event()

        async def slow() -> AsyncIterator[bytes]:
            async for chunk in feed(payload(PART_BYTES + 1)):
                yield chunk
            parts_sent.set()
            await asyncio.sleep(60)  # the rest never comes
            yield b"never"

        put = asyncio.create_task(storage.put("tasks/t/3.mp4", slow(), content_type="video/mp4"))
        await asyncio.wait_for(parts_sent.wait(), 30)
        assert len(server.open_uploads(bucket)) == 1  # a part is up, the upload open
        put.cancel()
        with pytest.raises(asyncio.CancelledError):
            await put
        assert server.open_uploads(bucket) == []
        # A retry starts clean and completes.
        data = payload(PART_BYTES + 1)
        stored = await storage.put("tasks/t/3.mp4", feed(data), content_type="video/mp4")
        assert stored.sha256 == hashlib.sha256(data).hexdigest()
        assert server.open_uploads(bucket) == []

    async def test_an_empty_object(self, storage: S3Storage) -> None:
        stored = await storage.put("empty", feed(b""), content_type="text/plain")
        assert (stored.size, stored.sha256) == (0, hashlib.sha256(b"").hexdigest())
        assert [chunk async for chunk in storage.open("empty")] == []


class TestRead:
    @pytest.mark.parametrize(
        ("start", "end"), [(0, None), (0, 1), (70_000, 70_001), (123, 99_999), (99_000, None)]
    )
    async def test_ranges(self, storage: S3Storage, start: int, end: int | None) -> None:
        data = payload(100_000)
        await storage.put("r.bin", feed(data), content_type="application/octet-stream")
        chunks = [chunk async for chunk in storage.open("r.bin", start=start, end=end)]
        assert b"".join(chunks) == data[start:end]

    async def test_absent(self, storage: S3Storage) -> None:
        assert await storage.stat("nothing/here") is None
        assert await storage.sha256("nothing/here") is None
        with pytest.raises(ObjectNotFound):
            async for _ in storage.open("nothing/here"):
                pass

    async def test_delete(self, storage: S3Storage) -> None:
        await storage.put("gone", feed(b"x"), content_type="text/plain")
        await storage.delete("gone")
        await storage.delete("gone")  # absent: not an error
        assert await storage.stat("gone") is None

    async def test_presigned_url_only_when_asked(self, server: S3Server, bucket: str) -> None:
        plain = server.storage(bucket)
        presigning = S3Storage(
            bucket, "archive", S3Options(**{**vars(server.options), "presign": True})
        )
        await plain.put("p.png", feed(PNG), content_type="image/png")
        options = {"expires_s": 60, "content_type": "image/png", "filename": "a b.png"}
        assert await plain.presigned_url("p.png", **options) is None  # type: ignore[arg-type]
        url = await presigning.presigned_url("p.png", **options)  # type: ignore[arg-type]
        assert url is not None
        response = httpx.get(url)
        assert response.status_code == 200
        assert response.content == PNG
        assert response.headers["content-type"] == "image/png"
        await plain.aclose()
        await presigning.aclose()


class TestUnusable:
    async def test_a_missing_bucket(self, server: S3Server) -> None:
        store = server.storage("no-such-bucket")
        with pytest.raises(BucketMissing, match="'no-such-bucket' does not exist"):
            await store.put("k", feed(b"x"), content_type="text/plain")
        await store.aclose()

    async def test_refused_credentials(self, tmp_path: Path) -> None:
        with s3_server(tmp_path, auth=True) as strict:
            store = strict.storage("any-bucket")
            with pytest.raises(CredentialsRefused, match="credentials were refused"):
                await store.put("k", feed(b"x"), content_type="text/plain")
            await store.aclose()

    async def test_an_unreachable_endpoint(self) -> None:
        nowhere = f"http://127.0.0.1:{free_port()}"
        store = S3Storage("b", "", S3Options(endpoint_url=nowhere, region="us-east-1"))
        with pytest.raises(StorageUnreachable, match=f"{nowhere} is unreachable"):
            await store.stat("k")
        await store.aclose()


class TestPartBuffers:
    async def test_uploads_share_a_bounded_set_of_buffers(self) -> None:
        buffers = PartBuffers(2)
        most = 0

        async def part() -> None:
            nonlocal most
            async with buffers.lease() as buffer:
                assert len(buffer) == PART_BYTES
                most = max(most, buffers.allocated)
                await asyncio.sleep(0.01)

        await asyncio.gather(*(part() for _ in range(6)))
        assert most == 2
        assert buffers.allocated == 0  # none kept once none is in use

    async def test_more_puts_than_buffers_each_arrive_whole(
        self, server: S3Server, bucket: str, storage: S3Storage
    ) -> None:
        data = [payload(PART_BYTES + 777, seed) for seed in range(PART_BUFFERS + 2)]
        stored = await asyncio.gather(
            *(
                storage.put(f"many/{n}.bin", feed(d), content_type="application/octet-stream")
                for n, d in enumerate(data)
            )
        )
        assert [s.sha256 for s in stored] == [hashlib.sha256(d).hexdigest() for d in data]
        assert storage._buffers.allocated == 0
        assert server.open_uploads(bucket) == []
