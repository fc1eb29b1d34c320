"""Objects in an S3-compatible bucket (AWS S3, Tencent COS, Alibaba OSS, Cloudflare R2, MinIO).

`put` streams: the bytes are gathered into parts of PART_BYTES and each part is uploaded as soon
as it is full (a multipart upload), never the whole object in memory. Parts are gathered in place
in buffers the process allocates once and reuses, at most PART_BUFFERS of them however many
objects are in flight: memory stays at a few parts, and no buffer grows or is copied on the way.
An object smaller than one part goes up in a single PUT. SHA-256 and size are computed on the
way. A put that fails or is cancelled aborts its multipart upload, so no parts are left
behind (billed, invisible) and a retry starts clean.

Objects carry their content type and `x-amz-meta-sha256`. A multipart upload learns its sha256
only at the end, so the completed object is copied onto itself (server side) with its metadata;
`storage copy` relies on that to skip objects already there.

botocore since 1.36 adds CRC checksums to every request by default, which many S3-compatible
services refuse; they are sent only where the API requires one.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Final, Literal, cast
from urllib.parse import quote

import anyio
import anyio.to_thread
import structlog
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
)

from aipaint.kit.sniff import HEAD_BYTES
from aipaint.storage.base import (
    BucketMissing,
    CredentialsRefused,
    ObjectNotFound,
    StorageUnavailable,
    StorageUnreachable,
    StoredObject,
    check_range,
    recorded_type,
    validate_key,
)

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

__all__ = ["PART_BUFFERS", "PART_BYTES", "PartBuffers", "S3Options", "S3Storage"]

log = structlog.get_logger(__name__)

# S3's smallest part (but the last) is 5 MiB.
PART_BYTES: Final = 5 * 1024 * 1024
# Part buffers a process holds at most, whatever the number of outputs archived at once: 20 MiB.
PART_BUFFERS: Final = 4
SHA256_KEY: Final = "sha256"  # sent as x-amz-meta-sha256
# A server-side copy refreshes the metadata of objects up to this size (S3's CopyObject limit).
COPY_LIMIT: Final = 5 * 1024**3
Addressing = Literal["auto", "path", "virtual"]
_MISSING_KEY: Final = {"NoSuchKey", "404", "NotFound"}
_REFUSED: Final = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "InvalidClientTokenId",
    "403",
}


@dataclass(frozen=True)
class S3Options:
    """How to reach the service: `AIPAINT_S3_*`. Credentials come from the standard AWS
    variables, profile or instance role (botocore's credential chain), never from here."""

    endpoint_url: str | None = None
    region: str | None = None
    addressing_style: Addressing = "auto"
    # `/files` answers with a redirect to a presigned URL instead of streaming the bytes itself.
    presign: bool = False
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 60.0


class S3Storage:
    def __init__(self, bucket: str, prefix: str = "", options: S3Options | None = None) -> None:
        if not bucket:
            raise ValueError("an s3:// storage URL names a bucket: s3://bucket/prefix")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.options = options or S3Options()
        self._client: S3Client | None = None
        self._client_context: Any = None
        self._lock = anyio.Lock()
        self._buffers = PartBuffers(PART_BUFFERS)
        # botocore's description of S3 (megabytes of JSON) is read now, at start-up, and not
        # on the first archival: the session caches it for the client made later.
        self._session = get_session()
        loader = self._session.get_component("data_loader")
        loader.load_service_model("s3", "service-2")
        loader.load_service_model("s3", "endpoint-rule-set-1")

    def __repr__(self) -> str:
        return f"S3Storage({self.url!r})"

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    @property
    def endpoint(self) -> str:
        return self.options.endpoint_url or "the AWS S3 endpoint"

    def _name(self, key: str) -> str:
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    async def _s3(self) -> S3Client:
        # Made on first use, inside the event loop that uses it (aiohttp binds to its loop).
        async with self._lock:
            if self._client is None:
                options = self.options
                config = AioConfig(
                    s3={"addressing_style": options.addressing_style},
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                    connect_timeout=options.connect_timeout_s,
                    read_timeout=options.read_timeout_s,
                    retries={"max_attempts": 3, "mode": "standard"},
                )
                context = self._session.create_client(
                    "s3",
                    endpoint_url=options.endpoint_url,
                    region_name=options.region,
                    config=config,
                )
                self._client = await context.__aenter__()
                self._client_context = context
            return self._client

    async def aclose(self) -> None:
        async with self._lock:
            if self._client_context is not None:
                await self._client_context.__aexit__(None, None, None)
            self._client = self._client_context = None

    def local_path(self, key: str) -> None:
        return None

    # --- writing -------------------------------------------------------------------------------

    async def put(
        self, key: str, chunks: AsyncIterable[bytes], *, content_type: str
    ) -> StoredObject:
        name = self._name(key)
        s3 = await self._s3()
        digest = hashlib.sha256()
        size = 0
        kind = content_type
        source = _Source(chunks)
        upload: _Multipart | None = None
        # Only the service's errors are translated: the source's own (a download breaking off)
        # reach the caller as they are.
        translated = self._translated
        try:
            while True:
                # A part buffer is held while one part is gathered and sent, then handed to
                # the next upload waiting for one.
                async with self._buffers.lease() as buffer:
                    filled = await source.fill(buffer)
                    part = memoryview(buffer)[:filled]
                    size += filled
                    await _hash(digest, part)
                    if upload is None:
                        kind = recorded_type(key, part[:HEAD_BYTES].tobytes(), content_type)
                        if source.ended:  # smaller than one part: a single PUT
                            with translated():
                                await s3.put_object(
                                    Bucket=self.bucket,
                                    Key=name,
                                    Body=_body(part),
                                    ContentType=kind,
                                    Metadata={SHA256_KEY: digest.hexdigest()},
                                )
                            break
                        with translated():
                            upload = await _Multipart.start(s3, self.bucket, name, kind)
                    if filled:
                        with translated():
                            await upload.send(part)
                if source.ended:
                    break
            sha256 = digest.hexdigest()
            if upload is not None:
                with translated():
                    await upload.complete()
                    upload = None
                    if size <= COPY_LIMIT:
                        await s3.copy_object(
                            Bucket=self.bucket,
                            Key=name,
                            CopySource={"Bucket": self.bucket, "Key": name},
                            MetadataDirective="REPLACE",
                            ContentType=kind,
                            Metadata={SHA256_KEY: sha256},
                        )
        finally:
            if upload is not None:
                # Shielded, so a cancelled put still aborts: no parts left behind.
                with anyio.CancelScope(shield=True):
                    await upload.abort()
        return StoredObject(key=key, size=size, sha256=sha256, content_type=kind)

    async def delete(self, key: str) -> None:
        name = self._name(key)
        s3 = await self._s3()
        with self._translated():
            await s3.delete_object(Bucket=self.bucket, Key=name)

    # --- reading -------------------------------------------------------------------------------

    def open(
        self, key: str, *, chunk_size: int = 1 << 16, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        check_range(chunk_size, start, end)
        return self._read(key, self._name(key), chunk_size, start, end)

    async def _read(
        self, key: str, name: str, chunk_size: int, start: int, end: int | None
    ) -> AsyncIterator[bytes]:
        if end == start:
            return
        s3 = await self._s3()
        # An empty Range is left out: a whole object comes with its ordinary 200.
        wanted = f"bytes={start}-{'' if end is None else end - 1}" if start or end else ""
        with self._translated(key):
            if wanted:
                response = await s3.get_object(Bucket=self.bucket, Key=name, Range=wanted)
            else:
                response = await s3.get_object(Bucket=self.bucket, Key=name)
            async with response["Body"] as body:
                async for chunk in body.iter_chunks(chunk_size):
                    yield chunk

    async def stat(self, key: str) -> int | None:
        head = await self.head(key)
        return None if head is None else int(head["ContentLength"])

    async def sha256(self, key: str) -> str | None:
        """The sha256 the object carries as metadata, None without one (or without object)."""
        head = await self.head(key)
        return None if head is None else head.get("Metadata", {}).get(SHA256_KEY)

    async def head(self, key: str) -> dict[str, Any] | None:
        name = self._name(key)
        s3 = await self._s3()
        try:
            with self._translated(key):
                return dict(await s3.head_object(Bucket=self.bucket, Key=name))
        except ObjectNotFound:
            return None

    async def presigned_url(
        self, key: str, *, expires_s: int, content_type: str, filename: str
    ) -> str | None:
        if not self.options.presign:
            return None
        name = self._name(key)
        s3 = await self._s3()
        with self._translated():
            return await s3.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": name,
                    "ResponseContentType": content_type,
                    "ResponseContentDisposition": f"inline; filename*=UTF-8''{quote(filename)}",
                },
                ExpiresIn=expires_s,
            )

    # --- errors --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _translated(self, key: str | None = None) -> Iterator[None]:
        """botocore's errors as ours: a missing object, else why the store is unavailable."""
        try:
            yield
        except ClientError as error:
            raise self._client_error(error, key) from error
        except (NoCredentialsError, PartialCredentialsError) as error:
            raise CredentialsRefused(f"none found: {error}") from error
        except (EndpointConnectionError, ConnectionError) as error:
            raise StorageUnreachable(self.endpoint, type(error).__name__) from error
        except BotoCoreError as error:
            raise StorageUnavailable(f"{type(error).__name__}: {error}") from error
        except OSError as error:  # aiohttp's connection errors are OSErrors
            raise StorageUnreachable(self.endpoint, f"{type(error).__name__}: {error}") from error

    def _client_error(self, error: ClientError, key: str | None) -> Exception:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code == "NoSuchBucket":
            return BucketMissing(self.bucket)
        if key is not None and code in _MISSING_KEY:
            return ObjectNotFound(key)
        if code in _REFUSED:
            return CredentialsRefused(code)
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return StorageUnavailable(f"the service answered {status} {code}".strip())


