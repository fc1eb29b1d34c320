"""`aipaint run` and `aipaint tasks [show]`: a running aipaint server, from a terminal.

Exit codes: 0 the task succeeded (or was submitted, with --no-wait), 1 it failed or was canceled
or the server refused the request, 2 a usage error, 130 interrupted while waiting (the task goes
on). Results go to stdout, everything else (progress, errors) to stderr, so scripts can pipe.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from rich.console import Console
from rich.live import Live
from rich.markup import escape

from aipaint.client.display import (
    TaskProgress,
    elapsed_text,
    error_details_table,
    seconds_between,
    task_view,
    tasks_table,
)
from aipaint.client.errors import AipaintAPIError, AipaintClientError
from aipaint.client.params import (
    ParamSyntaxError,
    build_params,
    file_assignments,
    property_schema,
    put,
    split_assignment,
)
from aipaint.client.sync_client import Client
from aipaint.client.types import Task

tasks_app = typer.Typer(help="Task history on the aipaint server.", no_args_is_help=False)

ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server", help="aipaint server URL (default: AIPAINT_SERVER or http://127.0.0.1:8000)"
    ),
]
TokenOption = Annotated[
    str | None, typer.Option("--token", help="API token (default: AIPAINT_TOKEN)")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON only, for scripts")]

INTERRUPTED = 130


class ClientSettings(BaseSettings):
    """Where the CLI finds the server: the environment, or a `.env` file like the server's."""

    model_config = SettingsConfigDict(
        env_prefix="AIPAINT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    server: str | None = None
    token: SecretStr | None = None


def _out() -> Console:
    return Console(soft_wrap=True)


def _err() -> Console:
    return Console(stderr=True, soft_wrap=True)


def _client(server: str | None, token: str | None) -> Client:
    settings = ClientSettings()
    secret = settings.token.get_secret_value() if settings.token else None
    try:
        return Client(server or settings.server, token or secret)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--server") from None


@contextmanager
def _reported(err: Console) -> Iterator[None]:
    """Print a client error readably and exit 1 (a 422 as a table of its fields)."""
    try:
        yield
    except AipaintAPIError as exc:
        err.print(f"[red]error:[/red] {escape(exc.code)}: {escape(exc.message)}", highlight=False)
        if exc.status_code == 422 and exc.details:
            err.print(error_details_table(exc))
        elif exc.status_code == 401:
            err.print(
                "Pass a token with --token or AIPAINT_TOKEN "
                "(`aipaint token create --name NAME` makes one)."
            )
        raise typer.Exit(1) from None
    except AipaintClientError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None


def run(
    model_id: Annotated[
        str,
        typer.Argument(help="Model id, e.g. rhart-video/ltx-2.3/text-to-video"),
    ],
    param: Annotated[
        list[str] | None,
        typer.Option(
            "-p",
            "--param",
            help="A parameter as key=value, typed by the model's schema; repeat a key for a list",
        ),
    ] = None,
    file: Annotated[
        list[str] | None,
        typer.Option("--file", help="key=PATH: upload PATH and pass its URL as param key"),
    ] = None,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Submit, print the task id and return")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for the outputs (default ./outputs)")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the final task JSON only (no live display)")
    ] = False,
    idempotency_key: Annotated[
        str | None,
        typer.Option("--idempotency-key", help="Submitting again with it returns the same task"),
    ] = None,
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """Run a model: submit a task, follow it live, download its outputs."""
    err = _err()
    try:
        # Syntax first: a mistyped option must not cost a request, let alone an upload.
        for text in param or []:
            split_assignment(text)
        files = file_assignments(file or [])
    except ParamSyntaxError as exc:
        raise typer.BadParameter(str(exc), param_hint="-p / --file") from None
    with _client(server, token) as client, _reported(err):
        schema: dict[str, Any] = client.model(model_id).get("schema") or {}
        params = _params(schema, param or [], files)
        for key, path in files:
            with err.status(f"uploading {escape(path.name)}"):
                upload = client.upload(path, model=model_id, param=key)
            put(params, key, upload["url"], property_schema(schema, key))
        task = client.create_task(model_id, params, idempotency_key=idempotency_key)
        if no_wait:
            _submitted(task, as_json, err)
            return
        try:
            final = _follow(client, task, err, live=not as_json)
        except KeyboardInterrupt:
            err.print(
                f"\nStopped waiting; task {task['id']} goes on."
                f" Follow it with: aipaint tasks show {task['id']}",
                highlight=False,
                markup=False,
            )
            raise typer.Exit(INTERRUPTED) from None
        _finish(client, final, out, as_json, err)


