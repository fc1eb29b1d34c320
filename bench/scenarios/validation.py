"""validation: the per-request cost of `validate_params`, on valid and on invalid params."""

from __future__ import annotations

import statistics
import time
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from aipaint.catalog.examples import broken_params, sample_params
from aipaint.catalog.paths import MODELS_DIR
from aipaint.catalog.schemas import ModelSpec
from aipaint.catalog.service import Catalog
from aipaint.catalog.validation import validate_params
from bench.harness import Context, Figure, Target, percentile, scenario

BATCH, ROUNDS = 50, 5
SMOKE_BATCH, SMOKE_ROUNDS = 3, 1
NOTE = (
    "One realistic params object per model: required params plus every other optional one, with "
    "console defaults or in-range values, media as https URLs. A batch is "
    f"{BATCH} calls with one model's params, timed with `perf_counter_ns`; per call = batch time "
    f"/ {BATCH}. Median and p99 are over all batches: {ROUNDS} rounds over every model. The "
    "invalid path drops a required param, breaks one value and adds an unknown one (models "
    "without published params left out)."
)

Case = tuple[ModelSpec, dict[str, Any]]


@scenario("validation", "Params validation", note=NOTE)
def validation(ctx: Context) -> list[Figure]:
    catalog = ctx.shared("catalog", _catalog)
    specs = catalog.search()
    valid = [(spec, sample_params(spec)) for spec in specs]
    invalid = [(spec, broken_params(spec)) for spec in specs if spec.params_published]
    bad = [(spec.id, errors) for spec, params in valid if (errors := validate_params(spec, params))]
    if bad:
        raise RuntimeError(f"sample params do not validate: {bad[:3]}")
    error_counts = [len(validate_params(spec, params)) for spec, params in invalid]
    if not all(error_counts):
        raise RuntimeError("some broken params validate cleanly")

    batch, rounds = (SMOKE_BATCH, SMOKE_ROUNDS) if ctx.smoke else (BATCH, ROUNDS)
    valid_us = _per_call_us(valid, batch, rounds)
    invalid_us = _per_call_us(invalid, batch, rounds)
    return [
        Figure("valid: median per call", statistics.median(valid_us), "µs", Target("<", 100)),
        Figure("valid: p99 per call", percentile(valid_us, 99), "µs"),
        Figure("invalid: median per call", statistics.median(invalid_us), "µs"),
        Figure("invalid: p99 per call", percentile(invalid_us, 99), "µs"),
        Figure("invalid: errors per request", statistics.mean(error_counts), "errors"),
        Figure("calls timed", (len(valid) + len(invalid)) * batch * rounds, "calls"),
    ]


def _catalog() -> AbstractContextManager[Catalog]:
    return nullcontext(Catalog.load(MODELS_DIR))


def _per_call_us(cases: list[Case], batch: int, rounds: int) -> list[float]:
    """Per-call time of every batch, in µs: `rounds` passes over `cases`, one batch per case."""
    per_call: list[float] = []
    clock = time.perf_counter_ns
    calls = range(batch)
    for _ in range(rounds):
        for spec, params in cases:
            start = clock()
            for _ in calls:
                validate_params(spec, params)
            per_call.append((clock() - start) / batch / 1000)
    return per_call