async def _hash(digest: hashlib._Hash, part: memoryview) -> None:
    """Hash the part in a worker thread (sha256 releases the GIL): the loop is not held up."""
    await anyio.to_thread.run_sync(digest.update, part)


class PartBuffers:
    """The part buffers of one process: at most `limit` of PART_BYTES each, filled in place and
    reused from part to part and from upload to upload, so archival's memory is `limit` parts
    however many outputs are archived at once. An upload waits for a buffer (in turn, first
    come first served) before gathering its next part; buffers are dropped once none is in use,
    so an idle process keeps none."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._slots = anyio.Semaphore(limit)
        self._idle: list[bytearray] = []
        self._leased = 0

    @property
    def allocated(self) -> int:
        return self._leased + len(self._idle)

    @contextlib.asynccontextmanager
    async def lease(self) -> AsyncIterator[bytearray]:
        async with self._slots:
            buffer = self._idle.pop() if self._idle else bytearray(PART_BYTES)
            self._leased += 1
            try:
                yield buffer
            finally:
                self._leased -= 1
                if self._leased or self._slots.statistics().tasks_waiting:
                    self._idle.append(buffer)
                else:
                    self._idle.clear()


class _Source:
    """An object's chunks, poured into part buffers: a chunk that overflows one part begins the
    next."""

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self._chunks = aiter(chunks)
        self._rest = memoryview(b"")
        self.ended = False

    async def fill(self, buffer: bytearray) -> int:
        """Fill `buffer` from the start; the bytes filled. Short only once the chunks end."""
        filled = 0
        while filled < len(buffer):
            if not self._rest:
                try:
                    self._rest = memoryview(await anext(self._chunks))
                except StopAsyncIteration:
                    self.ended = True
                    break
            piece = self._rest[: len(buffer) - filled]
            buffer[filled : filled + len(piece)] = piece
            filled += len(piece)
            self._rest = self._rest[len(piece) :]
        return filled


def _body(part: memoryview) -> IO[bytes]:
    return cast("IO[bytes]", _PartReader(part))  # a RawIOBase is a binary IO


class _PartReader(io.RawIOBase):
    """A part as a seekable file without copying it: botocore reads it to sign it (over plain
    HTTP) and aiohttp to send it, each in bounded pieces (a memoryview or bytes body this large
    would be sent in one piece, the whole part copied into the socket's buffer)."""

    def __init__(self, part: memoryview) -> None:
        super().__init__()
        self._part = part
        self._at = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._at

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._at, io.SEEK_END: len(self._part)}[whence]
        self._at = min(max(base + offset, 0), len(self._part))
        return self._at

    def read(self, size: int | None = -1) -> bytes:
        end = len(self._part) if size is None or size < 0 else self._at + size
        piece = self._part[self._at : end].tobytes()
        self._at += len(piece)
        return piece


