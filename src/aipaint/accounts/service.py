"""Tokens: made once, shown once, stored only as a hash, revocable."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from aipaint.accounts import repository
from aipaint.errors import AipaintError
from aipaint.i18n import Text
from aipaint.kit.ids import new_id
from aipaint.models import User
from aipaint.models.base import utc_now

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


class TooManyFailures(AipaintError):
    """This address sent too many invalid tokens; it may try again after `retry_after` s."""

    status_code = 429
    code = "too_many_failed_authentications"

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, round(retry_after + 0.5))
        super().__init__(
            Text(
                zh=f"无效令牌过多，请 {self.retry_after} 秒后重试。",
                en=f"Too many invalid tokens; try again in {self.retry_after} s.",
            )
        )

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class AdminOnly(AipaintError):
    status_code = 403
    code = "admin_only"

    def __init__(self) -> None:
        super().__init__(Text(zh="仅管理员可以这样做。", en="Only an admin may do this."))


class TokenNotFound(AipaintError):
    status_code = 404
    code = "token_not_found"

    def __init__(self, token_id: str) -> None:
        super().__init__(
            Text(zh=f"令牌 {token_id} 不存在。", en=f"Token {token_id} does not exist.")
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


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header, or None."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


async def authenticate(connection: AsyncConnection, token: str) -> Principal:
    """The caller a token names, checked against the database on every call: a revoked token is
    refused from the next request on, in every process sharing the database."""
    found = await repository.active_by_token_hash(connection, hash_token(token))
    if found is None:
        raise NotAuthenticated()
    return Principal(*found)


async def list_tokens(session: AsyncSession) -> Sequence[User]:
    return await repository.all_users(session)


async def revoke(session: AsyncSession, token_id: str) -> bool:
    """Revoke one token by its id; False when it was revoked already. Unknown: TokenNotFound."""
    if await repository.get(session, token_id) is None:
        raise TokenNotFound(token_id)
    return bool(await repository.revoke(session, utc_now(), user_id=token_id))


async def revoke_named(session: AsyncSession, name: str) -> list[str]:
    """Revoke every token made for `name`; the ids revoked now."""
    return await repository.revoke(session, utc_now(), name=name)
