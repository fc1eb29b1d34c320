"""`aipaint worker` that pauses between committing a submit's marker and sending the submit.

Run as `python -m tests.e2e.paused_worker SECONDS`: the pause is an `asyncio.sleep`, so the
process stays alive (its lease keeper goes on renewing) while the submit waits; it prints
`submit_paused` when a pause begins, so a test knows the marker is committed.
"""

from __future__ import annotations

import asyncio
import sys

from aipaint.cli import main
from aipaint.task.leases import SubmitLeases


def pause_before_send(seconds: float) -> None:
    """Sleep before the owner's last check of its lease, which comes right before the call."""
    confirm = SubmitLeases.confirm

    async def paused(self: SubmitLeases, task_id: str) -> bool:
        print(f"submit_paused task_id={task_id}", flush=True)  # noqa: T201 (the test reads it)
        await asyncio.sleep(seconds)
        return await confirm(self, task_id)

    SubmitLeases.confirm = paused  # type: ignore[method-assign]


if __name__ == "__main__":
    pause_before_send(float(sys.argv[1]))
    sys.argv = ["aipaint", "worker"]
    main()
