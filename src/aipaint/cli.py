"""The `aipaint` command: one Typer app, each feature adding its own commands."""

from __future__ import annotations

from typing import Annotated

import typer

from aipaint.accounts.cli import token_app
from aipaint.catalog.cli import catalog_app, models_app
from aipaint.client.cli import run, tasks_app
from aipaint.config import get_settings
from aipaint.logging import configure_logging
from aipaint.simulator.cli import simulator
from aipaint.storage.cli import storage_app
from aipaint.webhooks.cli import webhook_app

app = typer.Typer(
    name="aipaint",
    help="Backend for AI painting and video apps on RunningHub.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(models_app, name="models")
app.add_typer(catalog_app, name="catalog")
app.add_typer(token_app, name="token")
app.add_typer(webhook_app, name="webhook")
app.command()(simulator)
app.command()(run)
app.add_typer(tasks_app, name="tasks")
app.add_typer(storage_app, name="storage")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
) -> None:
    """Start the service: API and worker in one process (with the simulator in demo mode); with
    AIPAINT_WORKER=false, the API and the studio only."""
    import uvicorn

    from aipaint.roles import RoleError, check_roles
    from aipaint.serving import uvicorn_options

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    try:
        check_roles(settings)
    except RoleError as error:
        typer.echo(f"aipaint serve: {error}", err=True)
        raise typer.Exit(2) from None
    uvicorn.run(
        "aipaint.app:create_app",
        factory=True,
        host=host,
        port=port,
        log_level="warning",
        **uvicorn_options(settings),
    )


@app.command()
def worker() -> None:
    """Run the worker alone (submission, tracking, archival), sharing the job queue through
    Redis (AIPAINT_REDIS_URL) with any number of API and worker processes. SIGTERM drains."""
    import asyncio

    from aipaint.roles import RoleError, run_worker

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    try:
        asyncio.run(run_worker(settings))
    except RoleError as error:
        typer.echo(f"aipaint worker: {error}", err=True)
        raise typer.Exit(2) from None


def main() -> None:
    app()
