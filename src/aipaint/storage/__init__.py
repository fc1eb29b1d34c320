"""Where archived outputs and uploads live: a local directory now, S3 with the scale-out issue."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from aipaint.storage.base import (
    UNKNOWN_TYPE,
    InvalidKey,
    ObjectNotFound,
    Storage,
    StoredObject,
    validate_key,
)
from aipaint.storage.local import LocalStorage

__all__ = [
    "UNKNOWN_TYPE",
    "InvalidKey",
    "LocalStorage",
    "ObjectNotFound",
    "Storage",
    "StoredObject",
    "storage_from_url",
    "validate_key",
]


def storage_from_url(url: str) -> Storage:
    """The store `AIPAINT_STORAGE_URL` names: "file:///abs/path", a plain path, or "s3://…"."""
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
        raise NotImplementedError("S3 storage arrives with the scale-out issue")
    raise ValueError(f"unsupported storage URL scheme {parts.scheme!r} in {url!r}")
