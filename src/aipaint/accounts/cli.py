"""`aipaint token create | list | revoke`: work with or without a running server, on the
configured database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from aipaint.accounts.revocations import RevocationNotShared, revocations_for
from aipaint.accounts.service import (
    TokenNotFound,
    create_user,
    list_tokens,
    revoke,
)
from aipaint.config import get_settings
from aipaint.db import create_engine, database_url, migrate, session_factory, transaction
from aipaint.kit.netguard import UnsafeUrl, UrlGuard

token_app = typer.Typer(help="Manage aipaint API tokens.", no_args_is_help=True)
T = TypeVar("T")


@token_app.command("create")
def create(
    name: Annotated[str, typer.Option(help="Who the token is for")],
    admin: Annotated[bool, typer.Option(help="May see every user's tasks")] = False,
    webhook_url: Annotated[
        str | None,
        typer.Option(help="Where this token's tasks that name no webhook_url are notified"),
    ] = None,
) -> None:
    """Create a user and print their new token, alone on the last line (shown only once)."""
    if webhook_url is not None:
        problem = asyncio.run(_unsafe(webhook_url))
        if problem is not None:
            typer.echo(f"--webhook-url refused: {problem}", err=True)
            raise typer.Exit(2)

    async def work(session: AsyncSession) -> tuple[str, str]:
        user, token = await create_user(session, name, admin=admin, webhook_url=webhook_url)
        return user.id, token

    user_id, token = _run(work)
    typer.echo(f"created {'admin ' if admin else ''}user {name}, token id {user_id}; token:")
    typer.echo(token)


@token_app.command("list")
def list_() -> None:
    """Every token: its id, who it is for, whether it is an admin's, and whether it is revoked."""

    async def work(session: AsyncSession) -> list[tuple[str, str, bool, str, str]]:
        return [
            (
                user.id,
                user.name,
                user.is_admin,
                user.created_at.isoformat(timespec="seconds"),
                user.revoked_at.isoformat(timespec="seconds") if user.revoked_at else "",
            )
            for user in await list_tokens(session)
        ]

    header = ("id", "name", "admin", "created", "revoked")
    rows = [header] + [
        (token_id, name, "yes" if admin else "-", created, revoked or "-")
        for token_id, name, admin, created, revoked in _run(work)
    ]
    # Plain columns, never cut short: ids are copied from here into `aipaint token revoke`.
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    for row in rows:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


@token_app.command("revoke")
def revoke_(
    token_id: Annotated[
        str | None, typer.Argument(help="The token's id (aipaint token list)")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Revoke every token of this name")] = None,
) -> None:
    """Revoke a token, or every token of a name: refused from the next request on."""
    if (token_id is None) == (name is None):
        raise typer.BadParameter("give a TOKEN_ID or --name NAME, not both")
    try:
        revoked = asyncio.run(_revoke(token_id, name))
    except TokenNotFound:
        typer.echo(f"no token {token_id}", err=True)
        raise typer.Exit(1) from None
    except RevocationNotShared as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    if not revoked and token_id is not None:
        typer.echo(f"token {token_id} was already revoked")
        return
    if not revoked:
        typer.echo(f"no unrevoked token of name {name}", err=True)
        raise typer.Exit(1)
    for revoked_id in revoked:
        typer.echo(f"revoked {revoked_id}")


async def _unsafe(url: str) -> str | None:
    """Why the worker may not call `url` (as `POST /v1/tasks` checks a webhook_url), or None."""
    guard = UrlGuard(trusted=get_settings().trusted_hosts)
    try:
        await guard.check(url, follow_redirects=False)
    except UnsafeUrl as unsafe:
        return str(unsafe)
    return None


async def _revoke(token_id: str | None, name: str | None) -> list[str]:
    """Revoke on the configured database, and tell every process through the same mark (Redis
    or the file beside SQLite) the running ones read."""
    settings = get_settings()
    url = database_url(settings)
    engine = create_engine(url)
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    try:
        await migrate(engine)
        revocations = revocations_for(url, redis)
        return await revoke(session_factory(engine), revocations, token_id=token_id, name=name)
    finally:
        if redis is not None:
            await redis.aclose()
        await engine.dispose()


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction on the configured database (made or migrated first)."""

    async def main() -> T:
        engine = create_engine(database_url(get_settings()))
        try:
            await migrate(engine)
            async with transaction(session_factory(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())
