"""A real aipaint server for the client's end-to-end tests: `aipaint serve` as its own process, in
demo mode against the built-in RunningHub simulator, on a database of its own.

A separate process, not a thread: the CLI tests capture this process's stdout, which must hold
what the CLI prints and nothing of the server's logs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from aipaint.client import Client, Task
from aipaint.kit.background_server import free_port
from tests.support import LTX, LTX_PARAMS, fresh_database, running


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


def create_token(env: dict[str, str], name: str) -> str:
    """`aipaint token create`, as a user runs it: the token is alone on the last line."""
    created = subprocess.run(
        [sys.executable, "-m", "aipaint", "token", "create", "--name", name],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return created.stdout.splitlines()[-1]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("client-e2e")
    port = free_port()
    with fresh_database(data) as database:
        env = {
            **os.environ,
            "AIPAINT_DATA_DIR": str(data),
            "AIPAINT_DATABASE_URL": database,
            "AIPAINT_LOG_JSON": "true",
            # A fast simulator and a worker that looks often, so that a task takes a moment.
            "AIPAINT_DEMO_SPEED": "2000",
            "AIPAINT_POLL_MIN_S": "0.2",
            "AIPAINT_POLL_MAX_S": "0.5",
        }
        for key in ("AIPAINT_RUNNINGHUB_API_KEY", "RUNNINGHUB_API_KEY", "AIPAINT_TOKEN"):
            env.pop(key, None)
        token = create_token(env, "client-tests")
        url = f"http://127.0.0.1:{port}"
        log = data / "serve.log"
        command = [sys.executable, "-m", "aipaint", "serve", "--port", str(port)]
        with running(command, f"{url}/healthz", env=env, log=log):
            yield Server(url=url, token=token, env=env, log=log)


@pytest.fixture(scope="session")
def other_token(server: Server) -> str:
    return create_token(server.env, "someone-else")


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    return tmp_path / "outputs"
