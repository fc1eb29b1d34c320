"""`aipaint serve` as a user runs it: a separate process answering real HTTP on a socket."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from aipaint.kit.background_server import free_port
from tests.support import LTX, create_token, running


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, token) of `aipaint serve`, the token made by `aipaint token create` first."""
    port = free_port()
    data_dir = tmp_path_factory.mktemp("data")
    env = {**os.environ, "AIPAINT_DATA_DIR": str(data_dir)}
    env.pop("AIPAINT_RUNNINGHUB_API_KEY", None)
    env.pop("RUNNINGHUB_API_KEY", None)
    base = f"http://127.0.0.1:{port}"
    token = create_token(env, "serve-test")
    command = [sys.executable, "-m", "aipaint", "serve", "--port", str(port)]
    with running(command, f"{base}/healthz", env=env, log=data_dir / "serve.log"):
        yield base, token


def test_serves_health_with_demo_mode(server: tuple[str, str]) -> None:
    body = httpx.get(f"{server[0]}/healthz").json()
    assert body == {**body, "status": "ok", "demo": True, "models": 302}


def test_every_v1_route_needs_a_token(server: tuple[str, str]) -> None:
    base, _ = server
    for path in ("/v1/models", f"/v1/models/{LTX}", "/v1/tasks"):
        response = httpx.get(f"{base}{path}")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"
    wrong = httpx.get(f"{base}/v1/models", headers={"Authorization": "Bearer aip_wrong"})
    assert wrong.status_code == 401


def test_serves_a_model_schema(server: tuple[str, str]) -> None:
    base, token = server
    response = httpx.get(f"{base}/v1/models/{LTX}", headers={"Authorization": f"Bearer {token}"})
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
