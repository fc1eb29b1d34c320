"""A stopping worker process exits within its bound, whatever holds it up."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

STUCK = """
import asyncio, time
from aipaint.logging import configure_logging
from aipaint.roles import _exit_if_stuck

async def main() -> None:
    _exit_if_stuck(1.5)
    {hang}

configure_logging("INFO", False)
asyncio.run(main())
"""


@pytest.mark.parametrize(
    ("hang", "says"),
    [
        # A coroutine waiting for good: the loop still answers, so what waits is named first.
        ("await asyncio.Event().wait()", ["worker_stop_slow", "Task-1 at", "worker_stop_overran"]),
        # A blocked loop: only the thread can act; every thread's stack goes to the log.
        ("time.sleep(60)", ["worker_stop_overran", "Thread"]),
    ],
)
def test_a_stuck_stop_exits_with_what_held_it(hang: str, says: list[str]) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", STUCK.format(hang=hang)], capture_output=True, text=True, timeout=30
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert time.monotonic() - started < 15
    for text in says:
        assert text in output, output
