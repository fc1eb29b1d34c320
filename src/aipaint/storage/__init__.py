"""Where archived outputs and uploads live: a local directory, or an S3-compatible bucket."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from aipaint.config import Settings
from aipaint.storage.base import (
    UNKNOWN_TYPE,
    BucketMissing,
    CredentialsRefused,
    InvalidKey,
    ObjectNotFound,
    Storage,
    StorageUnavailable,
    StorageUnreachable,
    StoredObject,
    validate_key,
)
from aipaint.storage.local import LocalStorage
from aipaint.storage.s3 import S3Options, S3Storage

__all__ = [
    "UNKNOWN_TYPE",
    "BucketMissing",
    "CredentialsRefused",
    "InvalidKey",
    "LocalStorage",
    "ObjectNotFound",
    "S3Options",
    "S3Storage",
    "Storage",
    "StorageUnavailable",
    "StorageUnreachable",
    "StoredObject",
    "s3_options",
    "storage_from_settings",
    "storage_from_url",
    "validate_key",
]


def storage_from_url(url: str, s3: S3Options | None = None) -> Storage:
    """The store `AIPAINT_STORAGE_URL` names: "file:///abs/path", a plain path, or
    "s3://bucket/prefix" (reached as `s3` says)."""
    if not url.strip():
        raise ValueError("the storage URL is empty")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    # A one-letter "scheme" is a Windows drive ("C:\\data"), not a URL.
    if not scheme or len(scheme) == 1:
        return LocalStorage(Path(url).expanduser())
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"a file storage URL names no remote host: {url!r}")
        path = unquote(parts.path)
        if not path.startswith("/"):
            raise ValueError(f"a file storage URL needs an absolute path: {url!r}")
        return LocalStorage(Path(path))
    if scheme == "s3":
        if parts.query or parts.fragment:
            raise ValueError(f"an s3:// storage URL has no query or fragment: {url!r}")
        return S3Storage(parts.netloc, unquote(parts.path), s3)
    raise ValueError(f"unsupported storage URL scheme {parts.scheme!r} in {url!r}")


def s3_options(settings: Settings) -> S3Options:
    return S3Options(
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        addressing_style=settings.s3_addressing_style,
        presign=settings.s3_presign,
    )


def storage_from_settings(settings: Settings) -> Storage:
    """The store the settings name: AIPAINT_STORAGE_URL (default: the data dir's `files`)."""
    url = settings.storage_url or str(settings.data_dir / "files")
    return storage_from_url(url, s3_options(settings))
