"""Process stacks for end-to-end and browser tests: `aipaint simulator` and `aipaint serve`,
separate processes on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from aipaint.kit.background_server import free_port
from aipaint.simulator.settings import DEMO_KEY
from tests.s3 import storage_env
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
class Child:
    """A process a test starts itself: killed as in a crash, or stopped (SIGTERM) and waited for."""

    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or an OOM kill."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)  # a worker drains first
        except subprocess.TimeoutExpired:
            self.process.kill()  # reaped here, not left running past the test
            self.process.wait(timeout=10)
            pytest.fail(f"{self.process.args!r} did not stop on SIGTERM:\n{self.output()}")
        finally:
            self.process = None

    def output(self) -> str:
        """What the process printed last, to tell why it failed."""
        return ""


@dataclass
class RedisServer(Child):
    """`redis-server` on a free port, keeping nothing on disk: killed, it loses everything it
    held (queued jobs, the budget's window) and starts again empty."""

    directory: Path
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        with (self.directory / f"redis-{self.port}.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while (
            subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
            ).stdout.strip()
            != "PONG"
        ):
            if time.monotonic() > deadline or self.process.poll() is not None:
                pytest.fail(f"redis-server on port {self.port} did not come up")
            time.sleep(0.05)
        return self


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    server = RedisServer(directory).start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class WorkerProcess(Child):
    """One `aipaint worker`; ready once its log says the worker started."""

    env: dict[str, str]
    log: Path
    command: list[str] = field(default_factory=lambda: ["-m", "aipaint", "worker"])

    def output(self) -> str:
        return "\n".join(self.log.read_text().splitlines()[-60:])

    def start(self) -> WorkerProcess:
        started = self.log.read_text().count("worker_started") if self.log.exists() else 0
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, *self.command],
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while self.log.read_text().count("worker_started") <= started:
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"aipaint worker did not come up:\n{self.log.read_text()}")
            time.sleep(0.05)
        return self


@dataclass
class Server:
    url: str
    env: dict[str, str]
    log: Path
    token: str = ""
    process: subprocess.Popen[bytes] | None = None
    # The split shape: this server is an API process, and this `aipaint worker` runs its jobs.
    worker: WorkerProcess | None = None
    _stack: ExitStack = field(default_factory=ExitStack)

    def start(self) -> Server:
        command = [sys.executable, "-m", "aipaint", "serve", "--port", self.url.rsplit(":", 1)[1]]
        self.process = self._stack.enter_context(
            running(command, f"{self.url}/healthz", env=self.env, log=self.log)
        )
        if self.worker is not None:
            self.worker.start()
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or an OOM kill."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self._stack.close()
        self._stack = ExitStack()
        if self.worker is not None:
            self.worker.kill()

    def stop(self) -> None:
        self._stack.close()
        if self.worker is not None:
            self.worker.stop()

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
def server(
    tmp: Path,
    sim: Simulator,
    *,
    webhooks: bool = False,
    variables: Mapping[str, str] | None = None,
    **env: str,
) -> Iterator[Server]:
    """`aipaint serve` against the simulator `sim`, with fast timings; `variables` and `env`
    are more of its environment."""
    upstream = {
        "AIPAINT_RUNNINGHUB_API_KEY": sim.key,
        "AIPAINT_RUNNINGHUB_BASE_URL": sim.url,
        "AIPAINT_SECRET_KEY": SECRET,
        **FAST,
    }
    with _serve(tmp, {**upstream, **(variables or {}), **env}, webhooks=webhooks) as stack:
        yield stack


@contextmanager
def demo_server(tmp: Path, **env: str) -> Iterator[Server]:
    """`aipaint serve` with no RunningHub key: demo mode, on its built-in simulator."""
    with _serve(tmp, env, demo=True) as stack:
        yield stack


def split_shape() -> bool:
    """AIPAINT_TEST_SHAPE=split: each end-to-end server is an API process plus an `aipaint
    worker`, sharing a Redis of their own (the second pass of `scripts/test`)."""
    return os.environ.get("AIPAINT_TEST_SHAPE", "one") == "split"


@contextmanager
def _serve(
    tmp: Path, env: dict[str, str], *, demo: bool = False, webhooks: bool = False
) -> Iterator[Server]:
    """A started server on a free port, a data directory and a new database of its own (and,
    with AIPAINT_TEST_STORAGE=s3, a bucket of its own)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data_dir = tmp / f"server-{port}"
    data_dir.mkdir()
    split = split_shape() and not demo  # demo mode's simulator lives inside one process
    with ExitStack() as services:
        database_url = services.enter_context(fresh_database(data_dir))
        if split:
            env = {**env, "AIPAINT_REDIS_URL": services.enter_context(redis_server(data_dir)).url}
        variables = {
            **os.environ,
            "AIPAINT_DATA_DIR": str(data_dir),
            "AIPAINT_DATABASE_URL": database_url,
            **storage_env(tmp),
            # A stopping worker gives its jobs this long, well within what `Child.stop` waits.
            "AIPAINT_DRAIN_TIMEOUT_S": "10",
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
        if split:
            stack.env = {**variables, "AIPAINT_WORKER": "false"}
            stack.worker = WorkerProcess(variables, data_dir / "worker.log")
        stack.token = stack.new_token()
        stack.start()
        try:
            yield stack
        finally:
            stack.stop()
