"""`aipaint token create --webhook-url` and `aipaint webhook secret --user`, on the database of
a running server: what they write is what the API answers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.stacks import demo_server


def aipaint(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "aipaint", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)


def test_token_default_url_and_secret(tmp_path: Path) -> None:
    with demo_server(tmp_path, AIPAINT_TRUSTED_HOSTS='["127.0.0.1:9"]') as stack:
        env = stack.env
        refused = aipaint(
            env, "token", "create", "--name", "app", "--webhook-url", "http://10.0.0.1/"
        )
        assert refused.returncode == 2
        assert "private_address" in refused.stderr
        made = aipaint(
            env, "token", "create", "--name", "app", "--webhook-url", "http://127.0.0.1:9/hook"
        )
        assert made.returncode == 0, made.stderr
        token = made.stdout.splitlines()[-1]
        with stack.http(token) as http:
            assert http.get("/v1/webhooks/default").json() == {"url": "http://127.0.0.1:9/hook"}
            printed = aipaint(env, "webhook", "secret", "--user", "app")
            assert printed.returncode == 0, printed.stderr
            key = printed.stdout.strip()
            assert key.startswith("whsec_")
            assert http.get("/v1/webhooks/secret").json() == {"key": key}
            rotated = http.post("/v1/webhooks/secret/rotate").json()["key"]
        assert aipaint(env, "webhook", "secret", "--user", "app").stdout.strip() == rotated
        unknown = aipaint(env, "webhook", "secret", "--user", "nobody")
        assert unknown.returncode == 1
        assert "no unrevoked token" in unknown.stderr
