"""Run `aipaint serve` as a separate process on a free loopback port, and always stop it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Server:
    url: str
    pid: int
    token: str  # an aipaint API token made for the run


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_server(env: dict[str, str] | None = None) -> Iterator[Server]:
    """`aipaint serve` on 127.0.0.1, in its own data dir, up once `/healthz` answers 200.

    The process is stopped when the block ends, however it ends: SIGTERM, then SIGKILL.
    """
    with tempfile.TemporaryDirectory(prefix="aipaint-bench-") as tmp:
        workdir = Path(tmp)
        port = free_port()
        child_env = {
            **os.environ,
            "AIPAINT_DATA_DIR": str(workdir / "data"),
            "AIPAINT_LOG_LEVEL": "WARNING",
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
        command = [sys.executable, "-m", "aipaint", "serve", "--host", HOST, "--port", str(port)]
        with (workdir / "server.log").open("wb") as log:
            # cwd is the temp dir, so that no `.env` of the checkout leaks into the settings.
            process = subprocess.Popen(
                command, cwd=workdir, env=child_env, stdout=log, stderr=subprocess.STDOUT
            )
            try:
                url = f"http://{HOST}:{port}"
                _wait_healthy(process, url, workdir / "server.log")
                yield Server(url, process.pid, token)
            finally:
                _stop(process)


def _wait_healthy(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    with httpx.Client(base_url=url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"aipaint serve exited with {process.returncode}: {_tail(log)}")
            try:
                if client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    raise RuntimeError(
        f"aipaint serve did not answer /healthz in {START_TIMEOUT_S} s: {_tail(log)}"
    )


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
