"""The benchmark scenarios. Importing this package registers each of them, in `MODULES` order,
which is the order of the report; a new scenario module is added to `MODULES`."""

from __future__ import annotations

from importlib import import_module

MODULES = (
    "catalog",
    "validation",
    "cold_start",
    "model_reads",
    "auth_lookup",
    "submit_overhead",
    "task_reads",
    "api_scaling",
    "submit_latency",
    "tracking",
    "shared_budget",
    "polling_delay",
    "sse_delivery",
    "archival",
    "archival_s3",
    "webhook_delay",
)

for _module in MODULES:
    import_module(f"{__name__}.{_module}")
