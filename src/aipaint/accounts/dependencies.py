"""`CurrentUser`: the authenticated caller of a `/v1` route.

The process's `Authenticator` checks the token: from memory while no token has been revoked
since it was last read from the database, so that a known token costs no query and a revoked one
is still refused from the very next request, in every process (`accounts/revocations.py`).

Failed authentication is limited per client address: after a burst of invalid tokens, a request
from that address that carries a token is answered 429 with Retry-After, without a lookup, until
its allowance refills. Successful requests are never counted, nor slowed; a missing token is no
guess and is not counted either. The allowance is per process.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from aipaint.accounts.service import (
    AdminOnly,
    NotAuthenticated,
    Principal,
    TooManyFailures,
    bearer,
)
from aipaint.kit.ratelimit import FailureAllowance
from aipaint.runtime import Runtime


def failure_allowance(request: Request) -> FailureAllowance:
    allowance: FailureAllowance = request.app.state.auth_failures
    return allowance


async def current_user(request: Request) -> Principal:
    token = bearer(request.headers.get("authorization"))
    if token is None:
        raise NotAuthenticated()  # no token is no guess: not counted
    allowance = failure_allowance(request)
    address = request.client.host if request.client else "unknown"
    wait = allowance.retry_after(address)
    if wait is not None:
        # Any token, even a valid one: an answer would tell a guesser which tokens are valid.
        raise TooManyFailures(wait)
    runtime: Runtime = request.app.state.runtime
    try:
        return await runtime.authenticator(token)
    except NotAuthenticated:
        allowance.failed(address)
        raise


CurrentUser = Annotated[Principal, Depends(current_user)]


async def current_admin(who: CurrentUser) -> Principal:
    if not who.is_admin:
        raise AdminOnly()
    return who


CurrentAdmin = Annotated[Principal, Depends(current_admin)]
