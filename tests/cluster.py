"""Multi-process stacks: a Redis server of the test's own, API processes (`aipaint serve` with
AIPAINT_WORKER=false) and `aipaint worker` processes on one PostgreSQL database and one Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from aipaint.kit.background_server import free_port
from tests.stacks import FAST, SECRET, Server, Simulator
from tests.support import create_token, fresh_database


@dataclass
class RedisServer:
    """`redis-server` on a free port, keeping nothing on disk: a restart comes back empty."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

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

    def kill(self) -> None:
        """SIGKILL: everything Redis held (queued jobs, the budget's window) is gone."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    server = RedisServer(directory).start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class WorkerProcess:
    """One `aipaint worker`; ready once its log says the worker started."""

    env: dict[str, str]
    log: Path
    command: list[str] = field(default_factory=lambda: ["-m", "aipaint", "worker"])
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [sys.executable, *self.command],
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        started = self.log.read_text().count("worker_started")
        deadline = time.monotonic() + 30
        while self.log.read_text().count("worker_started") <= started:
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"aipaint worker did not come up:\n{self.log.read_text()}")
            time.sleep(0.05)
        return self

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None


@dataclass
class Cluster:
    apis: list[Server]
    workers: list[WorkerProcess]
    redis: RedisServer
    env: dict[str, str]
    token: str

    def http(self, index: int = 0) -> httpx.Client:
        return self.apis[index].http(self.token)


@contextmanager
def cluster(
    tmp: Path,
    sim: Simulator,
    *,
    apis: int = 2,
    workers: int = 2,
    webhooks: bool = True,
    database_dir: Path | None = None,
    **env: str,
) -> Iterator[Cluster]:
    """API and worker processes on a PostgreSQL database of their own and a Redis of the test's
    own, against the simulator `sim`, sharing one data directory (local storage) and secret."""
    data_dir = tmp / "cluster"
    data_dir.mkdir(exist_ok=True)
    ports = [free_port() for _ in range(apis)]
    with ExitStack() as stack:
        redis = stack.enter_context(redis_server(data_dir))
        database_url = stack.enter_context(fresh_database(database_dir or data_dir, postgres=True))
        variables = {
            **os.environ,
            **FAST,
            "AIPAINT_RUNNINGHUB_API_KEY": sim.key,
            "AIPAINT_RUNNINGHUB_BASE_URL": sim.url,
            "AIPAINT_SECRET_KEY": SECRET,
            "AIPAINT_DATA_DIR": str(data_dir),
            "AIPAINT_DATABASE_URL": database_url,
            "AIPAINT_REDIS_URL": redis.url,
            "AIPAINT_DRAIN_TIMEOUT_S": "5",
            **env,
        }
        for key in ("RUNNINGHUB_API_KEY", "AIPAINT_TOKEN"):
            variables.pop(key, None)
        if webhooks:
            variables["AIPAINT_PUBLIC_URL"] = f"http://127.0.0.1:{ports[0]}"
        token = create_token(variables, "cluster")
        api_env = {**variables, "AIPAINT_WORKER": "false"}
        servers = [
            Server(f"http://127.0.0.1:{port}", api_env, data_dir / f"api-{port}.log", token)
            for port in ports
        ]
        for server in servers:
            server.start()
            stack.callback(server.stop)
        processes = []
        for n in range(workers):
            process = WorkerProcess(variables, data_dir / f"worker-{n}.log").start()
            stack.callback(process.stop)
            processes.append(process)
        yield Cluster(servers, processes, redis, variables, token)