@dataclass
class _Multipart:
    """One multipart upload in flight: its parts so far, completed or aborted exactly once."""

    s3: S3Client
    bucket: str
    name: str
    upload_id: str
    parts: list[dict[str, Any]]

    @classmethod
    async def start(cls, s3: S3Client, bucket: str, name: str, content_type: str) -> _Multipart:
        created = await s3.create_multipart_upload(
            Bucket=bucket, Key=name, ContentType=content_type
        )
        return cls(s3, bucket, name, created["UploadId"], [])

    async def send(self, part: memoryview) -> None:
        number = len(self.parts) + 1
        sent = await self.s3.upload_part(
            Bucket=self.bucket,
            Key=self.name,
            UploadId=self.upload_id,
            PartNumber=number,
            Body=_body(part),
        )
        self.parts.append({"PartNumber": number, "ETag": sent["ETag"]})

    async def complete(self) -> None:
        await self.s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key=self.name,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": self.parts},  # type: ignore[typeddict-item]
        )

    async def abort(self) -> None:
        try:
            await self.s3.abort_multipart_upload(
                Bucket=self.bucket, Key=self.name, UploadId=self.upload_id
            )
        except (ClientError, BotoCoreError, OSError) as error:
            # The service is down or refusing: a lifecycle rule on the bucket is the last resort.
            log.warning("multipart_abort_failed", key=self.name, error=repr(error))
