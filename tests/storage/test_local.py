"""LocalStorage: streamed, checksummed, atomic puts; reads, stats, deletes; key hygiene."""

from __future__ import annotations

import hashlib
import random
import threading
import time
import tracemalloc
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import anyio
import pytest

from aipaint.storage import (
    UNKNOWN_TYPE,
    InvalidKey,
    LocalStorage,
    ObjectNotFound,
    S3Storage,
    StoredObject,
    storage_from_url,
)
from aipaint.storage import local as local_module

pytestmark = pytest.mark.anyio

CHUNK = 64 * 1024
KEY = "tasks/01JABCDEFGHJKMNPQRSTVWXYZ0/0.png"


async def feed(data: bytes, chunk_size: int = CHUNK) -> AsyncIterator[bytes]:
    for start in range(0, len(data), chunk_size):
        yield data[start : start + chunk_size]


class Boom(Exception):
    pass


async def failing_after(data: bytes, chunks: int) -> AsyncIterator[bytes]:
    async for chunk in feed(data[: chunks * CHUNK]):
        yield chunk
    raise Boom("the upstream download broke")


async def read_all(storage: LocalStorage, key: str, chunk_size: int = CHUNK) -> bytes:
    return b"".join([chunk async for chunk in storage.open(key, chunk_size=chunk_size)])


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "store")