def _params(
    schema: dict[str, Any], assignments: list[str], files: list[tuple[str, Path]]
) -> dict[str, Any]:
    try:
        params = build_params(schema, assignments)
        # A file for a single-valued param already set is refused before anything is uploaded.
        trial = copy.deepcopy(params)
        for key, path in files:
            put(trial, key, str(path), property_schema(schema, key))
    except ParamSyntaxError as exc:
        raise typer.BadParameter(str(exc), param_hint="-p / --file") from None
    return params


def _submitted(task: Task, as_json: bool, err: Console) -> None:
    if as_json:
        _out().print_json(data=task)
        return
    _out().print(task["id"], highlight=False, markup=False)
    err.print(
        f"task {task['id']} {task['status']}. Follow it with: aipaint tasks show {task['id']}",
        highlight=False,
        markup=False,
    )


def _follow(client: Client, task: Task, err: Console, *, live: bool) -> Task:
    if not live:
        return client.wait(task["id"])
    progress = TaskProgress(task)
    if not err.is_terminal:
        # No live display off a terminal (CI logs): one line per status change instead.
        def log_status(update: Task) -> None:
            if update["status"] != progress.task["status"]:
                err.print(progress.line(), highlight=False)
            progress.update(update)

        err.print(progress.line(), highlight=False)
        return client.wait(task["id"], on_update=log_status)
    with Live(progress, console=err, refresh_per_second=8, transient=True):
        final = client.wait(task["id"], on_update=progress.update)
    progress.update(final)
    return final


def _finish(client: Client, task: Task, out: Path | None, as_json: bool, err: Console) -> None:
    succeeded = task["status"] == "succeeded"
    if as_json:
        if succeeded and out is not None:
            client.download_outputs(task, out)
        _out().print_json(data=task)
        if not succeeded:
            raise typer.Exit(1)
        return
    took = task_duration(task)
    if not succeeded:
        error = task.get("error")
        reason = f"{error['code']}: {error['message']}" if error else "no error reported"
        err.print(
            f"[red]✗ {task['status']}[/red] {escape(task['id'])}{took}: {escape(reason)}",
            highlight=False,
        )
        raise typer.Exit(1)
    err.print(f"[green]✓ succeeded[/green] {escape(task['id'])}{took}", highlight=False)
    with err.status("downloading outputs"):
        paths = client.download_outputs(task, out or Path("outputs"))
    output = _out()
    for path in paths:
        output.print(str(path), highlight=False, markup=False)


def task_duration(task: Task) -> str:
    """` in 12s` from the task's own timestamps; empty when they are missing."""
    seconds = seconds_between(task.get("created_at"), task.get("finished_at"))
    return "" if seconds is None else f" in {elapsed_text(seconds)}"


@tasks_app.callback(invoke_without_command=True)
def list_tasks(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="Only tasks in this status")] = None,
    model: Annotated[str | None, typer.Option(help="Only tasks of this model")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many tasks to list")] = 20,
    cursor: Annotated[str | None, typer.Option(help="Continue after a previous page")] = None,
    as_json: JsonOption = False,
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """List your tasks, newest first (or `aipaint tasks show TASK_ID` for one)."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = (server, token)  # `aipaint tasks --server X show ID` reaches the same server
        return
    err = _err()
    with _client(server, token) as client, _reported(err):
        page = client.list_tasks(status=status, model=model, limit=limit, cursor=cursor)
    if as_json:
        _out().print_json(data=page)
        return
    _out().print(tasks_table(page["tasks"]))
    if page.get("next_cursor"):
        err.print(
            f"more: aipaint tasks --cursor {page['next_cursor']}", highlight=False, markup=False
        )


@tasks_app.command("show")
def show_task(
    ctx: typer.Context,
    task_id: Annotated[str, typer.Argument(help="The task's id")],
    as_json: JsonOption = False,
    server: ServerOption = None,
    token: TokenOption = None,
) -> None:
    """One task: its status, params, outputs and error."""
    parent_server, parent_token = ctx.obj if isinstance(ctx.obj, tuple) else (None, None)
    err = _err()
    with _client(server or parent_server, token or parent_token) as client, _reported(err):
        task = client.get_task(task_id)
    if as_json:
        _out().print_json(data=task)
        return
    _out().print(task_view(task))
