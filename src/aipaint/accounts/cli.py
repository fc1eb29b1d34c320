"""`aipaint token create`: works with or without a running server, on the configured database."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from aipaint.accounts.service import create_user
from aipaint.config import get_settings
from aipaint.db import create_engine, database_url, migrate, session_factory, transaction

token_app = typer.Typer(help="Manage aipaint API tokens.", no_args_is_help=True)


@token_app.command("create")
def create(
    name: Annotated[str, typer.Option(help="Who the token is for")],
    admin: Annotated[bool, typer.Option(help="May see every user's tasks")] = False,
) -> None:
    """Create a user and print their new token, alone on the last line (shown only once)."""
    user_id, token = asyncio.run(_create(name, admin))
    typer.echo(f"created {'admin ' if admin else ''}user {name} ({user_id}); token:")
    typer.echo(token)


async def _create(name: str, admin: bool) -> tuple[str, str]:
    engine = create_engine(database_url(get_settings()))
    try:
        await migrate(engine)
        async with transaction(session_factory(engine)) as session:
            user, token = await create_user(session, name, admin=admin)
            return user.id, token
    finally:
        await engine.dispose()
