"""`aipaint serve` closes idle and half-sent connections, and caps how many it holds: a few
hundred silent sockets no longer make `/healthz` fail."""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from aipaint.kit.background_server import free_port
from aipaint.serving import HeaderTimeout, uvicorn_options
from tests.conftest import make_settings
from tests.support import running

HEADER_TIMEOUT_S = 1.0
KEEP_ALIVE_S = 1.0
MAX_CONNECTIONS = 20


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("serving")
    port = free_port()
    env = {
        **os.environ,
        "AIPAINT_DATA_DIR": str(tmp),
        "AIPAINT_HTTP_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
        "AIPAINT_HTTP_KEEP_ALIVE_S": str(KEEP_ALIVE_S),
        "AIPAINT_HTTP_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
    }
    env.pop("AIPAINT_RUNNINGHUB_API_KEY", None)
    env.pop("RUNNINGHUB_API_KEY", None)
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "aipaint", "serve", "--port", str(port)]
    with running(command, f"{url}/healthz", env=env, log=tmp / "serve.log"):
        yield url


def connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def closed_within(sock: socket.socket, seconds: float) -> float:
    """How long until the server closed `sock` (reading whatever it sent first)."""
    start = time.monotonic()
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        raise AssertionError(f"still open after {seconds} s") from None
    return time.monotonic() - start


def test_a_silent_connection_is_closed(base: str) -> None:
    with connect(base) as sock:
        assert closed_within(sock, HEADER_TIMEOUT_S + 3) >= HEADER_TIMEOUT_S * 0.8


def test_half_sent_headers_are_closed(base: str) -> None:
    with connect(base) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        assert closed_within(sock, HEADER_TIMEOUT_S + 3) >= HEADER_TIMEOUT_S * 0.8


def test_headers_sent_a_byte_at_a_time_are_cut_off(base: str) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000 + b"\r\n\r\n"
    with connect(base) as sock:
        start = time.monotonic()
        try:
            for byte in request:  # ten seconds' worth, at this pace
                sock.sendall(bytes([byte]))
                time.sleep(0.01)
        except OSError:
            pass  # broken pipe or reset: the server has closed it
        else:
            raise AssertionError("the server let a slow request go on")
        assert time.monotonic() - start < HEADER_TIMEOUT_S + 2


def test_an_idle_keep_alive_connection_is_closed(base: str) -> None:
    with connect(base) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        assert closed_within(sock, KEEP_ALIVE_S + 3) >= KEEP_ALIVE_S * 0.8


def test_a_second_request_on_a_connection_gets_its_own_header_timeout(base: str) -> None:
    with connect(base) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        assert closed_within(sock, HEADER_TIMEOUT_S + 3) >= HEADER_TIMEOUT_S * 0.8


def test_idle_sockets_beyond_the_cap_are_refused_then_freed(base: str) -> None:
    with ExitStack() as stack:
        for _ in range(MAX_CONNECTIONS + 5):
            stack.enter_context(connect(base))
        time.sleep(0.2)
        assert httpx.get(f"{base}/healthz").status_code == 503  # at once, not a hang
        time.sleep(HEADER_TIMEOUT_S + 1)  # the silent ones are closed by then
        assert httpx.get(f"{base}/healthz").status_code == 200


def test_the_options_come_from_the_settings(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        http_header_timeout_s=7,
        http_keep_alive_s=3,
        http_max_connections=50,
    )
    options = uvicorn_options(settings)
    assert issubclass(options["http"], HeaderTimeout)
    assert options["http"].header_timeout == 7
    assert (options["timeout_keep_alive"], options["limit_concurrency"]) == (3, 50)
