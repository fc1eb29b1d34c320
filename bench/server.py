"""Run `aipaint serve`, `aipaint worker`, `aipaint simulator`, a `redis-server` of the run's own
and a PostgreSQL database of its own, each a separate process (or database) on loopback, and always
stop (drop) it. `running_cluster` starts the split shape: API processes and workers on PostgreSQL
and Redis."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from aipaint.accounts.service import create_user
from aipaint.db import create_engine, migrate, session_factory, transaction
from aipaint.simulator.settings import DEMO_KEY
from aipaint.simulator.state import mask_key

HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
HEALTH_POLL_S = 0.005  # fine enough to time a start-up (cold_start) with
# PostgreSQL runs on every development and CI machine (trust auth for the user postgres).
POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432"
_PSQL = [
    "psql",
    "-h",
    "127.0.0.1",
    "-U",
    "postgres",
    "-d",
    "postgres",
    "-q",
    "-v",
    "ON_ERROR_STOP=1",
]
# Never inherited by a process started here: a benchmark talks to no real RunningHub and writes
# to no database of the caller's; what it needs, it passes in `env`.
_NOT_INHERITED = ("AIPAINT_", "RUNNINGHUB_")


@dataclass(frozen=True)
class Server:
    url: str
    pid: int
    token: str  # an aipaint API token made for the run
    started_in: float = 0.0  # seconds from starting the process to its first good /healthz


@dataclass(frozen=True)
class Simulator:
    url: str
    pid: int
    keys: tuple[str, ...]  # the API keys it accepts, each an account of its own

    @property
    def key(self) -> str:
        return self.keys[0]

    @property
    def env(self) -> dict[str, str]:
        """What points `aipaint serve` at this simulator, with its first key."""
        return {"AIPAINT_RUNNINGHUB_API_KEY": self.key, "AIPAINT_RUNNINGHUB_BASE_URL": self.url}

    def submits(self, key: str) -> int:
        """Tasks submitted with `key` so far (the simulator's own count)."""
        stats = httpx.get(f"{self.url}/simulator/stats", timeout=10).raise_for_status().json()
        count: int = stats["submits_by_key"].get(mask_key(key), 0)
        return count


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED)}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# Called with the data dir, the URL the (first) server will answer on and the database's URL
# (migrated, token made), before any aipaint process starts: what a scenario stores there is what
# the processes find at start.
Prepare = Callable[[Path, str, str], None]


@contextmanager
def running_server(
    env: Mapping[str, str] | None = None,
    *,
    webhooks: bool = False,
    prepare: Prepare | None = None,
) -> Iterator[Server]:
    """`aipaint serve` on 127.0.0.1, in its own data dir, up once `/healthz` answers 200.

    `env` adds settings (e.g. `Simulator.env`); no `AIPAINT_*` / `RUNNINGHUB_*` variable of the
    caller's environment is passed on, so without `env` the server runs in demo mode.
    `webhooks` sets `AIPAINT_PUBLIC_URL` to the server's own URL, so upstream calls it back.
    The process is stopped when the block ends, however it ends: SIGTERM, then SIGKILL.
    """
    with tempfile.TemporaryDirectory(prefix="aipaint-bench-") as tmp:
        workdir = Path(tmp)
        port = free_port()
        url = f"http://{HOST}:{port}"
        child_env = {
            **_base_env(),
            "AIPAINT_DATA_DIR": str(workdir / "data"),
            "AIPAINT_LOG_LEVEL": "WARNING",
            **({"AIPAINT_PUBLIC_URL": url} if webhooks else {}),
            **(env or {}),
        }
        token = _create_token(workdir, child_env)
        if prepare is not None:
            database = workdir / "data" / "aipaint.db"
            prepare(workdir / "data", url, f"sqlite+aiosqlite:///{database}")
        with _serving(workdir, [port], child_env, [workdir / "server.log"], token) as servers:
            yield servers[0]


