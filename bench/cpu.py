"""CPU time over a block: of named groups of processes, of a database's PostgreSQL backends (which
come and go with their connections), and of the whole machine."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from bench.server import Database, cpu_seconds

SAMPLE_S = 0.1  # how often the backends of the database are looked for


class CpuMeter:
    """Use as `with CpuMeter(...) as meter:` (or pass it as `generate_load(during=...)`), then read
    `seconds(group)`, `postgres`, `machine_busy` and `elapsed`.

    A fixed process's CPU is read when the block starts and ends. PostgreSQL starts a backend per
    connection, and a pool that grows past its size under load opens and closes connections, so
    the backends of `database` are looked for every SAMPLE_S: one that appears counts its whole
    CPU time (it was born in the block), one that disappears counts what it had used when last
    seen (so the figure is a lower bound, short by at most SAMPLE_S of each closed backend).
    """

    def __init__(
        self, groups: Mapping[str, Sequence[int]], database: Database | None = None
    ) -> None:
        self.groups = {name: list(pids) for name, pids in groups.items()}
        self.database = database
        self._before: dict[int, float] = {}
        self._after: dict[int, float] = {}
        self._backends: dict[int, tuple[float, float]] = {}  # pid -> (at start or 0, last seen)
        self._machine_before = 0.0
        self.machine_busy = 0.0  # core-seconds the machine's CPUs were busy, by anyone
        self.elapsed = 0.0
        self._started = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> CpuMeter:
        self._machine_before = machine_busy_seconds()
        self._started = time.perf_counter()
        self._before = {pid: cpu_seconds(pid) for pids in self.groups.values() for pid in pids}
        if self.database is not None:
            for pid in self.database.backend_pids():
                seconds = _alive_cpu(pid)
                if seconds is not None:
                    self._backends[pid] = (seconds, seconds)
            self._thread = threading.Thread(target=self._watch, name="cpu-meter", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._after = {pid: cpu_seconds(pid) for pids in self.groups.values() for pid in pids}
        self.elapsed = time.perf_counter() - self._started
        self.machine_busy = machine_busy_seconds() - self._machine_before
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._sample()

    def seconds(self, group: str) -> float:
        """CPU time of the group's processes over the block."""
        return sum(self._after[pid] - self._before[pid] for pid in self.groups[group])

    @property
    def postgres(self) -> float:
        """CPU time of the database's backends over the block (a lower bound: see the class)."""
        return sum(last - first for first, last in self._backends.values())

    @property
    def ours(self) -> float:
        """CPU time of every process measured here."""
        return sum(self.seconds(group) for group in self.groups) + self.postgres

    def _watch(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self._sample()

    def _sample(self) -> None:
        assert self.database is not None
        for pid in self.database.backend_pids():
            seconds = _alive_cpu(pid)
            if seconds is not None:
                first = self._backends[pid][0] if pid in self._backends else 0.0
                self._backends[pid] = (first, seconds)


def _alive_cpu(pid: int) -> float | None:
    """The process's CPU time, or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """Core-seconds every CPU of the machine has been busy since boot (/proc/stat: all but idle
    and iowait); 0.0 where there is no /proc."""
    try:
        line = Path("/proc/stat").read_text().splitlines()[0]
    except OSError:
        return 0.0
    ticks = [int(value) for value in line.split()[1:9]]  # user … steal
    idle = ticks[3] + ticks[4]
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")
