"""Run `aipaint serve`, or `aipaint simulator`, as a separate process on a free loopback port, and
always stop it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from aipaint.simulator.settings import DEMO_KEY
from aipaint.simulator.state import mask_key

HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
HEALTH_POLL_S = 0.005  # fine enough to time a start-up (cold_start) with
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


# Called with the data dir (database migrated, token made) and the URL the server will answer
# on, before the server starts: what a scenario stores there is what the server finds at start.
Prepare = Callable[[Path, str], None]


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
        token = subprocess.run(
            [sys.executable, "-m", "aipaint", "token", "create", "--name", "bench"],
            cwd=workdir,
            env=child_env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.splitlines()[-1]
        if prepare is not None:
            prepare(workdir / "data", url)
        command = [sys.executable, "-m", "aipaint", "serve", "--host", HOST, "--port", str(port)]
        with (workdir / "server.log").open("wb") as log:
            # cwd is the temp dir, so that no `.env` of the checkout leaks into the settings.
            started = time.perf_counter()
            process = subprocess.Popen(
                command, cwd=workdir, env=child_env, stdout=log, stderr=subprocess.STDOUT
            )
            try:
                _wait_healthy(process, url, "/healthz", workdir / "server.log", "aipaint serve")
                yield Server(url, process.pid, token, time.perf_counter() - started)
            finally:
                _stop(process)


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