@contextmanager
def _serving(
    workdir: Path, ports: Sequence[int], env: Mapping[str, str], logs: Sequence[Path], token: str
) -> Iterator[list[Server]]:
    """`aipaint serve` processes, one on each port, all started at once; up once each answers
    `/healthz` with 200."""
    with ExitStack() as stack:
        started = time.perf_counter()
        processes = []
        for port, log_file in zip(ports, logs, strict=True):
            command = [sys.executable, "-m", "aipaint", "serve", "--host", HOST]
            command += ["--port", str(port)]
            log = stack.enter_context(log_file.open("wb"))
            # cwd is the temp dir, so that no `.env` of the checkout leaks into the settings.
            process = subprocess.Popen(
                command, cwd=workdir, env=dict(env), stdout=log, stderr=subprocess.STDOUT
            )
            stack.callback(_stop, process)
            processes.append(process)
        servers = []
        for port, process, log_file in zip(ports, processes, logs, strict=True):
            url = f"http://{HOST}:{port}"
            _wait_healthy(process, url, "/healthz", log_file, "aipaint serve")
            servers.append(Server(url, process.pid, token, time.perf_counter() - started))
        yield servers


@dataclass(frozen=True)
class RedisServer:
    url: str
    pid: int


@contextmanager
def running_redis() -> Iterator[RedisServer]:
    """`redis-server` on a free loopback port, keeping nothing on disk, up once it answers PING;
    stopped like the other processes."""
    with tempfile.TemporaryDirectory(prefix="aipaint-bench-redis-") as tmp:
        port = free_port()
        command = ["redis-server", "--port", str(port), "--bind", HOST, "--dir", tmp]
        command += ["--save", "", "--appendonly", "no"]
        log_file = Path(tmp) / "redis.log"
        with log_file.open("wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + START_TIMEOUT_S
                while not _redis_answers(port):
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"redis-server did not come up: {_tail(log_file)}")
                    time.sleep(0.02)
                yield RedisServer(f"redis://{HOST}:{port}/0", process.pid)
            finally:
                _stop(process)


@dataclass(frozen=True)
class S3Server:
    """An S3-compatible endpoint with one empty bucket; `env` puts aipaint's storage in it."""

    url: str
    pid: int
    bucket: str

    @property
    def env(self) -> dict[str, str]:
        return {
            "AIPAINT_STORAGE_URL": f"s3://{self.bucket}/bench",
            "AIPAINT_S3_ENDPOINT_URL": self.url,
            "AIPAINT_S3_REGION": "us-east-1",
            "AIPAINT_S3_ADDRESSING_STYLE": "path",
            **S3_CREDENTIALS,
        }


S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret"}


