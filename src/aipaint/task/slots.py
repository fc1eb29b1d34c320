"""How many of a RunningHub key's slots are taken, counting what RunningHub itself reports.

A task holds a slot while it runs or queues upstream, and while its submit is in flight. A task
whose submit outcome is unknown (a 5xx, a lost answer, a crash mid-call) may or may not exist
upstream: it holds a slot only while RunningHub's own count of the key's tasks in flight
(`queue/status`) leaves room for it. So a burst of unknown outcomes can never stop the queue:
once RunningHub says it runs nothing, they hold nothing.

RunningHub's count is a snapshot: it vouches only for what it could have seen. A task accepted
after it was read is not in it, and a submit whose outcome became unknown after it was read may
have landed since; the room the count leaves is measured against the tasks known at that moment,
and only outcomes already unknown then may be judged by it. The rest hold a slot each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aipaint.models import UpstreamAccount


@dataclass(frozen=True)
class SlotCounts:
    known: int  # running or queued upstream, by our records
    live: int  # submits in flight under a live lease
    unknown: int  # submits whose outcome is unknown
    # Of those, what RunningHub's last count could have seen: known tasks accepted before it
    # was read, and outcomes unknown since before it was read.
    known_then: int = 0
    unknown_then: int = 0

    def used(self, reported: int | None) -> int:
        """Slots taken, given RunningHub's count of the key's tasks in flight (None: unknown,
        so every unknown outcome is assumed to run)."""
        if reported is None:
            return self.known + self.live + self.unknown
        room = max(0, reported - self.known_then)
        judged = min(self.unknown_then, room)
        return self.known + self.live + (self.unknown - self.unknown_then) + judged


def reported_in_flight(account: UpstreamAccount, now: datetime, fresh_s: float) -> int | None:
    """RunningHub's count of the key's tasks in flight, if it was read within `fresh_s`."""
    if account.checked_at is None or account.running is None or account.queued is None:
        return None
    if now - account.checked_at > timedelta(seconds=fresh_s):
        return None
    return account.running + account.queued
