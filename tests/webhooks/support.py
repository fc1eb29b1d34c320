"""Webhook receivers for end-to-end tests: `receiver.py` run as processes of their own."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from aipaint.kit.background_server import free_port
from tests.stacks import Child

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Receiver(Child):
    directory: Path
    script: str = ""
    port: int = field(default_factory=free_port)
    redirect: str = ""  # answer every request with a 302 to this URL

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def log(self) -> Path:
        return self.directory / f"receiver-{self.port}.jsonl"

    @property
    def secrets_file(self) -> Path:
        return self.directory / f"receiver-{self.port}.secrets"

    def trust(self, *secrets: str) -> Receiver:
        self.secrets_file.write_text("\n".join(secrets) + "\n")
        return self

    def start(self) -> Receiver:
        command = [sys.executable, "-m", "tests.webhooks.receiver", "--port", str(self.port)]
        command += ["--log", str(self.log), "--secrets", str(self.secrets_file)]
        command += ["--script", self.script, "--redirect", self.redirect]
        self.process = subprocess.Popen(command, cwd=ROOT)
        deadline = time.monotonic() + 10
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                pytest.fail("the webhook receiver did not come up")
            time.sleep(0.05)

    def requests(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def wait(
        self, until: Callable[[list[dict[str, Any]]], bool], timeout: float = 30
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while not until(seen := self.requests()):
            if time.monotonic() > deadline:
                raise AssertionError(f"receiver saw {json.dumps(seen)[:3000]}")
            time.sleep(0.05)
        return seen


def events(requests: list[dict[str, Any]]) -> dict[tuple[str, str], set[str]]:
    """(task id, event type) -> the webhook-ids that carried it, from verified requests."""
    found: dict[tuple[str, str], set[str]] = {}
    for request in requests:
        body = request["body"]
        if body is not None:
            found.setdefault((body["data"]["id"], body["type"]), set()).add(request["id"])
    return found