@contextmanager
def running_s3() -> Iterator[S3Server]:
    """moto's S3 server mode (`python -m moto.server`, objects in its memory) on a free loopback
    port, with a bucket made; stopped like the other processes."""
    from botocore.session import get_session

    with tempfile.TemporaryDirectory(prefix="aipaint-bench-s3-") as tmp:
        port = free_port()
        command = [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]
        log_file = Path(tmp) / "moto.log"
        with log_file.open("wb") as log:
            process = subprocess.Popen(
                command, env={**_base_env(), **S3_CREDENTIALS}, stdout=log, stderr=subprocess.STDOUT
            )
            try:
                url = f"http://{HOST}:{port}"
                _wait_healthy(process, url, "/moto-api/", log_file, "moto server")
                client: Any = get_session().create_client(
                    "s3",
                    endpoint_url=url,
                    region_name="us-east-1",
                    aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                    aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                )
                client.create_bucket(Bucket="bench")
                yield S3Server(url, process.pid, "bench")
            finally:
                _stop(process)


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass(frozen=True)
class Database:
    name: str

    @property
    def url(self) -> str:
        """What aipaint is given (AIPAINT_DATABASE_URL)."""
        return f"{POSTGRES}/{self.name}"

    def query(self, statement: str) -> list[list[str]]:
        """The rows a read-only SQL statement answers, each as its columns' text (psql)."""
        done = subprocess.run(
            [*_PSQL, "-d", self.name, "-tA", "-F", "\t", "-c", statement],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return [line.split("\t") for line in done.stdout.splitlines() if line]

    def backend_pids(self) -> list[int]:
        """The PostgreSQL server processes serving connections to this database now (their
        process title names it), so that their CPU time can be read too."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if title.startswith("postgres: ") and f" {self.name} " in title:
                pids.append(int(entry.name))
        return pids


@contextmanager
def postgres_database() -> Iterator[Database]:
    """A new, empty PostgreSQL database on 127.0.0.1:5432, dropped afterwards."""
    database = Database(f"aipaint_bench_{secrets.token_hex(6)}")
    _psql(f"CREATE DATABASE {database.name}")
    try:
        yield database
    finally:
        _psql(f"DROP DATABASE IF EXISTS {database.name} WITH (FORCE)")


def _psql(statement: str) -> None:
    command = [*_PSQL, "-d", "postgres", "-c", statement]
    subprocess.run(command, check=True, capture_output=True, timeout=60)


@dataclass
class Cluster:
    """API processes (`AIPAINT_WORKER=false aipaint serve`) and `aipaint worker` processes on
    one PostgreSQL database and one Redis, against one simulator, sharing a data dir."""

    apis: list[Server]
    token: str
    redis: RedisServer
    database: Database
    workers: list[int]  # pids, in start order
    _spawn: Callable[[], int] | None = None

    def start_worker(self) -> int:
        """One more `aipaint worker`, once its log says it started; stopped with the cluster."""
        assert self._spawn is not None
        pid = self._spawn()
        self.workers.append(pid)
        return pid

    @property
    def pids(self) -> list[int]:
        """Every aipaint process of the cluster: the API processes, then the workers."""
        return [api.pid for api in self.apis] + self.workers


@contextmanager
def running_cluster(
    env: Mapping[str, str],
    *,
    apis: int = 1,
    workers: int = 1,
    webhooks: bool = False,
    prepare: Prepare | None = None,
) -> Iterator[Cluster]:
    """`apis` API processes and then `workers` worker processes on a PostgreSQL database and a
    Redis of their own, everything stopped (and dropped) when the block ends.

    `env` adds settings, as for `running_server` (with a simulator's: split roles need a key);
    `webhooks` points `AIPAINT_PUBLIC_URL` at the first API process. Workers log at INFO (their
    start is read from the log: `worker_started`), API processes at WARNING.
    """
    if webhooks and not apis:
        raise ValueError("webhooks need an API process to call")
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="aipaint-bench-")))
        redis = stack.enter_context(running_redis())
        database = stack.enter_context(postgres_database())
        ports = [free_port() for _ in range(apis)]
        child_env = {
            **_base_env(),
            "AIPAINT_DATA_DIR": str(workdir / "data"),
            "AIPAINT_DATABASE_URL": database.url,
            "AIPAINT_REDIS_URL": redis.url,
            "AIPAINT_LOG_LEVEL": "WARNING",
            # A stopping worker lets its running jobs finish: briefly, the run is over.
            "AIPAINT_DRAIN_TIMEOUT_S": "2",
            # Every process signs file links and webhook URLs with the same secret.
            "AIPAINT_SECRET_KEY": secrets.token_hex(32),
            **({"AIPAINT_PUBLIC_URL": f"http://{HOST}:{ports[0]}"} if webhooks else {}),
            **env,
        }
        # Migrated and given a user here, before any process starts (they would all migrate
        # a new database at once), in this process: a second `aipaint` process is a second saved.
        token = asyncio.run(_migrate_with_token(database.url))
        if prepare is not None:
            first_url = f"http://{HOST}:{ports[0]}" if ports else ""
            prepare(workdir / "data", first_url, database.url)
        api_env = {**child_env, "AIPAINT_WORKER": "false"}
        worker_env = {**child_env, "AIPAINT_LOG_LEVEL": "INFO"}
        api_logs = [workdir / f"api-{port}.log" for port in ports]
        worker_logs = [workdir / f"worker-{n}.log" for n in range(workers)]
        # Every process starts at once (their start-ups overlap); workers need no API process.
        with ExitStack() as starting:
            pending_workers = starting.enter_context(_working(workdir, worker_env, worker_logs))
            servers = starting.enter_context(_serving(workdir, ports, api_env, api_logs, token))
            worker_pids = pending_workers()
            stack.enter_context(starting.pop_all())

        def spawn() -> int:
            log_file = workdir / f"worker-{len(cluster.workers)}.log"
            return stack.enter_context(_working(workdir, worker_env, [log_file]))()[0]

        cluster = Cluster(servers, token, redis, database, worker_pids, _spawn=spawn)
        yield cluster


@contextmanager
def _working(
    workdir: Path, env: Mapping[str, str], logs: Sequence[Path]
) -> Iterator[Callable[[], list[int]]]:
    """`aipaint worker` processes, one per log file, all started at once. Yields a function that
    waits until each one's log says `worker_started` and returns their pids."""
    with ExitStack() as stack:
        processes = []
        for log_file in logs:
            log = stack.enter_context(log_file.open("wb"))
            process = subprocess.Popen(
                [sys.executable, "-m", "aipaint", "worker"],
                cwd=workdir,
                env=dict(env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            stack.callback(_stop, process)
            processes.append(process)

        def started() -> list[int]:
            deadline = time.monotonic() + START_TIMEOUT_S
            for process, log_file in zip(processes, logs, strict=True):
                while "worker_started" not in log_file.read_text(errors="replace"):
                    if process.poll() is not None:
                        raise RuntimeError(
                            f"aipaint worker exited with {process.returncode}: {_tail(log_file)}"
                        )
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"aipaint worker did not start: {_tail(log_file)}")
                    time.sleep(0.02)
            return [process.pid for process in processes]

        yield started


async def _migrate_with_token(database_url: str) -> str:
    """Bring the database to the latest schema and make a user; their new API token."""
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        async with transaction(session_factory(engine)) as session:
            _, token = await create_user(session, "bench")
            return token
    finally:
        await engine.dispose()


def _create_token(workdir: Path, env: Mapping[str, str]) -> str:
    """`aipaint token create` on the configured database (migrating it first)."""
    return subprocess.run(
        [sys.executable, "-m", "aipaint", "token", "create", "--name", "bench"],
        cwd=workdir,
        env=dict(env),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()[-1]


@contextmanager
def running_simulator(
    *,
    speed: float = 1000,
    concurrency: int = 1_000_000,
    keys: Sequence[str] = (DEMO_KEY,),
    output_pad_mb: float = 0,
) -> Iterator[Simulator]:
    """`aipaint simulator` (RunningHub's OpenAPI v2) on 127.0.0.1, up once
    `/simulator/health` answers 200, and stopped like `running_server`'s process.

    `concurrency` is its limit of tasks in flight per key: the default never refuses a submit.
    `output_pad_mb` pads every result file to that size.
    """
    if len({mask_key(key) for key in keys}) != len(keys):
        raise ValueError("the simulator's stats could not tell these keys apart")
    with tempfile.TemporaryDirectory(prefix="aipaint-bench-sim-") as tmp:
        workdir = Path(tmp)
        port = free_port()
        command = [sys.executable, "-m", "aipaint", "simulator", "--host", HOST]
        command += ["--port", str(port), "--speed", f"{speed:g}"]
        command += ["--concurrency", str(concurrency), "--output-pad-mb", f"{output_pad_mb:g}"]
        for key in keys:
            command += ["--key", key]
        env = {**_base_env(), "AIPAINT_LOG_LEVEL": "WARNING"}
        with (workdir / "simulator.log").open("wb") as log:
            process = subprocess.Popen(
                command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT
            )
            try:
                url = f"http://{HOST}:{port}"
                log_file = workdir / "simulator.log"
                _wait_healthy(process, url, "/simulator/health", log_file, "aipaint simulator")
                yield Simulator(url, process.pid, tuple(keys))
            finally:
                _stop(process)


def _wait_healthy(
    process: subprocess.Popen[bytes], url: str, path: str, log: Path, what: str
) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    with httpx.Client(base_url=url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{what} exited with {process.returncode}: {_tail(log)}")
            try:
                if client.get(path).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(HEALTH_POLL_S)
    raise RuntimeError(f"{what} did not answer {path} in {START_TIMEOUT_S} s: {_tail(log)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far; 0.0 where there is no /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    """The resident memory of a process now (VmRSS); 0 where there is no /proc."""
    return _status_kib(pid, "VmRSS:") * 1024


def peak_rss_bytes(pid: int) -> int:
    """The most resident memory a process has had so far (VmHWM); 0 where there is no /proc."""
    return _status_kib(pid, "VmHWM:") * 1024


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0
