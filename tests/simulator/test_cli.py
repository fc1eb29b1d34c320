"""`aipaint simulator` documents every knob and runs as its own process."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
from typer.testing import CliRunner

from aipaint.cli import app
from aipaint.kit.background_server import free_port
from aipaint.simulator.settings import DEMO_KEY, Faults, SimulatorSettings
from tests.support import running

# Each settings field and the option that sets it; a new knob without an option fails here.
OPTIONS = {
    "accounts": ["--key", "--balance"],
    "concurrency_limit": ["--concurrency"],
    "speed": ["--speed"],
    "result_ttl_s": ["--result-ttl"],
    "upload_ttl_s": ["--upload-ttl"],
    "upload_max_mb": ["--upload-max-mb"],
    "output_pad_mb": ["--output-pad-mb"],
    "public_url": ["--public-url"],
    "seed": ["--seed"],
    "webhook_attempts": ["--webhook-attempts"],
    "webhook_timeout_s": ["--webhook-timeout"],
    "webhook_backoff_s": ["--webhook-backoff"],
    "webhook_format": ["--webhook-format"],
    "catalog_dir": ["--catalog-dir"],
    "http_5xx_rate": ["--fault-5xx"],
    "http_429_rate": ["--fault-429"],
    "retry_after_s": ["--retry-after"],
    "latency_ms": ["--latency-ms"],
    "drop_rate": ["--fault-drop"],
    "drop_after_rate": ["--fault-drop-after"],
    "failed_rate": ["--fault-failed"],
    "moderation_rate": ["--fault-moderation"],
    "stuck_rate": ["--fault-stuck"],
    "instant_rate": ["--fault-instant"],
    "webhook_drop_rate": ["--webhook-drop"],
    "webhook_duplicate_rate": ["--webhook-duplicate"],
    "webhook_delay_s": ["--webhook-delay"],
}


def test_help_documents_every_knob() -> None:
    knobs = (set(SimulatorSettings.model_fields) - {"faults"}) | set(Faults.model_fields)
    assert set(OPTIONS) == knobs
    result = CliRunner().invoke(app, ["simulator", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for options in OPTIONS.values():
        for option in options:
            assert option in result.output


def test_runs_as_a_process_with_its_faults(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "aipaint", "simulator", "--port", str(port)]
    command += ["--speed", "1000", "--fault-5xx", "1", "--concurrency", "3"]
    with running(command, f"{base}/simulator/health", log=tmp_path / "simulator.log"):
        faults = httpx.get(f"{base}/simulator/faults").json()
        assert faults["http_5xx_rate"] == 1.0
        answer = httpx.get(
            f"{base}/openapi/v2/queue/status", headers={"Authorization": f"Bearer {DEMO_KEY}"}
        )
        assert answer.status_code >= 500