def payload(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


class TestRoundTrip:
    async def test_multi_megabyte_object_in_64k_chunks(self, storage: LocalStorage) -> None:
        data = payload(5 * 1024 * 1024 + 123)  # not a multiple of the chunk or buffer size
        stored = await storage.put(KEY, feed(data), content_type="image/png")

        assert stored == StoredObject(
            key=KEY,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            content_type=UNKNOWN_TYPE,  # random bytes: no media type, whatever was declared
        )
        chunks = [chunk async for chunk in storage.open(KEY)]
        assert b"".join(chunks) == data
        assert all(len(chunk) <= CHUNK for chunk in chunks)
        assert len(chunks) == len(data) // CHUNK + 1
        assert await storage.stat(KEY) == len(data)
        path = storage.local_path(KEY)
        assert path == storage.root / "tasks" / "01JABCDEFGHJKMNPQRSTVWXYZ0" / "0.png"
        assert path.read_bytes() == data
        assert files_under(storage.root) == [path]  # no temp file left beside it

    async def test_chunk_size_of_open_is_honoured(self, storage: LocalStorage) -> None:
        data = payload(10_000)
        await storage.put("a.bin", feed(data), content_type="application/octet-stream")
        chunks = [chunk async for chunk in storage.open("a.bin", chunk_size=4096)]
        assert [len(chunk) for chunk in chunks] == [4096, 4096, 1808]

    @pytest.mark.parametrize(
        ("start", "end"), [(0, 1), (4095, 4097), (9_000, None), (10_000, None)]
    )
    async def test_a_byte_range(self, storage: LocalStorage, start: int, end: int | None) -> None:
        data = payload(10_000)
        await storage.put("a.bin", feed(data), content_type="application/octet-stream")
        chunks = storage.open("a.bin", chunk_size=4096, start=start, end=end)
        assert b"".join([chunk async for chunk in chunks]) == data[start:end]

    async def test_walk_leaves_temp_files_out(self, storage: LocalStorage) -> None:
        for key in ("b/2.png", "a.bin", "b/1.png"):
            await storage.put(key, feed(b"x"), content_type="image/png")
        (storage.root / "b" / ".1.png.0123.part").write_bytes(b"half")
        assert list(storage.walk()) == ["a.bin", "b/1.png", "b/2.png"]

    async def test_big_and_tiny_chunks_mixed(self, storage: LocalStorage) -> None:
        pieces = [b"x", payload(3 * 1024 * 1024, 1), b"", b"yz", payload(100, 2)]

        async def chunks() -> AsyncIterator[bytes]:
            for piece in pieces:
                yield piece

        data = b"".join(pieces)
        stored = await storage.put("mixed", chunks(), content_type="video/mp4")
        assert (stored.size, stored.sha256) == (len(data), hashlib.sha256(data).hexdigest())
        assert await read_all(storage, "mixed") == data

    async def test_empty_object(self, storage: LocalStorage) -> None:
        stored = await storage.put("empty", feed(b""), content_type="text/plain")
        assert (stored.size, stored.sha256) == (0, hashlib.sha256(b"").hexdigest())
        assert await storage.stat("empty") == 0
        assert await read_all(storage, "empty") == b""

    async def test_put_twice_overwrites(self, storage: LocalStorage) -> None:
        await storage.put(KEY, feed(payload(300_000, 1)), content_type="image/png")
        second = b"RIFF\x00\x00\x00\x00WEBP" + payload(988, 2)
        stored = await storage.put(KEY, feed(second), content_type="image/png")
        assert stored.content_type == "image/webp"
        assert await storage.stat(KEY) == 1000
        assert await read_all(storage, KEY) == second
        assert len(files_under(storage.root)) == 1

    async def test_the_type_is_sniffed_from_the_bytes_never_taken_as_declared(
        self, storage: LocalStorage
    ) -> None:
        png = b"\x89PNG\r\n\x1a\n" + payload(100)
        # The signature split across chunks, as a slow socket may deliver it.
        split = await storage.put("a", feed(png, chunk_size=3), content_type="text/html")
        assert split.content_type == "image/png"
        html = b"<html><script>alert(1)</script></html>"
        assert (await storage.put("b", feed(html), content_type="image/png")).content_type == (
            UNKNOWN_TYPE
        )

    async def test_disk_work_runs_off_the_event_loop_thread(
        self, storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        threads: list[threading.Thread] = []
        original = local_module._write

        def recording_write(*args: object) -> None:
            threads.append(threading.current_thread())
            original(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(local_module, "_write", recording_write)
        await storage.put(KEY, feed(payload(3 * 1024 * 1024)), content_type="image/png")
        assert len(threads) >= 3  # buffered into ~1 MiB writes, not one per 64 KiB chunk
        assert len(threads) <= 4
        assert threading.current_thread() not in threads


class TestAtomicity:
    async def test_a_failing_stream_leaves_nothing(self, storage: LocalStorage) -> None:
        with pytest.raises(Boom):
            await storage.put(KEY, failing_after(payload(2_000_000), 20), content_type="image/png")
        assert await storage.stat(KEY) is None
        assert files_under(storage.root) == []

    async def test_a_failing_overwrite_keeps_the_old_object(self, storage: LocalStorage) -> None:
        old = payload(200_000, 3)
        await storage.put(KEY, feed(old), content_type="image/png")
        with pytest.raises(Boom):
            await storage.put(KEY, failing_after(payload(3_000_000), 30), content_type="image/png")
        assert await read_all(storage, KEY) == old
        assert files_under(storage.root) == [storage.local_path(KEY)]

    async def test_a_cancelled_put_leaves_nothing(self, storage: LocalStorage) -> None:
        started = anyio.Event()

        async def stalls() -> AsyncIterator[bytes]:
            yield payload(CHUNK * 20)  # more than the write buffer: a temp file exists now
            started.set()
            await anyio.sleep_forever()
            yield b""  # pragma: no cover

        async with anyio.create_task_group() as group:
            group.start_soon(partial(storage.put, KEY, stalls(), content_type="image/png"))
            await started.wait()
            assert len(files_under(storage.root)) == 1  # the temp file, mid-write
            group.cancel_scope.cancel()
        assert files_under(storage.root) == []

    async def test_concurrent_puts_of_one_key_leave_one_whole_object(
        self, storage: LocalStorage
    ) -> None:
        candidates = [payload(1_500_000, seed) for seed in range(4)]
        async with anyio.create_task_group() as group:
            for data in candidates:
                group.start_soon(partial(storage.put, KEY, feed(data), content_type="x/y"))
        assert await read_all(storage, KEY) in candidates
        assert len(files_under(storage.root)) == 1


class TestAbsent:
    async def test_open_of_an_absent_key(self, storage: LocalStorage) -> None:
        with pytest.raises(ObjectNotFound) as caught:
            await read_all(storage, "tasks/nope/0.png")
        assert caught.value.key == "tasks/nope/0.png"

    async def test_a_directory_is_not_an_object(self, storage: LocalStorage) -> None:
        await storage.put("tasks/t1/0.png", feed(b"png"), content_type="image/png")
        assert await storage.stat("tasks/t1") is None
        with pytest.raises(ObjectNotFound):
            await read_all(storage, "tasks/t1")
        await storage.delete("tasks/t1")  # absent as an object, so nothing to do
        assert await storage.stat("tasks/t1/0.png") == 3

    async def test_stat_below_a_file_is_absent(self, storage: LocalStorage) -> None:
        await storage.put("a", feed(b"1"), content_type="x/y")
        assert await storage.stat("a/b") is None

    async def test_delete(self, storage: LocalStorage) -> None:
        await storage.put(KEY, feed(b"abc"), content_type="image/png")
        assert await storage.stat(KEY) == 3
        await storage.delete(KEY)
        assert await storage.stat(KEY) is None
        with pytest.raises(ObjectNotFound):
            await read_all(storage, KEY)
        await storage.delete(KEY)  # twice is fine
        await storage.delete("never/was")


BAD_KEYS = [
    "",
    "/etc/passwd",
    "/abs/key",
    "..",
    "../escape",
    "a/../../escape",
    "a/..",
    ".",
    "./a",
    "a/./b",
    "a//b",
    "a/",
    "a\\b",
    "..\\escape",
    "a\x00b",
    "a\nb",
    "a\x7fb",
    ".hidden",
    "tasks/.0.png.0123456789abcdef.part",  # the shape of a temp file
    "x" * 201,
    "a/" * 600 + "b",
    "\udcff",
]


class TestKeys:
    @pytest.mark.parametrize("key", BAD_KEYS)
    async def test_refused_everywhere(self, storage: LocalStorage, key: str) -> None:
        with pytest.raises(InvalidKey):
            storage.local_path(key)
        with pytest.raises(InvalidKey):
            await storage.put(key, feed(b"x"), content_type="x/y")
        with pytest.raises(InvalidKey):
            storage.open(key)
        with pytest.raises(InvalidKey):
            await storage.stat(key)
        with pytest.raises(InvalidKey):
            await storage.delete(key)
        assert not storage.root.exists()  # nothing was created anywhere

    def test_invalid_key_is_a_value_error(self) -> None:
        assert issubclass(InvalidKey, ValueError)

    @pytest.mark.parametrize(
        "key", ["a", "tasks/01J/0.png", "uploads/2024/画像 1.webp", "a.b/c..d/e...", "x" * 200]
    )
    async def test_accepted(self, storage: LocalStorage, key: str) -> None:
        await storage.put(key, feed(b"ok"), content_type="x/y")
        path = storage.local_path(key)
        assert path is not None
        assert path.is_relative_to(storage.root)
        assert path.read_bytes() == b"ok"

    def test_open_refuses_a_nonsense_chunk_size(self, storage: LocalStorage) -> None:
        with pytest.raises(ValueError, match="chunk_size"):
            storage.open(KEY, chunk_size=0)


class TestMemory:
    async def test_a_200_mb_put_stays_small_in_memory(self, storage: LocalStorage) -> None:
        size = 200 * 1024 * 1024
        expected = hashlib.sha256()

        async def generate() -> AsyncIterator[bytes]:
            for index in range(size // CHUNK):
                # A fresh object per chunk: a store that kept the chunks would hold 200 MB.
                chunk = bytes([index & 0xFF]) * CHUNK
                expected.update(chunk)
                yield chunk

        started = time.monotonic()
        tracemalloc.start()
        try:
            before, _ = tracemalloc.get_traced_memory()
            stored = await storage.put("big.bin", generate(), content_type="video/mp4")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        elapsed = time.monotonic() - started

        assert (stored.size, stored.sha256) == (size, expected.hexdigest())
        assert await storage.stat("big.bin") == size
        assert peak - before < 32 * 1024 * 1024
        assert elapsed < 10  # the brief is ~5 s; leave headroom for a loaded CI machine


class TestFromUrl:
    def test_file_url(self, tmp_path: Path) -> None:
        storage = storage_from_url((tmp_path / "a b").as_uri())
        assert isinstance(storage, LocalStorage)
        assert storage.root == tmp_path / "a b"

    def test_file_url_with_localhost(self) -> None:
        storage = storage_from_url("file://localhost/srv/aipaint")
        assert isinstance(storage, LocalStorage)
        assert storage.root == Path("/srv/aipaint")

    @pytest.mark.parametrize("relative", [False, True])
    def test_plain_path(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, relative: bool
    ) -> None:
        monkeypatch.chdir(tmp_path)
        storage = storage_from_url("data/objects" if relative else str(tmp_path / "objects"))
        assert isinstance(storage, LocalStorage)
        expected = tmp_path / "data" / "objects" if relative else tmp_path / "objects"
        assert storage.root == expected
        assert storage.root.is_absolute()

    def test_s3_url_names_bucket_and_prefix(self) -> None:
        storage = storage_from_url("s3://outputs/aipaint/prod/")
        assert isinstance(storage, S3Storage)
        assert (storage.bucket, storage.prefix) == ("outputs", "aipaint/prod")

    @pytest.mark.parametrize("url", ["s3:///prefix", "s3://", "s3://b/p?x=1"])
    def test_s3_url_without_a_bucket_is_refused(self, url: str) -> None:
        with pytest.raises(ValueError, match="s3://"):
            storage_from_url(url)

    @pytest.mark.parametrize(
        "url", ["", "  ", "ftp://host/x", "file://otherhost/x", "file:relative/x", "gs://b/p"]
    )
    def test_refused(self, url: str) -> None:
        with pytest.raises(ValueError, match="storage URL"):
            storage_from_url(url)


def test_storage_protocol_is_satisfied(tmp_path: Path) -> None:
    # A static check as much as a runtime one: mypy verifies the assignment.
    from aipaint.storage import Storage

    storage: Storage = LocalStorage(tmp_path)
    assert storage.local_path("a/b") == tmp_path / "a" / "b"
