"""The simulator's memory: accounts, tasks and their timetable, uploads, and what it counted.

A task's status is a function of the clock: it is QUEUED until `starts_at`, RUNNING until
`ends_at`, then SUCCESS or FAILED. Nothing has to tick for a query to see the right status.
"""

from __future__ import annotations

import random
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aipaint.simulator.settings import Account, SimulatorSettings

# Nominal (queue, run) seconds per output type, as ranges; RunningHub's video tasks take minutes.
TIMETABLE: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "image": ((1, 4), (8, 25)),
    "video": ((2, 8), (60, 240)),
    "audio": ((1, 4), (10, 40)),
    "text": ((0, 1), (2, 8)),
    "3d": ((2, 6), (60, 150)),
}
FINAL = ("SUCCESS", "FAILED")


@dataclass
class SimTask:
    id: str
    key: str
    model_id: str
    output_type: str
    params: dict[str, Any]
    webhook_url: str | None
    base_url: str  # where the submit came in: result links point there
    created_at: float
    starts_at: float
    ends_at: float | None  # None: stuck, never finishes
    failed: bool
    seed: int
    price: Decimal
    run_seconds: float
    faults: list[str] = field(default_factory=list)
    webhook_deliveries: list[dict[str, Any]] = field(default_factory=list)
    # A status string reported verbatim (e.g. CREATE, CANCEL, "success"): RunningHub's rarer
    # spellings, set through the control routes so clients can be tested against them.
    forced_status: str | None = None

    def status(self, now: float) -> str:
        if self.forced_status is not None:
            return self.forced_status
        if now < self.starts_at:
            return "QUEUED"
        if self.ends_at is None or now < self.ends_at:
            return "RUNNING"
        return "FAILED" if self.failed else "SUCCESS"

    def active(self, now: float) -> bool:
        return self.status(now) not in FINAL


@dataclass
class Upload:
    data: bytes
    content_type: str
    expires_at: float


class SimulatorState:
    def __init__(self, settings: SimulatorSettings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self.random = random.Random(settings.seed)
        self.accounts: dict[str, Account] = {
            key: account.model_copy() for key, account in settings.accounts.items()
        }
        self.tasks: dict[str, SimTask] = {}
        self.uploads: dict[str, Upload] = {}
        self.submits_by_key: Counter[str] = Counter()
        # Tasks put in flight through the control routes (benchmarks), never submitted.
        self.seeded_by_key: Counter[str] = Counter()
        # The most tasks a key ever had in flight at once: proves a client kept to its limit.
        self.peak_active_by_key: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.faults_by_call: Counter[str] = Counter()  # "5xx:submit": transport faults per call
        self.webhooks: Counter[str] = Counter()
        # The most calls a key made within any one second: proves a client kept to its budget.
        self.peak_calls_per_second_by_key: Counter[str] = Counter()
        self._recent_calls: dict[str, deque[float]] = {}
        self.requests: deque[dict[str, Any]] = deque(maxlen=10_000)
        self._sequence = 0
        self._next_task = 2013508786110730241  # the seed document's task id, counted on from

    def next_task_id(self) -> str:
        self._next_task += self.random.randint(1, 999)
        return str(self._next_task)

    def scaled(self, nominal_seconds: float) -> float:
        return nominal_seconds / self.settings.speed

    def limit(self, key: str) -> int:
        return self.accounts[key].concurrency_limit or self.settings.concurrency_limit

    def active_tasks(self, key: str) -> list[SimTask]:
        now = self.clock()
        return [t for t in self.tasks.values() if t.key == key and t.active(now)]

    def schedule(self, output_type: str) -> tuple[float, float]:
        """(queue, run) nominal seconds for a new task of this output type."""
        (queue_low, queue_high), (run_low, run_high) = TIMETABLE.get(
            output_type, TIMETABLE["image"]
        )
        return self.random.uniform(queue_low, queue_high), self.random.uniform(run_low, run_high)

    def record_request(self, entry: dict[str, Any]) -> dict[str, Any]:
        self._sequence += 1
        entry = {"seq": self._sequence, "at": self.clock(), **entry}
        self.requests.append(entry)
        return entry

    def count_call(self, key: str, at: float) -> None:
        """Count one call of `key` at monotonic time `at` into its busiest one-second window."""
        recent = self._recent_calls.setdefault(key, deque())
        recent.append(at)
        while recent[0] <= at - 1.0:
            recent.popleft()
        if len(recent) > self.peak_calls_per_second_by_key[key]:
            self.peak_calls_per_second_by_key[key] = len(recent)

    def roll(self, rate: float) -> bool:
        return rate > 0 and self.random.random() < rate


def mask_key(key: str) -> str:
    """A key as the control endpoints show it: enough to tell keys apart, not to use one."""
    return f"{key[:4]}…{key[-4:]}" if len(key) > 8 else "…"
