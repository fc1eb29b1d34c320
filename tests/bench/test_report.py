"""The report of a full run: a scenario that failed is shown as failed, and counts as missed."""

from __future__ import annotations

from bench.harness import ScenarioResult
from bench.report import Report, markdown, to_json

MACHINE = {"cpu": "cpu", "cores": 2, "ram_gib": 1, "os": "os", "python": "3.11"}


def test_a_failed_scenario_is_reported_and_missed() -> None:
    failed = ScenarioResult("broken", "Broken", "note", 3, 1.0, [], "RuntimeError: no webhook")
    report = Report("2026-11-30T00:00:00Z", "abc", MACHINE, False, 1.0, [failed])
    assert report.missed == ["broken: failed: RuntimeError: no webhook"]
    assert "**Failed**, no figures: RuntimeError: no webhook" in markdown(report)
    assert to_json(report)["scenarios"]["broken"]["failure"] == "RuntimeError: no webhook"
