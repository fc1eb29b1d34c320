"""What oversized requests cost a real `aipaint serve` process in memory: its peak resident set
(VmHWM in /proc/<pid>/status) may rise by less than 32 MB for a 200 MB body without a token and
for a 1 GiB upload with one. Both are sent chunked, with no Content-Length, so the server has to
count the bytes as they stream in."""

from __future__ import annotations

import select
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.stacks import Server, demo_server

MB = 1024 * 1024
BUDGET_MB = 32
CHUNK = b"\0" * MB
BOUNDARY = b"aipaint-memory-test"

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with demo_server(tmp_path_factory.mktemp("memory")) as server:
        with server.http() as http:  # warm up: the routes, the catalog's documents, the database
            assert http.get("/v1/models").status_code == 200
            assert http.get("/v1/tasks").status_code == 200
        yield server


def peak_rss_mb(server: Server) -> float:
    assert server.process is not None
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    [line] = [line for line in status.splitlines() if line.startswith("VmHWM:")]
    return int(line.split()[1]) / 1024


def report(case: str, before: float, after: float, sent: int) -> None:
    rise = after - before
    print(f"{case}: peak RSS {before:.1f} -> {after:.1f} MB (+{rise:.1f}), {sent / MB:.0f} MB sent")  # noqa: T201


def send_chunked(
    server: Server, path: str, headers: dict[str, str], head: bytes, total: int, tail: bytes = b""
) -> tuple[int | None, int]:
    """POST `head`, then zeros up to `total` bytes, then `tail`, chunked, stopping as soon as the
    server answers or closes. (status or None, bytes sent)."""
    host, port = server.url.removeprefix("http://").split(":")
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", "Transfer-Encoding: chunked"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    sent = 0
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        pieces = [head]
        try:
            while sent < total:
                if select.select([sock], [], [], 0)[0]:
                    break  # the server has answered: stop sending
                piece = pieces.pop() if pieces else CHUNK
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                sent += len(piece)
            else:
                sock.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(tail), tail))
        except OSError:
            pass  # the server closed the connection under us
        try:
            answer = sock.recv(65536)
        except OSError:
            answer = b""
    status = int(answer.split()[1]) if answer.startswith(b"HTTP/1.1 ") else None
    return status, sent


def test_a_200_mb_body_without_a_token(stack: Server) -> None:
    before = peak_rss_mb(stack)
    status, sent = send_chunked(
        stack, "/v1/tasks", {"Content-Type": "application/json"}, b'{"model": "', 200 * MB
    )
    after = peak_rss_mb(stack)
    report("200 MB body without a token", before, after, sent)
    assert status == 413
    assert sent < 20 * MB  # refused at the 1 MB limit, not read to the end
    assert after - before < BUDGET_MB, f"peak RSS {before:.0f} -> {after:.0f} MB"


def test_a_1_gib_upload_with_a_token(stack: Server) -> None:
    before = peak_rss_mb(stack)
    head = (
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="file"; filename="big.png"'
        b"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n"
    )
    status, sent = send_chunked(
        stack,
        "/v1/uploads",
        {
            "Authorization": f"Bearer {stack.token}",
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY.decode()}",
        },
        head,
        1024 * MB,
        b"\r\n--" + BOUNDARY + b"--\r\n",
    )
    after = peak_rss_mb(stack)
    report("1 GiB upload with a token", before, after, sent)
    # No model named: refused past the largest limit any param has (500 MB), streamed to disk.
    assert status == 413
    assert 500 * MB <= sent < 520 * MB
    assert after - before < BUDGET_MB, f"peak RSS {before:.0f} -> {after:.0f} MB"
