"""Shared machinery: figures and targets, the scenario registry, the repeat-and-aggregate runner.

A scenario is a function that measures once and returns its figures; the runner calls it several
times and reports, per figure, the median across repeats and the spread (min–max). What a scenario
needs across its repeats (a running server, say) it asks of `Context.shared`, which the runner
tears down after the last repeat, on error too.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from typing import Literal, TypeVar, cast

T = TypeVar("T")
Op = Literal["<", "<=", ">", ">="]
MIN_REPEATS = 3


@dataclass(frozen=True)
class Target:
    op: Op
    limit: float

    def met(self, value: float) -> bool:
        match self.op:
            case "<":
                return value < self.limit
            case "<=":
                return value <= self.limit
            case ">":
                return value > self.limit
            case ">=":
                return value >= self.limit

    def __str__(self) -> str:
        return f"{self.op} {fmt(self.limit)}"


@dataclass(frozen=True)
class Figure:
    """One number measured by one repeat of a scenario."""

    name: str
    value: float
    unit: str
    target: Target | None = None


@dataclass
class Context:
    """What a scenario's function is given: the mode, and resources that outlive one repeat."""

    smoke: bool
    stack: ExitStack
    repeat: int = 0
    _shared: dict[str, object] = field(default_factory=dict)

    def shared(self, key: str, factory: Callable[[], AbstractContextManager[T]]) -> T:
        """The resource `key`, entered on first use and exited when the scenario is done."""
        if key not in self._shared:
            self._shared[key] = self.stack.enter_context(factory())
        return cast(T, self._shared[key])


ScenarioFn = Callable[[Context], list[Figure]]


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    fn: ScenarioFn
    repeats: int = MIN_REPEATS
    note: str = ""


SCENARIOS: dict[str, Scenario] = {}


def scenario(
    name: str, title: str, *, repeats: int = MIN_REPEATS, note: str = ""
) -> Callable[[ScenarioFn], ScenarioFn]:
    """Register a scenario; the report lists scenarios in registration order."""

    def register(fn: ScenarioFn) -> ScenarioFn:
        if name in SCENARIOS:
            raise ValueError(f"scenario {name!r} is registered twice")
        SCENARIOS[name] = Scenario(name, title, fn, max(repeats, MIN_REPEATS), note)
        return fn

    return register


@dataclass(frozen=True)
class FigureResult:
    name: str
    unit: str
    value: float  # the median across repeats
    low: float
    high: float
    samples: list[float]
    target: Target | None

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.target.met(self.value)


@dataclass(frozen=True)
class ScenarioResult:
    name: str
    title: str
    note: str
    repeats: int
    seconds: float
    figures: list[FigureResult]
    failure: str | None = None  # why a full run's scenario gave no figures


def run_scenario(item: Scenario, *, smoke: bool) -> ScenarioResult:
    """Run `item` (once in smoke mode, else its repeats) and aggregate its figures."""
    repeats = 1 if smoke else item.repeats
    runs: list[list[Figure]] = []
    started = time.perf_counter()
    with ExitStack() as stack:
        context = Context(smoke=smoke, stack=stack)
        for repeat in range(repeats):
            context.repeat = repeat
            runs.append(item.fn(context))
    seconds = time.perf_counter() - started
    return ScenarioResult(item.name, item.title, item.note, repeats, seconds, aggregate(runs))


def aggregate(runs: Sequence[Sequence[Figure]]) -> list[FigureResult]:
    """Per figure name, in first-seen order: median and min–max across the repeats."""
    by_name: dict[str, list[Figure]] = {}
    for run in runs:
        for figure in run:
            by_name.setdefault(figure.name, []).append(figure)
    results = []
    for name, figures in by_name.items():
        if len(figures) != len(runs):
            raise ValueError(f"figure {name!r} is missing from some repeats")
        values = [f.value for f in figures]
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"figure {name!r} has a non-finite value: {values}")
        first = figures[0]
        results.append(
            FigureResult(
                name=name,
                unit=first.unit,
                value=statistics.median(values),
                low=min(values),
                high=max(values),
                samples=values,
                target=first.target,
            )
        )
    return results


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) of `values`, interpolated linearly between closest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def fmt(value: float) -> str:
    """A figure as people read it: three or so significant digits, thousands separated."""
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"
