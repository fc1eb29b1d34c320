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

app = typer.Typer(
    name="aipaint",
    help="Backend for AI painting and video apps on RunningHub.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(models_app, name="models")
app.add_typer(catalog_app, name="catalog")
app.add_typer(token_app, name="token")
app.command()(simulator)
app.command()(run)
app.add_typer(tasks_app, name="tasks")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
) -> None:
    """Start the service: API and worker in one process (with the simulator in demo mode)."""
    import uvicorn

    from aipaint.serving import uvicorn_options

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    uvicorn.run(
        "aipaint.app:create_app",
        factory=True,
        host=host,
        port=port,
        log_level="warning",
        **uvicorn_options(settings),
    )


def main() -> None:
    app()
