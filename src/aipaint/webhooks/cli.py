"""`aipaint webhook secret --user NAME`: a user's signing secret, read from the configured
database (made on first use), with or without a running server."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from aipaint.config import get_settings
from aipaint.db import create_engine, database_url, migrate, reading, session_factory
from aipaint.webhooks import repository
from aipaint.webhooks.service import signing_keys

webhook_app = typer.Typer(help="Outbound webhooks (Standard Webhooks).", no_args_is_help=True)


@webhook_app.command("secret")
def secret(
    user: Annotated[str, typer.Option(help="The token's name (aipaint token list)")],
) -> None:
    """Print the user's signing secret (whsec_…): what their app verifies webhooks with. With
    several unrevoked tokens of that name, the newest one's."""

    async def main() -> str | None:
        engine = create_engine(database_url(get_settings()))
        try:
            await migrate(engine)
            sessions = session_factory(engine)
            async with reading(sessions) as session:
                found = await repository.user_by_name(session, user)
            if found is None:
                return None
            return (await signing_keys(sessions, found.id))[0]
        finally:
            await engine.dispose()

    key = asyncio.run(main())
    if key is None:
        typer.echo(f"no unrevoked token of name {user}", err=True)
        raise typer.Exit(1)
    typer.echo(key)
