"""`CurrentUser`: the authenticated caller of a `/v1` route."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, Request

from aipaint.accounts.service import Principal, authenticate, hash_token
from aipaint.runtime import Runtime

# Token hash -> (caller, monotonic expiry): a token is checked against the database once a
# minute, not on every read of a hot route.
_CACHE: dict[str, tuple[Principal, float]] = {}
_CACHE_TTL_S = 60.0
_CACHE_MAX = 10_000


async def current_user(request: Request) -> Principal:
    authorization = request.headers.get("authorization")
    key = hash_token(authorization or "")
    cached = _CACHE.get(key)
    if cached is not None and cached[1] > time.monotonic():
        return cached[0]
    runtime: Runtime = request.app.state.runtime
    async with runtime.sessions() as session:
        principal = await authenticate(session, authorization)
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[key] = (principal, time.monotonic() + _CACHE_TTL_S)
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]
