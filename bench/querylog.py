"""The simulator's request log, read while a scenario runs: when each upstream query arrived."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from types import TracebackType

import httpx

POLL_S = 0.25  # the log keeps the latest 10,000 requests: read it well before it wraps


class QueryLog:
    """Collects the arrival times (simulator clock, Unix s) of `/openapi/v2/query` calls.

    A background thread reads `/simulator/requests?since=SEQ` every POLL_S while the block runs.
    """

    def __init__(self, simulator_url: str) -> None:
        self.url = simulator_url
        self.times: list[float] = []
        self._seq = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="query-log", daemon=True)
        self.error: BaseException | None = None

    def __enter__(self) -> QueryLog:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            self._read(client, record=False)  # whatever came before the block is not ours
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        if self.error is not None and kind is None:
            raise RuntimeError("reading the simulator's request log failed") from self.error

    def _run(self) -> None:
        try:
            with httpx.Client(base_url=self.url, timeout=30) as client:
                while not self._stop.wait(POLL_S):
                    self._read(client, record=True)
                self._read(client, record=True)
        except BaseException as exc:  # re-raised in the caller's thread
            self.error = exc

    def _read(self, client: httpx.Client, *, record: bool) -> None:
        entries = client.get("/simulator/requests", params={"since": self._seq}).json()["requests"]
        if not entries:
            return
        if record and entries[0]["seq"] > self._seq + 1:
            raise RuntimeError("the request log wrapped before it was read: entries were lost")
        self._seq = entries[-1]["seq"]
        if record:
            self.times += [entry["at"] for entry in entries if entry["call"] == "query"]


def peak_rate(times: Sequence[float], window_s: float) -> float:
    """The most calls in any half-open window [t, t + window_s) starting at a call, per second."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - window_s:
            first += 1
        most = max(most, last - first + 1)
    return most / window_s
