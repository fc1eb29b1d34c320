"""Test helpers shared across features: the seed document's model and a process runner."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

# The model of RunningHub's standard-model API page: string, two enums without defaults, int 5..15.
LTX = "rhart-video/ltx-2.3/text-to-video"
LTX_PARAMS: dict[str, Any] = {
    "prompt": "a bird over a city",
    "resolution": "720p",
    "aspectRatio": "16:9",
    "duration": 5,
}


def create_token(env: Mapping[str, str], name: str, *, admin: bool = False) -> str:
    """`aipaint token create`, as a user runs it against the configured database."""
    command = [sys.executable, "-m", "aipaint", "token", "create", "--name", name]
    if admin:
        command.append("--admin")
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return done.stdout.splitlines()[-1]


@contextmanager
def running(
    command: list[str],
    health_url: str,
    *,
    log: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` as its own process until `health_url` answers 200; stop it afterwards."""
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(health_url, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{' '.join(command)} did not come up:\n{log.read_text()}")
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


@contextmanager
def fresh_database(directory: Path, *, postgres: bool = False) -> Iterator[str]:
    """A new, empty database: SQLite in `directory`, or a PostgreSQL database of its own when
    `postgres` or AIPAINT_TEST_DATABASE=postgres (PostgreSQL runs on every development and CI
    machine)."""
    if not postgres and os.environ.get("AIPAINT_TEST_DATABASE", "sqlite") != "postgres":
        yield f"sqlite+aiosqlite:///{directory / 'aipaint.db'}"
        return
    name = f"aipaint_test_{secrets.token_hex(6)}"
    _psql(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _psql(statement: str) -> None:
    subprocess.run(
        ["psql", POSTGRES_ADMIN_URL, "-q", "-c", statement], check=True, capture_output=True
    )
