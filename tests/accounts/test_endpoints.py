"""Tokens over HTTP: revocation is effective on the very next request; failed authentication is
limited per client address; successful requests are never held."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI

from aipaint.accounts.service import create_user
from aipaint.db import transaction
from aipaint.kit.ratelimit import FailureAllowance
from aipaint.runtime import Runtime

pytestmark = pytest.mark.anyio


async def new_token(app: FastAPI, name: str, *, admin: bool = False) -> tuple[str, str]:
    """(token id, token) of a new user."""
    runtime: Runtime = app.state.runtime
    async with transaction(runtime.sessions) as session:
        user, token = await create_user(session, name, admin=admin)
    return user.id, token


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestRevoke:
    async def test_an_admin_revokes_and_the_next_request_is_refused(
        self, app: FastAPI, http: httpx.AsyncClient
    ) -> None:
        _, admin = await new_token(app, "root", admin=True)
        victim_id, victim = await new_token(app, "victim")
        assert (await http.get("/v1/tasks", headers=bearer(victim))).status_code == 200
        revoked = await http.delete(f"/v1/tokens/{victim_id}", headers=bearer(admin))
        assert revoked.status_code == 204
        refused = await http.get("/v1/tasks", headers=bearer(victim))
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "not_authenticated"
        again = await http.delete(f"/v1/tokens/{victim_id}", headers=bearer(admin))
        assert again.status_code == 204  # revoking twice changes nothing

    async def test_only_admins_may_revoke(self, app: FastAPI, http: httpx.AsyncClient) -> None:
        other_id, other = await new_token(app, "other")
        _, plain = await new_token(app, "plain")
        response = await http.delete(f"/v1/tokens/{other_id}", headers=bearer(plain))
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "admin_only"
        assert (await http.get("/v1/tasks", headers=bearer(other))).status_code == 200
        assert (await http.delete(f"/v1/tokens/{other_id}")).status_code == 401

    async def test_an_unknown_token_id_is_404(self, app: FastAPI, http: httpx.AsyncClient) -> None:
        _, admin = await new_token(app, "root", admin=True)
        response = await http.delete("/v1/tokens/usr_nobody", headers=bearer(admin))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "token_not_found"


class TestFailedAuthentication:
    @pytest.fixture
    def allowance(self, app: FastAPI) -> Iterator[FailureAllowance]:
        """A small allowance in place of the app's, for the test."""
        kept = app.state.auth_failures
        app.state.auth_failures = small = FailureAllowance(3, 60.0)
        yield small
        app.state.auth_failures = kept

    async def test_a_burst_of_wrong_tokens_meets_429_with_retry_after(
        self, app: FastAPI, http: httpx.AsyncClient, allowance: FailureAllowance
    ) -> None:
        _, good = await new_token(app, "good")
        for attempt in range(3):
            wrong = await http.get("/v1/tasks", headers=bearer(f"aip_wrong{attempt}"))
            assert wrong.status_code == 401
        held = await http.get("/v1/tasks", headers=bearer("aip_wrong"))
        assert held.status_code == 429
        assert held.json()["error"]["code"] == "too_many_failed_authentications"
        assert 55 <= int(held.headers["retry-after"]) <= 61
        # While held, no token is looked up: a valid one would tell the guesser it is valid.
        assert (await http.get("/v1/tasks", headers=bearer(good))).status_code == 429
        # A request without any token guesses nothing, and says as much.
        assert (await http.get("/v1/tasks")).status_code == 401

    async def test_successful_requests_are_never_held(
        self, app: FastAPI, http: httpx.AsyncClient, allowance: FailureAllowance
    ) -> None:
        _, good = await new_token(app, "busy")
        statuses = {
            (await http.get("/v1/tasks", headers=bearer(good))).status_code for _ in range(200)
        }
        assert statuses == {200}
        assert allowance.retry_after("127.0.0.1") is None
