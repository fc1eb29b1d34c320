"""Identifiers that sort by creation time, so the newest-first listing is an index scan."""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base32, lower case


def new_id(prefix: str = "") -> str:
    """`prefix` + 10 characters of millisecond time + 16 random ones (80 bits), ULID-style."""
    millis = time.time_ns() // 1_000_000
    stamp = "".join(_ALPHABET[(millis >> shift) & 31] for shift in range(45, -1, -5))
    tail = "".join(secrets.choice(_ALPHABET) for _ in range(16))
    return f"{prefix}{stamp}{tail}"
