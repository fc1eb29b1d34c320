"""`aipaint serve` as a user runs it: a separate process answering real HTTP on a socket."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    data_dir = tmp_path_factory.mktemp("data")
    env = {**os.environ, "AIPAINT_DATA_DIR": str(data_dir)}
    env.pop("AIPAINT_RUNNINGHUB_API_KEY", None)
    env.pop("RUNNINGHUB_API_KEY", None)
    command = [sys.executable, "-m", "aipaint", "serve", "--port", str(port)]
    log = data_dir / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"aipaint serve did not come up:\n{log.read_text()}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serves_health_with_demo_mode(server: str) -> None:
    body = httpx.get(f"{server}/healthz").json()
    assert body == {**body, "status": "ok", "demo": True, "models": 302}


def test_serves_a_model_schema(server: str) -> None:
    response = httpx.get(f"{server}/v1/models/rhart-video/ltx-2.3/text-to-video")
    assert response.status_code == 200
    assert response.json()["schema"]["required"] == [
        "prompt",
        "resolution",
        "aspectRatio",
        "duration",
    ]


def test_main_module_runs_the_cli(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "aipaint", "catalog", "check"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "ok: 302 models" in result.stdout
