"""What a file parameter accepts: an http(s) URL or a base64 data URI, as RunningHub does."""

from __future__ import annotations

import re
from dataclasses import dataclass

# ECMA-262 compatible so that the same pattern works in the exported JSON Schema.
URL_PATTERN = r"^(https?://[^\s/?#]+[^\s]*|data:[\w.+-]+/[\w.+-]+(;[\w.+-]+=[\w.+-]+)*;base64,[A-Za-z0-9+/]*={0,2})$"
_URL = re.compile(URL_PATTERN)
_DATA = re.compile(r"data:([\w.+-]+)/([\w.+-]+)[^,]*;base64,")
_MB = 1024 * 1024
# File formats as the registry names them, keyed by the MIME subtype a data URI carries.
_SUBTYPE_FORMATS = {
    "jpeg": {"JPG", "JPEG"},
    "jpg": {"JPG", "JPEG"},
    "quicktime": {"MOV"},
    "mpeg": {"MP3", "MPEG"},
    "x-wav": {"WAV"},
    "wave": {"WAV"},
    "x-m4a": {"M4A"},
}


@dataclass(frozen=True)
class DataUri:
    mime_type: str
    subtype: str
    size_bytes: int

    def formats(self) -> set[str]:
        return _SUBTYPE_FORMATS.get(self.subtype, {self.subtype.upper()})

    @property
    def size_mb(self) -> float:
        return self.size_bytes / _MB


def is_media_reference(value: str) -> bool:
    # fullmatch, not the pattern's `$`, which would also accept a trailing newline.
    if _URL.fullmatch(value) is None:
        return False
    # A base64 payload comes in groups of 4 characters. The pattern leaves its length unchecked (a
    # regex counting groups is slow on large files), so it is checked here: an undecodable payload
    # must not pass as a URL and skip the format and size checks.
    return not value.startswith("data:") or (len(value) - value.index(",") - 1) % 4 == 0


def parse_data_uri(value: str) -> DataUri | None:
    """The type and decoded size of a well-formed base64 data URI, else None.

    The size comes from the payload's length: a large file is never decoded just to be measured.
    """
    if not is_media_reference(value):
        return None
    head = _DATA.match(value)
    if head is None:
        return None
    payload_length = len(value) - head.end()
    if payload_length % 4:
        return None
    size = payload_length // 4 * 3 - (len(value) - len(value.rstrip("=")))
    return DataUri(f"{head.group(1)}/{head.group(2)}", head.group(2).lower(), size)
