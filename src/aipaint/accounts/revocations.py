"""How every process learns that a token was revoked (or what it remembers of one changed, such
as its default webhook URL), so that it may remember valid tokens.

A process keeps the tokens it has checked in memory only while the *revocation mark* it read
before checking them is unchanged. Revoking commits to the database first and moves the mark
after, so a request that starts after the revoke has returned reads a new mark, forgets what it
remembered and asks the database again: revocation is effective from the next request, in every
process, while a request with a known token costs no query.

Where the mark lives follows the deployment: in Redis when processes share one
(`AIPAINT_REDIS_URL`); else next to a SQLite database, as a file every process on that machine
can stat in microseconds. A PostgreSQL deployment without Redis has no shared mark: its
processes remember nothing and ask the database on every request.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.engine import make_url

from aipaint.errors import AipaintError
from aipaint.i18n import Text


class Revocations(Protocol):
    async def mark(self) -> str | None:
        """The current mark; None when it can't be read (then nothing may be remembered)."""
        ...

    async def move(self) -> None:
        """Move the mark, after a revoke has committed."""
        ...


class NoSharedMark:
    """Nothing to share a mark through: every token is checked against the database."""

    async def mark(self) -> str | None:
        return None

    async def move(self) -> None:
        return None


class FileMark:
    """A file beside the SQLite database: replaced on each revoke, so its inode changes."""

    def __init__(self, path: Path) -> None:
        self._path = path

    async def mark(self) -> str | None:
        try:
            status = os.stat(self._path)
        except FileNotFoundError:
            return "none"
        except OSError:
            return None
        return f"{status.st_ino}:{status.st_mtime_ns}"

    async def move(self) -> None:
        fresh = self._path.with_name(f"{self._path.name}.{secrets.token_hex(4)}")
        fresh.write_text(secrets.token_hex(8))
        os.replace(fresh, self._path)


class RedisMark:
    """A Redis key set to a new random value on each revoke."""

    KEY = "aipaint:tokens:revoked"

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def mark(self) -> str | None:
        try:
            value = await self._redis.get(self.KEY)
        except RedisError:
            return None
        return value.decode() if isinstance(value, bytes) else "none"

    async def move(self) -> None:
        try:
            await self._redis.set(self.KEY, secrets.token_hex(8))
        except RedisError as error:
            # Committed, but processes that remember the token may not hear of it: say so, so
            # that the revoke is run again once Redis answers (revoking again moves the mark).
            raise RevocationNotShared(str(error)) from error


class RevocationNotShared(AipaintError):
    """Revoked in the database, but Redis did not take the new mark."""

    status_code = 503
    code = "revocation_not_shared"

    def __init__(self, reason: str) -> None:
        super().__init__(
            Text(
                zh=f"令牌已在数据库中吊销，但 Redis 未能通知所有进程（{reason}）；"
                "请在 Redis 恢复后再次吊销。",
                en=f"The token is revoked in the database, but Redis could not tell every "
                f"process ({reason}); revoke it again once Redis answers.",
            )
        )

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "5"}


def revocations_for(database_url: str, redis: Redis | None) -> Revocations:
    if redis is not None:
        return RedisMark(redis)
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return FileMark(Path(f"{url.database}.revoked"))
    return NoSharedMark()
