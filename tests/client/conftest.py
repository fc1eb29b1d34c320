"""A real aipaint server for the client's end-to-end tests: `aipaint serve` as its own process, in
demo mode against the built-in RunningHub simulator, on a database of its own.

A separate process, not a thread: the CLI tests capture this process's stdout, which must hold
what the CLI prints and nothing of the server's logs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from aipaint.client import Client, Task
from tests.stacks import demo_server
from tests.support import LTX, LTX_PARAMS, create_token


@dataclass(frozen=True)
class Server:
    url: str
    token: str
    env: dict[str, str]
    log: Path

    @property
    def simulator_url(self) -> str:
        """The demo simulator's address, as the server logged it at start-up."""
        for line in self.log.read_text().splitlines():
            if line.startswith("{") and json.loads(line).get("event") == "demo_mode":
                url: str = json.loads(line)["simulator"]
                return url
        raise AssertionError(f"no demo_mode line in {self.log}")

    @contextmanager
    def faults(self, **rates: float) -> Iterator[None]:
        """Upstream fault rates (e.g. stuck_rate=1) for the tasks created meanwhile."""
        faults_url = f"{self.simulator_url}/simulator/faults"
        httpx.put(faults_url, json=rates).raise_for_status()
        try:
            yield
        finally:
            httpx.put(faults_url, json={}).raise_for_status()

    def stuck_task(self) -> Task:
        """A task RunningHub accepted and will never finish (until it is canceled)."""
        with Client(self.url, self.token) as client, self.faults(stuck_rate=1):
            task = client.create_task(LTX, LTX_PARAMS)
            # The fault applies when the submit reaches RunningHub: hold it until then.
            deadline = time.monotonic() + 30
            while not task.get("upstream_task_id") and time.monotonic() < deadline:
                time.sleep(0.05)
                task = client.get_task(task["id"])
        assert task["status"] in ("queued", "running"), task
        return task


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    fast = {
        "AIPAINT_LOG_JSON": "true",
        # A fast simulator and a worker that looks often, so that a task takes a moment.
        "AIPAINT_DEMO_SPEED": "2000",
        "AIPAINT_POLL_MIN_S": "0.2",
        "AIPAINT_POLL_MAX_S": "0.5",
    }
    with demo_server(tmp_path_factory.mktemp("client-e2e"), **fast) as demo:
        yield Server(url=demo.url, token=demo.token, env=demo.env, log=demo.log)


@pytest.fixture(scope="session")
def other_token(server: Server) -> str:
    return create_token(server.env, "someone-else")


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    return tmp_path / "outputs"
