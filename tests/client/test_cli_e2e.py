"""`aipaint run` and `aipaint tasks` against a real aipaint server (demo mode, real sockets)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from aipaint.client import Client
from tests.client.conftest import Server
from tests.client.test_cli import app, runner
from tests.client.test_client_e2e import PNG, WAN_EDIT
from tests.support import LTX, LTX_PARAMS

LTX_ARGS = ["-p", "prompt=a bird", "-p", "resolution=720p", "-p", "aspectRatio=16:9"]
WAN_T2V = "alibaba/wan-2.5-preview/text-to-video"
TEXT = "rhart-text-g-25-flash/text-to-text"


def aipaint(server: Server, *args: str, token: str | None = None) -> Result:
    env = {"COLUMNS": "200", "AIPAINT_SERVER": server.url, "AIPAINT_TOKEN": token or server.token}
    return runner.invoke(app, list(args), env=env)


def task_json(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    task: dict[str, Any] = json.loads(result.stdout)
    return task


class TestRun:
    def test_runs_waits_and_downloads(self, server: Server, out_dir: Path) -> None:
        result = aipaint(server, "run", LTX, *LTX_ARGS, "-p", "duration=5", "--out", str(out_dir))
        assert result.exit_code == 0, result.output
        paths = [Path(line) for line in result.stdout.splitlines()]
        assert paths
        assert all(path.is_file() and path.parent == out_dir for path in paths)
        assert "succeeded" in result.stderr

    def test_json_prints_the_final_task_only(self, server: Server) -> None:
        task = task_json(aipaint(server, "run", LTX, *LTX_ARGS, "-p", "duration=5", "--json"))
        assert task["status"] == "succeeded"
        assert task["params"]["duration"] == 5  # typed by the schema: an integer

    def test_json_with_out_also_downloads(self, server: Server, out_dir: Path) -> None:
        args = [*LTX_ARGS, "-p", "duration=5", "--json", "--out", str(out_dir)]
        task = task_json(aipaint(server, "run", LTX, *args))
        assert sorted(p.name for p in out_dir.iterdir()) == [
            f"{task['id']}_{o['index']}.{o['type']}" for o in task["outputs"]
        ]

    def test_an_enum_keeps_its_string(self, server: Server) -> None:
        args = [
            "-p",
            "prompt=rain",
            "-p",
            "size=1280*720",
            "-p",
            "duration=5",
            "-p",
            "promptExtend=no",
        ]
        args.append("--json")
        task = task_json(aipaint(server, "run", WAN_T2V, *args))
        assert task["params"]["duration"] == "5"
        assert task["params"]["promptExtend"] is False

    def test_a_text_output_is_saved_as_txt(self, server: Server, out_dir: Path) -> None:
        result = aipaint(server, "run", TEXT, "-p", "prompt=hello", "--out", str(out_dir))
        assert result.exit_code == 0, result.output
        [path] = [Path(line) for line in result.stdout.splitlines()]
        assert path.suffix == ".txt"
        assert "hello" in path.read_text()

    def test_a_file_is_uploaded_into_an_array_param(self, server: Server, tmp_path: Path) -> None:
        image = tmp_path / "dot.png"
        image.write_bytes(PNG)
        args = ["-p", "prompt=a hat", "-p", "n=1", "--file", f"imageUrls={image}", "--json"]
        task = task_json(aipaint(server, "run", WAN_EDIT, *args))
        assert task["status"] == "succeeded"
        [url] = task["params"]["imageUrls"]
        assert url.startswith(("http://", "https://"))

    def test_invalid_params_print_a_table(self, server: Server) -> None:
        result = aipaint(server, "run", LTX, *LTX_ARGS, "-p", "duration=99", "-p", "seed=x")
        assert result.exit_code == 1
        assert "invalid_params" in result.stderr
        rows = {
            cells[0]: cells[1:]
            for line in result.stderr.splitlines()
            if line.startswith("│")
            for cells in [[c.strip() for c in line.strip("│").split("│")]]
        }
        assert rows["duration"][0] == "out_of_range"
        assert rows["seed"][0] == "unknown_param"
        assert result.stdout == ""

    def test_an_unknown_model(self, server: Server) -> None:
        result = aipaint(server, "run", "no/such/model", "-p", "a=1")
        assert result.exit_code == 1
        assert "model_not_found" in result.stderr

    def test_no_token(self, server: Server) -> None:
        result = aipaint(server, "run", LTX, *LTX_ARGS, token="wrong")
        assert result.exit_code == 1
        assert "AIPAINT_TOKEN" in result.stderr

    def test_a_failed_task_exits_1(self, server: Server) -> None:
        with server.faults(failed_rate=1):
            result = aipaint(server, "run", LTX, *LTX_ARGS, "-p", "duration=5")
        assert result.exit_code == 1
        assert "failed" in result.stderr
        assert result.stdout == ""

    def test_a_failed_task_in_json(self, server: Server) -> None:
        with server.faults(failed_rate=1):
            result = aipaint(server, "run", LTX, *LTX_ARGS, "-p", "duration=5", "--json")
        assert result.exit_code == 1
        task = json.loads(result.stdout)
        assert task["status"] == "failed"
        assert task["error"]["code"]

    def test_no_wait(self, server: Server) -> None:
        result = aipaint(server, "run", LTX, *LTX_ARGS, "-p", "duration=5", "--no-wait")
        assert result.exit_code == 0, result.output
        task_id = result.stdout.strip()
        assert f"aipaint tasks show {task_id}" in result.stderr
        with Client(server.url, server.token) as client:
            final = client.wait(task_id, timeout=60)
        assert final["status"] == "succeeded", final

    def test_no_wait_json(self, server: Server) -> None:
        args = [*LTX_ARGS, "-p", "duration=5", "--no-wait", "--json"]
        task = task_json(aipaint(server, "run", LTX, *args))
        assert task["status"] not in ("succeeded", "failed", "canceled")
        with Client(server.url, server.token) as client:
            client.wait(task["id"], timeout=60)

    def test_idempotency_key(self, server: Server) -> None:
        args = [*LTX_ARGS, "-p", "duration=5", "--no-wait", "--idempotency-key", "cli-e2e-1"]
        first = aipaint(server, "run", LTX, *args)
        again = aipaint(server, "run", LTX, *args)
        assert first.stdout == again.stdout
        with Client(server.url, server.token) as client:
            client.wait(first.stdout.strip(), timeout=60)

    def test_ctrl_c_leaves_the_task_running(
        self, server: Server, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def interrupted(*args: object, **kwargs: object) -> None:
            raise KeyboardInterrupt

        monkeypatch.setattr(Client, "wait", interrupted)
        result = aipaint(server, "run", LTX, *LTX_ARGS, "-p", "duration=5")
        monkeypatch.undo()
        assert result.exit_code == 130
        assert "goes on" in result.stderr
        task_id = result.stderr.split("aipaint tasks show ")[1].split()[0]
        with Client(server.url, server.token) as client:
            final = client.wait(task_id, timeout=60)
        assert final["status"] == "succeeded", final


@pytest.fixture(scope="module")
def finished(server: Server) -> str:
    """A task that succeeded."""
    with Client(server.url, server.token) as client:
        return client.run(LTX, LTX_PARAMS, timeout=60)["id"]


class TestTasks:
    def test_history(self, server: Server, finished: str) -> None:
        result = aipaint(server, "tasks")
        assert result.exit_code == 0, result.output
        rows = [
            [cell.strip() for cell in line.strip("│").split("│")]
            for line in result.stdout.splitlines()
            if line.startswith("│")
        ]
        assert [finished, LTX, "succeeded"] in [row[:3] for row in rows]
        assert all(row[3] for row in rows)  # created

    def test_history_json_and_filters(self, server: Server, finished: str) -> None:
        page = task_json(aipaint(server, "tasks", "--limit", "2", "--json"))
        assert len(page["tasks"]) == 2
        assert page["next_cursor"]
        after = task_json(aipaint(server, "tasks", "--cursor", page["next_cursor"], "--json"))
        assert {t["id"] for t in after["tasks"]}.isdisjoint(t["id"] for t in page["tasks"])
        args = ["--status", "succeeded", "--model", LTX, "--limit", "100", "--json"]
        chosen = task_json(aipaint(server, "tasks", *args))
        assert finished in {t["id"] for t in chosen["tasks"]}
        assert {(t["status"], t["model"]) for t in chosen["tasks"]} == {("succeeded", LTX)}

    def test_show(self, server: Server, finished: str) -> None:
        result = aipaint(server, "tasks", "show", finished)
        assert result.exit_code == 0, result.output
        assert finished in result.stdout
        assert "succeeded" in result.stdout
        assert "/files/" in result.stdout  # the outputs table

    def test_show_json(self, server: Server, finished: str) -> None:
        task = task_json(aipaint(server, "tasks", "show", finished, "--json"))
        assert task["id"] == finished
        assert task["outputs"]

    def test_show_a_failed_task_names_its_error(self, server: Server) -> None:
        with server.faults(failed_rate=1):
            failed = aipaint(server, "run", LTX, *LTX_ARGS, "-p", "duration=5", "--json")
        task = json.loads(failed.stdout)
        result = aipaint(server, "tasks", "show", task["id"])
        assert result.exit_code == 0, result.output
        assert task["error"]["code"] in result.stdout

    def test_show_an_unknown_task(self, server: Server) -> None:
        result = aipaint(server, "tasks", "show", "tsk_nothing")
        assert result.exit_code == 1
        assert "error:" in result.stderr
