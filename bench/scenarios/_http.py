"""Figures shared by the HTTP scenarios: what one load run (`bench.loadgen`) measured."""

from __future__ import annotations

import sys

from bench.harness import Figure, Target, percentile
from bench.loadgen import LoadResult

# CPU times come from /proc; elsewhere the CPU figures are left out.
HAS_PROC = sys.platform == "linux"


def load_figures(
    label: str,
    result: LoadResult,
    *,
    unit: str = "req/s",
    rate_target: Target | None = None,
    cpu_names: tuple[str, ...] = ("server",),
) -> list[Figure]:
    """Throughput (good answers within the phase, per second of it), latency p50 / p99 (of every
    request, those that end after the deadline too), errors (target: none) and, per
    process whose pid the run was given, its CPU time per request; then the load generator's."""
    if not result.requests:
        raise RuntimeError(f"{label}: no request completed")
    figures = [
        Figure(f"{label}: throughput", result.ok_rate, unit, rate_target),
        Figure(f"{label}: latency p50", p50(result), "ms"),
        Figure(f"{label}: latency p99", p99(result), "ms"),
        Figure(f"{label}: errors", result.errors, "requests", Target("<=", 0)),
    ]
    if HAS_PROC:
        for name, seconds in zip(cpu_names, result.pid_cpu_seconds, strict=False):
            figures.append(
                Figure(f"{label}: {name} CPU per request", cpu_us(seconds, result), "µs")
            )
        figures.append(
            Figure(
                f"{label}: load generator CPU per request",
                cpu_us(result.client_cpu_seconds, result),
                "µs",
            )
        )
    return figures


def p50(result: LoadResult) -> float:
    return percentile(result.latencies_ms, 50)


def p99(result: LoadResult) -> float:
    return percentile(result.latencies_ms, 99)


def cpu_us(seconds: float, result: LoadResult) -> float:
    """CPU time per request of the run, in µs."""
    return seconds / result.requests * 1e6
