"""An HTTP load generator in its own process: N keep-alive connections reading every model in turn.

`python -m bench.loadgen URL --mode full|etag --seconds S --connections N [--server-pid PID]`
prints one JSON object. Before the timed phase it reads every model once (the server builds its
documents, the client learns their ETags). In `etag` mode each request sends the model's ETag in
`If-None-Match` and must get `304`; in `full` mode it must get `200` with a body. Anything else,
a transport error included, counts as an error. Only http://127.0.0.1 is accepted as a target.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import subprocess
import sys
import time
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import httpx

from bench.server import cpu_seconds

Mode = Literal["full", "etag"]
MAX_REQUESTS = 5_000_000  # a bound on the timed loop besides its deadline
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float
    client_cpu_seconds: float  # the load generator's CPU time in the timed phase
    server_cpu_seconds: float  # the server's, when its pid was given (else 0)
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def generate_load(
    url: str,
    mode: Mode,
    *,
    token: str,
    seconds: float,
    connections: int,
    server_pid: int | None = None,
) -> LoadResult:
    """Run the load generator as a child process against `url` and return what it measured."""
    command = [sys.executable, "-m", "bench.loadgen", url, "--mode", mode, "--token", token]
    command += ["--seconds", str(seconds), "--connections", str(connections)]
    if server_pid is not None:
        command += ["--server-pid", str(server_pid)]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed ({done.returncode}): {done.stderr[-2000:]}")
    return LoadResult(**json.loads(done.stdout))


async def _load(
    url: str, mode: Mode, token: str, seconds: float, connections: int, server_pid: int | None
) -> LoadResult:
    # One client of one connection per worker: httpcore's pool scans all of its connections on
    # every request, so a single pool of 32 costs the load generator much more CPU.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    tls = ssl.create_default_context()  # unused on http://, but each client would load its own
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=url,
                    limits=limits,
                    timeout=10.0,
                    verify=tls,
                    headers={"Authorization": f"Bearer {token}"},
                )
            )
            for _ in range(connections)
        ]
        listing = await clients[0].get("/v1/models")
        listing.raise_for_status()
        paths = [f"/v1/models/{model['id']}" for model in listing.json()["models"]]
        etags: dict[str, str] = {}

        async def warm(client: httpx.AsyncClient, offset: int) -> None:
            for path in paths[offset::connections]:
                response = await client.get(path)
                response.raise_for_status()
                etags[path] = response.headers["etag"]

        await asyncio.gather(*(warm(client, offset) for offset, client in enumerate(clients)))

        requests = [
            clients[0].build_request(
                "GET", path, headers={"If-None-Match": etags[path]} if mode == "etag" else None
            )
            for path in paths
        ]
        expected = 304 if mode == "etag" else 200
        latencies: list[int] = []
        errors = 0

        async def worker(client: httpx.AsyncClient, offset: int, deadline: float) -> None:
            nonlocal errors
            clock = time.perf_counter_ns
            index = offset
            while time.perf_counter() < deadline and len(latencies) < MAX_REQUESTS:
                request = requests[index % len(requests)]
                index += connections
                start = clock()
                try:
                    response = await client.send(request)
                    ok = response.status_code == expected and (
                        mode == "etag" or len(response.content) > 0
                    )
                except httpx.HTTPError:
                    ok = False
                latencies.append(clock() - start)
                errors += not ok

        server_cpu = cpu_seconds(server_pid) if server_pid else 0.0
        client_cpu, started = time.process_time(), time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(
            *(worker(client, offset, deadline) for offset, client in enumerate(clients))
        )
        elapsed = time.perf_counter() - started
        client_cpu = time.process_time() - client_cpu
        server_cpu = (cpu_seconds(server_pid) if server_pid else 0.0) - server_cpu
    latencies_ms = [ns / 1e6 for ns in latencies]
    return LoadResult(len(latencies), errors, elapsed, client_cpu, server_cpu, latencies_ms)


def _run(main: Coroutine[Any, Any, LoadResult]) -> LoadResult:
    try:
        import uvloop
    except ImportError:  # uvloop comes with uvicorn[standard], but not on every platform
        return asyncio.run(main)
    return uvloop.run(main)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--mode", choices=["full", "etag"], default="full")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--server-pid", type=int)
    parser.add_argument("--token", required=True, help="aipaint API token")
    args = parser.parse_args()
    if not args.url.startswith("http://127.0.0.1:"):
        parser.error("the load generator only targets http://127.0.0.1:PORT")
    result = _run(
        _load(args.url, args.mode, args.token, args.seconds, args.connections, args.server_pid)
    )
    json.dump(asdict(result), sys.stdout)


if __name__ == "__main__":
    main()
