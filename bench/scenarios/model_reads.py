"""model_reads: `GET /v1/models/{id}` over real HTTP against `aipaint serve` in its own process."""

from __future__ import annotations

import os
import sys

from bench.harness import Context, Figure, Target, percentile, scenario
from bench.loadgen import LoadResult, Mode, generate_load
from bench.server import running_server

SECONDS, CONNECTIONS = 5.0, 32
SMOKE_SECONDS, SMOKE_CONNECTIONS = 1.0, 4
NOTE = (
    f"`aipaint serve` (one uvicorn worker) in its own process on a free 127.0.0.1 port; the load "
    f"generator, another process, holds {CONNECTIONS} keep-alive httpx connections reading every "
    f"model in turn for {SECONDS:g} s per phase, after one untimed pass over all models. "
    f"**The load generator shares the machine's {os.cpu_count()} cores with the server**, and "
    "httpx (pure-Python HTTP) costs it more CPU per request than the server spends (compare the "
    "two CPU figures), so it saturates first: req/s is at most about 1 s / (load generator CPU "
    "per request) and says more about the client than about the server. The server's own "
    "ceiling is `server capacity`: 1 s / `server CPU per request`, the server process's CPU time "
    "over the timed phase divided by the requests, i.e. what one fully busy core could serve. "
    "Latency is per request as the client sees it, queueing included. `304` sends the model's "
    "ETag in `If-None-Match`."
)
PHASES: tuple[tuple[Mode, str], ...] = (("full", "200"), ("etag", "304"))


@scenario("model_reads", "Model reads over HTTP", note=NOTE)
def model_reads(ctx: Context) -> list[Figure]:
    server = ctx.shared("server", running_server)
    seconds, connections = (
        (SMOKE_SECONDS, SMOKE_CONNECTIONS) if ctx.smoke else (SECONDS, CONNECTIONS)
    )
    figures: list[Figure] = []
    for mode, label in PHASES:
        result = generate_load(
            server.url,
            mode,
            token=server.token,
            seconds=seconds,
            connections=connections,
            pids=(server.pid,),
        )
        figures += _figures(label, result)
    return figures


def _figures(label: str, result: LoadResult) -> list[Figure]:
    if not result.requests:
        raise RuntimeError(f"{label}: no request completed")
    figures = [
        Figure(f"{label}: throughput", result.rate, "req/s", Target(">=", 2000)),
        Figure(f"{label}: latency p50", percentile(result.latencies_ms, 50), "ms"),
        Figure(f"{label}: latency p99", percentile(result.latencies_ms, 99), "ms"),
        Figure(f"{label}: errors", result.errors, "requests", Target("<=", 0)),
    ]
    if sys.platform == "linux":  # CPU times come from /proc
        server_us = result.server_cpu_seconds / result.requests * 1e6
        client_us = result.client_cpu_seconds / result.requests * 1e6
        figures += [
            Figure(f"{label}: server CPU per request", server_us, "µs"),
            Figure(f"{label}: server capacity (1 core)", 1e6 / server_us, "req/s"),
            Figure(f"{label}: load generator CPU per request", client_us, "µs"),
        ]
    return figures
