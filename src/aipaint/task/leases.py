"""The leases of this process's submits in flight.

A submit's marker names its owner and a lease the owner renews (every third of the lease) while
its call is in flight. Another process takes the submit for one a crash interrupted only once the
lease has lapsed. Before sending, the owner makes sure it still holds the lease; a process that
was stalled for longer (a stopped VM, a debugger) finds it lost and never sends.
"""

from __future__ import annotations

import time

import structlog

from aipaint.task.saving import TaskSaver

log = structlog.get_logger(__name__)


class SubmitLeases:
    def __init__(self, saver: TaskSaver, owner: str, lease_s: float) -> None:
        self.saver = saver
        self.owner = owner
        self.lease_s = lease_s
        self._renewed: dict[str, float] = {}  # task id -> when its lease was last extended

    def hold(self, task_id: str) -> None:
        self._renewed[task_id] = time.monotonic()

    def release(self, task_id: str) -> None:
        self._renewed.pop(task_id, None)

    def __contains__(self, task_id: str) -> bool:
        return task_id in self._renewed

    async def renew(self) -> None:
        """Extend every lease this process holds (its chore, every third of the lease)."""
        if not self._renewed:
            return
        held = await self.saver.renew_leases(self.owner, list(self._renewed), self.lease_s)
        now = time.monotonic()
        for task_id in held:
            if task_id in self._renewed:
                self._renewed[task_id] = now

    async def confirm(self, task_id: str) -> bool:
        """Whether this process still holds the task's lease, with time to spare for the call."""
        renewed = self._renewed.get(task_id)
        if renewed is not None and time.monotonic() - renewed < self.lease_s / 2:
            return True
        held = await self.saver.renew_leases(self.owner, [task_id], self.lease_s)
        if task_id not in held:
            log.warning("submit_lease_lost", task_id=task_id, owner=self.owner)
            return False
        self._renewed[task_id] = time.monotonic()
        return True
