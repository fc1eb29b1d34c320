"""Multi-process stacks: API processes (`aipaint serve` with AIPAINT_WORKER=false) and
`aipaint worker` processes on one PostgreSQL database and a Redis of the test's own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from aipaint.kit.background_server import free_port
from tests.s3 import storage_env
from tests.stacks import (
    FAST,
    SECRET,
    RedisServer,
    Server,
    Simulator,
    WorkerProcess,
    redis_server,
)
from tests.support import create_token, fresh_database


@dataclass
class Cluster:
    apis: list[Server]
    workers: list[WorkerProcess]
    redis: RedisServer
    env: dict[str, str]
    token: str
    processes: ExitStack

    def http(self, index: int = 0) -> httpx.Client:
        return self.apis[index].http(self.token)

    def spawn_worker(self, log: Path, command: list[str] | None = None) -> WorkerProcess:
        """One more worker process, stopped with the cluster whatever the test's outcome."""
        process = WorkerProcess(self.env, log, command) if command else WorkerProcess(self.env, log)
        self.processes.callback(process.stop)
        return process.start()


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
    own, against the simulator `sim`, sharing one data directory and secret, and one storage:
    local files in that directory, or with AIPAINT_TEST_STORAGE=s3 a bucket of their own."""
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
            **storage_env(tmp),
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
        yield Cluster(servers, processes, redis, variables, token, stack)
