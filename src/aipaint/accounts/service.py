"""Tokens: made once, shown once, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from aipaint.accounts import repository
from aipaint.errors import AipaintError
from aipaint.i18n import Text
from aipaint.kit.ids import new_id
from aipaint.models import User

TOKEN_PREFIX = "aip_"


class NotAuthenticated(AipaintError):
    """The request carries no valid aipaint token."""

    status_code = 401
    code = "not_authenticated"

    def __init__(self) -> None:
        super().__init__(
            Text(
                zh="需要有效的 aipaint 令牌（Authorization: Bearer …）。",
                en="A valid aipaint token is required (Authorization: Bearer …).",
            )
        )


@dataclass(frozen=True)
class Principal:
    """Who is calling: enough to scope every query, nothing secret."""

    user_id: str
    name: str
    is_admin: bool


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_user(session: AsyncSession, name: str, *, admin: bool = False) -> tuple[User, str]:
    """A new user and their token; the token is returned here and never again."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    user = User(id=new_id("usr_"), name=name, is_admin=admin, token_hash=hash_token(token))
    await repository.add(session, user)
    return user, token


async def authenticate(session: AsyncSession, authorization: str | None) -> Principal:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated()
    user = await repository.by_token_hash(session, hash_token(token.strip()))
    if user is None:
        raise NotAuthenticated()
    return Principal(user.id, user.name, user.is_admin)
