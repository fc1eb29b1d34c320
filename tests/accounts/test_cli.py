"""`aipaint token create | list | revoke` against a server that keeps running: the revocation is
refused on the very next request, by every `aipaint serve` process sharing the database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from aipaint.kit.background_server import free_port
from tests.stacks import redis_server
from tests.support import create_token, fresh_database, running


def aipaint(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "aipaint", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module", params=["database", "database and Redis"])
def servers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[dict[str, str], list[str]]]:
    """(environment, [base URL, base URL]): two `aipaint serve` processes on one database, and
    in the second round on one Redis too, where the processes read the revocation mark."""
    tmp = tmp_path_factory.mktemp("tokens")
    with fresh_database(tmp) as database_url, ExitStack() as stack:
        env = {**os.environ, "AIPAINT_DATA_DIR": str(tmp), "AIPAINT_DATABASE_URL": database_url}
        if request.param == "database and Redis":
            env["AIPAINT_REDIS_URL"] = stack.enter_context(redis_server(tmp)).url
        for key in ("AIPAINT_RUNNINGHUB_API_KEY", "RUNNINGHUB_API_KEY", "AIPAINT_TOKEN"):
            env.pop(key, None)
        create_token(env, "first")  # creates the database before two processes race to
        urls = []
        for worker in ("true", "true"):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            command = [sys.executable, "-m", "aipaint", "serve", "--port", str(port)]
            log = Path(tmp) / f"serve-{port}.log"
            stack.enter_context(
                running(command, f"{url}/healthz", env={**env, "AIPAINT_WORKER": worker}, log=log)
            )
            urls.append(url)
        yield env, urls


def token_id(env: dict[str, str], name: str) -> str:
    listed = aipaint(env, "token", "list")
    assert listed.returncode == 0, listed.stderr
    [line] = [line for line in listed.stdout.splitlines() if f" {name} " in line]
    return next(word for word in line.split() if word.startswith("usr_"))


def status(url: str, token: str) -> int:
    return httpx.get(f"{url}/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code


def test_revoke_by_id_is_refused_on_the_next_request_in_every_process(
    servers: tuple[dict[str, str], list[str]],
) -> None:
    env, urls = servers
    token = create_token(env, "alice")
    # Twice each: the second answer comes from what each process remembers of the token.
    assert [status(url, token) for url in urls * 2] == [200] * 4
    revoked = aipaint(env, "token", "revoke", token_id(env, "alice"))
    assert revoked.returncode == 0, revoked.stderr
    assert [status(url, token) for url in urls] == [401, 401]
    listed = aipaint(env, "token", "list").stdout
    [alice] = [line for line in listed.splitlines() if " alice " in line]
    assert alice.split()[-1].endswith("+00:00")  # the revoked column is filled in


def test_revoke_by_name_revokes_every_token_of_that_name(
    servers: tuple[dict[str, str], list[str]],
) -> None:
    env, urls = servers
    tokens = [create_token(env, "bob"), create_token(env, "bob")]
    keep = create_token(env, "carol")
    assert [status(urls[1], token) for token in [*tokens, keep]] == [200] * 3
    revoked = aipaint(env, "token", "revoke", "--name", "bob")
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.count("revoked usr_") == 2
    assert [status(urls[1], token) for token in tokens] == [401, 401]
    assert status(urls[1], keep) == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["usr_nobody"], "no token usr_nobody"),
        (["--name", "nobody"], "no unrevoked token of name nobody"),
        ([], "TOKEN_ID or --name"),
        (["usr_x", "--name", "x"], "TOKEN_ID or --name"),
    ],
)
def test_revoke_says_what_it_could_not_do(
    servers: tuple[dict[str, str], list[str]], args: list[str], message: str
) -> None:
    done = aipaint(servers[0], "token", "revoke", *args)
    assert done.returncode != 0
    assert message in done.stdout + done.stderr
