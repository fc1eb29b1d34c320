"""Tokens: made once, shown once, stored only as a hash, revocable."""

from __future__ import annotations

import hashlib
import secrets
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from aipaint.accounts import repository
from aipaint.accounts.revocations import Revocations
from aipaint.db import transaction
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
    webhook_url: str | None = None  # where tasks that name none are notified


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_user(
    session: AsyncSession, name: str, *, admin: bool = False, webhook_url: str | None = None
) -> tuple[User, str]:
    """A new user and their token; the token is returned here and never again."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    user = User(
        id=new_id("usr_"),
        name=name,
        is_admin=admin,
        token_hash=hash_token(token),
        webhook_url=webhook_url,
    )
    await repository.add(session, user)
    return user, token


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header, or None."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


class Authenticator:
    """Who a token names. Checked against the database, then remembered (at most `size` tokens)
    only while no token has been revoked anywhere: see `revocations` for why that is safe."""

    def __init__(self, engine: AsyncEngine, revocations: Revocations, *, size: int = 10_000):
        self._engine = engine
        self._revocations = revocations
        self._size = size
        self._known: OrderedDict[str, Principal] = OrderedDict()
        self._mark: str | None = None

    async def __call__(self, token: str) -> Principal:
        token_hash = hash_token(token)
        # Read before the database, so that a lookup racing a revoke is never remembered.
        mark = await self._revocations.mark()
        if mark is None or mark != self._mark:
            self._known.clear()
            self._mark = mark
        elif (known := self._known.get(token_hash)) is not None:
            self._known.move_to_end(token_hash)
            return known
        async with self._engine.connect() as connection:
            found = await repository.active_by_token_hash(connection, token_hash)
        if found is None:
            raise NotAuthenticated()
        principal = Principal(*found)
        if mark is not None and mark == self._mark:
            self._known[token_hash] = principal
            if len(self._known) > self._size:
                self._known.popitem(last=False)
        return principal


async def list_tokens(session: AsyncSession) -> Sequence[User]:
    return await repository.all_users(session)


async def revoke(
    sessions: async_sessionmaker[AsyncSession],
    revocations: Revocations,
    *,
    token_id: str | None = None,
    name: str | None = None,
) -> list[str]:
    """Revoke one token by its id, or every token made for `name`; the ids revoked now (a token
    revoked already is not among them). An unknown id: TokenNotFound. The mark moves even when
    nothing was left to revoke, so that running a revoke again repairs one Redis missed."""
    if (token_id is None) == (name is None):
        raise ValueError("revoke takes a token_id or a name")
    async with transaction(sessions) as session:
        if token_id is not None and await repository.get(session, token_id) is None:
            raise TokenNotFound(token_id)
        revoked = await repository.revoke(session, utc_now(), user_id=token_id, name=name)
    await revocations.move()
    return revoked
