"""`python -m bench --smoke` still runs every scenario: the benchmark code cannot rot unseen.

Nothing here asserts a speed; speed is measured by `scripts/bench` only.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import bench.scenarios  # noqa: F401  (registers every scenario)
from bench.harness import SCENARIOS

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "benchmarks.md"
# Figures each HTTP scenario must report: both sides of every comparison it draws.
KEY_FIGURES = {
    "model_reads": {"200: throughput", "304: throughput"},
    "submit_overhead": {
        "aipaint: throughput",
        "direct: throughput",
        "throughput ratio aipaint / direct",
        "added latency p50",
        "added latency p99",
    },
    "task_reads": {"task: throughput", "healthz: throughput", "task / healthz throughput ratio"},
    "cold_start": {"serve to first /healthz", "python -c pass"},
    "tracking": {
        "polling: peak query rate",
        "polling: completion delay p99",
        "webhooks: completion delay p99",
    },
    "api_scaling": {
        "1 API: submit throughput",
        "2 API: submit throughput",
        "submit: throughput 2 / 1 API",
        "1 API: read throughput",
        "2 API: read throughput",
        "read: throughput 2 / 1 API",
    },
    "submit_latency": {
        "API-only: healthz latency p50",
        "API-only: submit latency p50",
        "API-only: added latency p50",
        "API-only: added latency p99",
        "all-in-one: added latency p50",
        "all-in-one: added latency p99",
        "API-only, no worker: added latency p50",
    },
    "shared_budget": {
        "tasks in flight",
        "peak calls in a second (simulator)",
        "peak queries in a second",
        "peak query rate over 10 s",
        "polls beyond one per task, run so far",
    },
    "polling_delay": {"20 q/s: completion delay p99", "20 q/s: tasks timed"},
    "sse_delivery": {"commit → stream p99", "change → stream p99", "changes timed"},
    "archival": {
        "2 MB × 6: archival throughput",
        "2 MB × 6: plain download throughput",
        "2 MB × 6: archival / download",
    },
    "archival_s3": {
        "8 MB × 3: archival throughput",
        "8 MB × 3: plain download throughput",
        "8 MB × 3: archival / download",
        "8 MB × 3: aipaint RSS increase",
    },
}


def test_smoke_run_reports_every_scenario_with_numeric_figures(tmp_path: Path) -> None:
    output = tmp_path / "smoke.json"
    docs_before = DOCS.read_bytes() if DOCS.exists() else None

    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(output.read_text())
    assert result["smoke"] is True
    assert SCENARIOS
    assert set(KEY_FIGURES) <= set(SCENARIOS)
    assert set(result["scenarios"]) == set(SCENARIOS)
    for name, scenario in result["scenarios"].items():
        assert scenario["figures"], f"{name} reports no figures"
        for figure in scenario["figures"]:
            for key in ("value", "min", "max"):
                value = figure[key]
                assert isinstance(value, int | float), (name, figure)
                assert math.isfinite(value), (name, figure)
            # Not a speed: a request the load generator counted as failed (a non-2xx answer,
            # a transport error) means the benchmark measured something else than it says.
            if figure["name"].endswith("errors"):
                assert figure["value"] == 0, (name, figure)
        names = {figure["name"] for figure in scenario["figures"]}
        assert KEY_FIGURES.get(name, set()) <= names, (name, sorted(names))
    assert (DOCS.read_bytes() if DOCS.exists() else None) == docs_before
