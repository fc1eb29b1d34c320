"""Copy as code: the curl, Python and `aipaint run` snippets of the current form, run as they are
shown, create a task with exactly the params the form would send."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, Request, expect

from tests.studio.conftest import ROOT, Stack, choose_model, submit

MODEL = "alibaba/wan-2.5-preview/text-to-image"
# Quotes, a newline and non-ASCII text: what a shell or a Python literal could get wrong.
PROMPT = 'it\'s a "test" of $HOME and `quotes`,\n水墨 风格 \\ done'


def environment(stack: Stack, tmp_path: Path) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    return {
        "PATH": f"{venv_bin}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AIPAINT_TOKEN": stack.server.token,
        "PYTHONPATH": str(ROOT / "src"),
    }


def snippet(page: Page, lang: str) -> str:
    page.locator(f'.code-tab[data-lang="{lang}"]').click()
    pre = page.locator(f'pre[data-snippet="{lang}"]')
    expect(pre).to_be_visible()
    return pre.text_content() or ""


def new_task_ids(stack: Stack, before: set[str]) -> list[str]:
    return [t["id"] for t in stack.get("/v1/tasks", limit=100)["tasks"] if t["id"] not in before]


def test_copied_code_creates_the_task_the_form_would(
    page: Page, stack: Stack, tmp_path: Path
) -> None:
    choose_model(page, MODEL)
    page.locator('[data-param="prompt"] textarea').fill(PROMPT)
    page.locator(".advanced summary").click()
    page.locator('[data-param="seed"]').get_by_role("button", name="Randomize").click()
    page.locator('[data-param="seed"]').get_by_role("button", name="Lock").click()
    page.locator('[data-param="promptExtend"] .switch').click()
    page.locator(".code-panel summary").click()

    # What the form sends, from its own submit.
    sent: list[dict[str, Any]] = []

    def record(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/v1/tasks"):
            sent.append(json.loads(request.post_data or "{}"))

    page.on("request", record)
    page.locator(".code-copy").click()
    expect(page.locator(".code-status")).to_have_text("Copied")
    curl = snippet(page, "curl")
    python = snippet(page, "python")
    cli = snippet(page, "cli")
    submitted = submit(page)
    (body,) = sent
    form_params = body["params"]
    assert form_params["prompt"] == PROMPT
    assert form_params["promptExtend"] is False
    assert isinstance(form_params["seed"], int)
    assert set(form_params) == {"prompt", "size", "seed", "promptExtend"}
    assert stack.get(f"/v1/tasks/{submitted}")["params"] == form_params

    # The token is never written out; the server is this one.
    for text in (curl, python, cli):
        assert stack.server.token not in text
        assert stack.url in text
    assert "$AIPAINT_TOKEN" in curl

    env = environment(stack, tmp_path)
    done = subprocess.run(
        ["bash", "-c", curl + " -w '\\n%{http_code}'"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    answer, status = done.stdout.rsplit("\n", 1)
    assert status == "202"
    task = json.loads(answer)
    assert task["model"] == MODEL
    assert stack.get(f"/v1/tasks/{task['id']}")["params"] == form_params

    script = tmp_path / "snippet.py"
    script.write_text(python, encoding="utf-8")
    before = {t["id"] for t in stack.get("/v1/tasks", limit=100)["tasks"]}
    done = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    task_id, status = done.stdout.splitlines()[0].split()
    assert status == "succeeded"
    assert new_task_ids(stack, before) == [task_id]
    assert stack.get(f"/v1/tasks/{task_id}")["params"] == form_params
    assert any((tmp_path / "outputs").iterdir())

    before = {t["id"] for t in stack.get("/v1/tasks", limit=100)["tasks"]}
    done = subprocess.run(
        ["bash", "-c", cli + " --no-wait"],
        env={**env, "COLUMNS": "200"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    (task_id,) = new_task_ids(stack, before)
    assert done.stdout.strip() == task_id
    assert stack.get(f"/v1/tasks/{task_id}")["params"] == form_params
