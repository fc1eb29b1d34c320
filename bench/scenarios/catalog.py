"""catalog_load: parse and check every catalog file, as start-up does."""

from __future__ import annotations

import gc
import time

from aipaint.catalog.checks import check_specs
from aipaint.catalog.paths import MODELS_DIR
from aipaint.catalog.service import Catalog
from bench.harness import Context, Figure, Target, scenario

NOTE = (
    "`Catalog.load` on the shipped catalog: every file read from disk, parsed by pydantic and "
    "checked, anew on each repeat (nothing is cached between calls; the OS page cache is warm). "
    "`checks` times `check_specs` alone on the specs just parsed."
)


@scenario("catalog_load", "Catalog load", repeats=7, note=NOTE)
def catalog_load(ctx: Context) -> list[Figure]:
    gc.collect()  # the previous repeat's garbage is not this repeat's cost
    start = time.perf_counter_ns()
    catalog = Catalog.load(MODELS_DIR)
    load_ns = time.perf_counter_ns() - start

    specs = [(spec.id, spec) for spec in catalog.search()]
    start = time.perf_counter_ns()
    defects = check_specs(specs)
    checks_ns = time.perf_counter_ns() - start
    if defects:
        raise RuntimeError(f"the shipped catalog has defects: {defects[:3]}")
    return [
        Figure("load (parse + checks)", load_ns / 1e6, "ms", Target("<", 300)),
        Figure("of which checks", checks_ns / 1e6, "ms"),
        Figure("models", len(catalog), "files"),
    ]
