from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aipaint.catalog.service import Catalog
from aipaint.kit.background_server import BackgroundServer
from aipaint.simulator.app import SimulatorServer
from aipaint.simulator.settings import DEMO_KEY, Account, KeyType, SimulatorSettings

NORMAL_KEY = "aipaint-simulator-normal-key-001"
POOR_KEY = "aipaint-simulator-poor-key-00001"
AUTH = {"Authorization": f"Bearer {DEMO_KEY}"}


def make_settings(**overrides: Any) -> SimulatorSettings:
    accounts = {
        DEMO_KEY: Account(),
        NORMAL_KEY: Account(type=KeyType.NORMAL),
        POOR_KEY: Account(balance=Decimal("0.01")),
    }
    return SimulatorSettings(**{"accounts": accounts, "speed": 1000, "seed": 7, **overrides})


@pytest.fixture(scope="module")
def sim(catalog: Catalog) -> Iterator[SimulatorServer]:
    """A fast simulator (1000x), shared by a module's tests that do not change its settings."""
    with SimulatorServer(make_settings(), catalog=catalog) as server:
        yield server


@pytest.fixture
def http(sim: SimulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.url, headers=AUTH, timeout=10) as client:
        yield client


class Receiver:
    """A webhook receiver on a real socket: records bodies, can fail its first answers."""

    def __init__(self, fail_first: int = 0, status: int = 500) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.fail_first = fail_first
        self.status = status
        self.server = BackgroundServer(
            Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])
        )

    @property
    def url(self) -> str:
        return f"{self.server.url}/hook"

    async def hook(self, request: Request) -> Response:
        self.bodies.append(await request.json())
        if len(self.bodies) <= self.fail_first:
            return Response(status_code=self.status)
        return Response(status_code=204)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    with hook.server:
        yield hook


def wait_final(http: httpx.Client, task_id: str, timeout: float = 5) -> dict[str, Any]:
    """Query a task until it is final (or the timeout passes) and return the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = http.post("/openapi/v2/query", json={"taskId": task_id}).json()
        if body["status"] in ("SUCCESS", "FAILED") or time.monotonic() > deadline:
            return body
        time.sleep(0.02)
