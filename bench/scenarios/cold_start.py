"""cold_start: `aipaint serve` to its first good `GET /healthz`, with the full catalog."""

from __future__ import annotations

import subprocess
import sys
import time

from bench.harness import Context, Figure, Target, scenario
from bench.server import HEALTH_POLL_S, running_server

NOTE = (
    "From starting the `aipaint serve` process to its first `200` on `GET /healthz`, asked every "
    f"{HEALTH_POLL_S * 1000:g} ms, with the shipped catalog and a data dir whose database is "
    "already created (as after "
    "`aipaint token create`), in demo mode (no RunningHub key: the built-in simulator starts "
    "too). Baseline of the same run: `python -c pass`, the interpreter's own start."
)


@scenario("cold_start", "Cold start", repeats=5, note=NOTE)
def cold_start(ctx: Context) -> list[Figure]:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    interpreter = time.perf_counter() - started
    with running_server() as server:
        seconds = server.started_in
    return [
        Figure("serve to first /healthz", seconds, "s", Target("<", 2)),
        Figure("python -c pass", interpreter, "s"),
        Figure("serve / interpreter start", seconds / interpreter, "×"),
    ]
