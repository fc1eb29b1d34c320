"""The load generator targets loopback only: http://127.0.0.1:PORT, and paths on it."""

from __future__ import annotations

import subprocess
import sys

import pytest
from bench.loadgen import ROOT, check_path, check_target


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://127.0.0.1:8000/"])
def test_loopback_targets_are_accepted(url: str) -> None:
    assert check_target(url) == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:8000",
        "http://localhost:8000",
        "http://127.0.0.1",
        "http://127.0.0.1:8000@example.com",
        "http://127.0.0.1:8000/v1",
        "http://127.0.0.1:8000?x=1",
        "http://127.0.0.10:8000",
        "http://127.0.0.1:notaport",
        "http://example.com:8000",
    ],
)
def test_other_targets_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="only targets"):
        check_target(url)


@pytest.mark.parametrize("path", ["//example.com/x", "http://example.com/", "v1/tasks", "/\\x"])
def test_paths_that_could_leave_the_target_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match="not a path"):
        check_path(path)


def test_the_command_line_refuses_a_remote_target() -> None:
    command = [sys.executable, "-m", "bench.loadgen", "http://example.com:80", "--mode", "get"]
    done = subprocess.run(
        [*command, "--path", "/"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "only targets" in done.stderr


def test_every_target_of_the_command_line_must_be_loopback() -> None:
    command = [sys.executable, "-m", "bench.loadgen", "http://127.0.0.1:8000"]
    command += ["http://example.com:80", "--mode", "get", "--path", "/"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "only targets" in done.stderr
