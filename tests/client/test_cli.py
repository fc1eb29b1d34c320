"""`aipaint run` and `aipaint tasks` where no server is needed: usage errors and no server."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from aipaint.client.cli import run, tasks_app
from aipaint.kit.background_server import free_port

# The commands as `aipaint` registers them.
app = typer.Typer()
app.command()(run)
app.add_typer(tasks_app, name="tasks")

runner = CliRunner()
LTX = "rhart-video/ltx-2.3/text-to-video"


@pytest.fixture
def nowhere() -> str:
    """A loopback address nothing listens on: a command that connects fails with exit 1."""
    return f"http://127.0.0.1:{free_port()}"


def aipaint(*args: str, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, list(args), env={"COLUMNS": "200", **(env or {})})


class TestUsage:
    """Exit code 2, before any request: a connection attempt would exit 1 instead."""

    @pytest.mark.parametrize("param", ["duration", "=5"])
    def test_a_param_that_is_not_key_value(self, nowhere: str, param: str) -> None:
        result = aipaint("run", LTX, "-p", param, "--server", nowhere)
        assert result.exit_code == 2, result.output
        assert "expected key=value" in result.stderr

    def test_a_missing_file(self, nowhere: str, tmp_path: Path) -> None:
        result = aipaint(
            "run", LTX, "--file", f"imageUrl={tmp_path / 'no.png'}", "--server", nowhere
        )
        assert result.exit_code == 2, result.output
        assert "no such file" in result.stderr

    def test_a_server_that_is_not_a_url(self) -> None:
        result = aipaint("run", LTX, "-p", "duration=5", "--server", "ftp://x")
        assert result.exit_code == 2, result.output
        assert "http(s) URL" in result.stderr

    def test_a_limit_below_one(self, nowhere: str) -> None:
        assert aipaint("tasks", "--limit", "0", "--server", nowhere).exit_code == 2

    def test_no_model(self) -> None:
        assert aipaint("run").exit_code == 2


class TestNoServer:
    def test_run(self, nowhere: str) -> None:
        result = aipaint("run", LTX, "-p", "duration=5", "--server", nowhere)
        assert result.exit_code == 1
        assert f"cannot reach the aipaint server at {nowhere}" in result.stderr
        assert result.stdout == ""

    def test_tasks(self, nowhere: str) -> None:
        result = aipaint("tasks", env={"AIPAINT_SERVER": nowhere})
        assert result.exit_code == 1
        assert f"cannot reach the aipaint server at {nowhere}" in result.stderr

    def test_tasks_show_takes_the_server_from_either_side(self, nowhere: str) -> None:
        for args in (
            ("tasks", "show", "t1", "--server", nowhere),
            ("tasks", "--server", nowhere, "show", "t1"),
        ):
            result = aipaint(*args)
            assert result.exit_code == 1, args
            assert nowhere in result.stderr


def test_help_names_every_option() -> None:
    result = aipaint("run", "--help")
    assert result.exit_code == 0
    for option in (
        "-p",
        "--file",
        "--no-wait",
        "--out",
        "--json",
        "--idempotency-key",
        "--server",
        "--token",
    ):
        assert option in result.stdout
