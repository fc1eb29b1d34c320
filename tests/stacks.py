"""Process stacks for end-to-end and browser tests: `aipaint simulator` and `aipaint serve`,
separate processes on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from aipaint.kit.background_server import free_port
from aipaint.simulator.settings import DEMO_KEY
from tests.support import create_token, fresh_database, running

SECRET = "e2e-secret-key-for-signing-0123456789"
FINAL = ("succeeded", "failed", "canceled")
# Fast timings for tests: a simulated minute lasts milliseconds, so aipaint must poll as fast.
FAST = {
    "AIPAINT_POLL_MIN_S": "0.05",
    "AIPAINT_POLL_MAX_S": "0.3",
    "AIPAINT_SWEEP_INTERVAL_S": "0.5",
    "AIPAINT_SUBMIT_BACKOFF_S": "0.05",
    "AIPAINT_SUBMIT_BACKOFF_MAX_S": "0.5",
    "AIPAINT_ARCHIVE_BACKOFF_S": "0.05",
    "AIPAINT_ARCHIVE_BACKOFF_MAX_S": "0.5",
    "AIPAINT_UPSTREAM_QPS": "500",
    "AIPAINT_UNCERTAIN_TIMEOUT_S": "5",
}


@dataclass
class Simulator:
    url: str
    key: str
    log: Path

    def get(self, path: str) -> Any:
        return httpx.get(f"{self.url}/simulator/{path}", timeout=10).json()

    def faults(self, **rates: float) -> None:
        httpx.put(f"{self.url}/simulator/faults", json=rates, timeout=10).raise_for_status()

    def script(self, fault: str, target: str = "any", times: int = 1) -> None:
        body = {"fault": fault, "target": target, "times": times}
        httpx.post(f"{self.url}/simulator/faults/script", json=body).raise_for_status()

    def tasks_for(self, task_id: str) -> list[dict[str, Any]]:
        """Upstream tasks created for one aipaint task (its id is in the webhook URL)."""
        return [t for t in self.get("tasks")["tasks"] if task_id in (t["webhook_url"] or "")]


@dataclass
class Server:
    url: str
    env: dict[str, str]
    log: Path
    token: str = ""
    process: subprocess.Popen[bytes] | None = None
    _stack: ExitStack = field(default_factory=ExitStack)

    def start(self) -> Server:
        command = [sys.executable, "-m", "aipaint", "serve", "--port", self.url.rsplit(":", 1)[1]]
        self.process = self._stack.enter_context(
            running(command, f"{self.url}/healthz", env=self.env, log=self.log)
        )
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or an OOM kill."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._stack.close()
        self._stack = ExitStack()

    def stop(self) -> None:
        self._stack.close()

    def new_token(self, name: str = "e2e", admin: bool = False) -> str:
        return create_token(self.env, name, admin=admin)

    def http(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


@contextmanager
def simulator(tmp: Path, *options: str, key: str = DEMO_KEY) -> Iterator[Simulator]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "aipaint", "simulator", "--port", str(port), "--key", key]
    command += ["--speed", "1000", *options]
    log = tmp / f"simulator-{port}.log"
    with running(command, f"{url}/simulator/health", log=log):
        yield Simulator(url, key, log)


def wait_final(http: httpx.Client, task_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        task: dict[str, Any] = http.get(f"/v1/tasks/{task_id}").json()
        if task["status"] in FINAL:
            return task
        if time.monotonic() > deadline:
            raise AssertionError(f"task {task_id} not final after {timeout} s: {json.dumps(task)}")
        time.sleep(0.05)


def wait_all_final(
    http: httpx.Client, task_ids: list[str], timeout: float = 120
) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    done: dict[str, dict[str, Any]] = {}
    while len(done) < len(task_ids):
        for task_id in task_ids:
            if task_id not in done:
                task = http.get(f"/v1/tasks/{task_id}").json()
                if task["status"] in FINAL:
                    done[task_id] = task
        if time.monotonic() > deadline:
            missing = [t for t in task_ids if t not in done]
            raise AssertionError(f"{len(missing)} tasks not final: {missing[:5]}")
        time.sleep(0.1)
    return done


@contextmanager
def server(tmp: Path, sim: Simulator, *, webhooks: bool = False, **env: str) -> Iterator[Server]:
    """`aipaint serve` against the simulator `sim`, with fast timings."""
    upstream = {
        "AIPAINT_RUNNINGHUB_API_KEY": sim.key,
        "AIPAINT_RUNNINGHUB_BASE_URL": sim.url,
        "AIPAINT_SECRET_KEY": SECRET,
        **FAST,
    }
    with _serve(tmp, {**upstream, **env}, webhooks=webhooks) as stack:
        yield stack


@contextmanager
def demo_server(tmp: Path, **env: str) -> Iterator[Server]:
    """`aipaint serve` with no RunningHub key: demo mode, on its built-in simulator."""
    with _serve(tmp, env, demo=True) as stack:
        yield stack


@contextmanager
def _serve(
    tmp: Path, env: dict[str, str], *, demo: bool = False, webhooks: bool = False
) -> Iterator[Server]:
    """A started server on a free port, a data directory and a new database of its own."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data_dir = tmp / f"server-{port}"
    data_dir.mkdir()
    with fresh_database(data_dir) as database_url:
        variables = {
            **os.environ,
            "AIPAINT_DATA_DIR": str(data_dir),
            "AIPAINT_DATABASE_URL": database_url,
            **env,
        }
        unset = ["RUNNINGHUB_API_KEY", "AIPAINT_TOKEN"]
        if demo:
            unset.append("AIPAINT_RUNNINGHUB_API_KEY")
        for key in unset:
            variables.pop(key, None)
        if webhooks:
            variables["AIPAINT_PUBLIC_URL"] = url
        stack = Server(url, variables, data_dir / "serve.log")
        stack.token = stack.new_token()
        stack.start()
        try:
            yield stack
        finally:
            stack.stop()
