"""Everything a running aipaint process holds: database, upstream client, storage, job queue.

`Runtime.start` builds it from the settings (starting the built-in simulator in demo mode) and
`stop` releases it; the app keeps one on `app.state.runtime`. With `AIPAINT_REDIS_URL` the job
queue, the query budget and the change notifications are shared by every process through Redis;
without it they live in this process.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import structlog
from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from aipaint.accounts.revocations import Revocations, revocations_for
from aipaint.accounts.service import Authenticator
from aipaint.catalog.service import Catalog
from aipaint.config import Settings
from aipaint.db import create_engine, database_url, migrate, session_factory
from aipaint.kit.netguard import UrlGuard
from aipaint.kit.ratelimit import Budget, RateBudget, RedisBudget
from aipaint.simulator.app import SimulatorServer
from aipaint.simulator.settings import DEMO_KEY, SimulatorSettings
from aipaint.storage import Storage, storage_from_settings
from aipaint.task.events import TaskEvents
from aipaint.task.saving import TaskSaver
from aipaint.upstream import RunningHubClient
from aipaint.webhooks.outbox import Outbox
from aipaint.worker.queue import InProcessQueue, JobQueue
from aipaint.worker.redis_queue import RedisJobQueue

log = structlog.get_logger(__name__)


@dataclass
class Runtime:
    settings: Settings
    catalog: Catalog
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    storage: Storage
    upstream: RunningHubClient
    downloads: httpx.AsyncClient
    guard: UrlGuard
    # Outbound webhooks: their own client (no redirects, no proxy from the environment) and
    # guard (only AIPAINT_TRUSTED_HOSTS is exempt, not RunningHub's host).
    webhook_http: httpx.AsyncClient
    webhook_guard: UrlGuard
    secret: bytes
    queue: JobQueue
    saver: TaskSaver
    revocations: Revocations
    authenticator: Authenticator
    events: TaskEvents = field(default_factory=TaskEvents)
    budget: Budget = field(default_factory=lambda: RateBudget(5.0))
    redis: Redis | None = None
    simulator: SimulatorServer | None = None
    upstream_limit: int = 1
    # The RunningHub key's fingerprint: what its upstream slots are counted under.
    account: str = ""
    # Names this process as the owner of the submits it makes.
    owner: str = field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
    )

    @classmethod
    async def start(cls, settings: Settings, catalog: Catalog) -> Runtime:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        url = database_url(settings)
        engine = create_engine(url)
        await migrate(engine)
        simulator = None
        base_url = settings.runninghub_base_url
        key = settings.runninghub_api_key.get_secret_value() if settings.runninghub_api_key else ""
        if settings.demo:
            simulator = SimulatorServer(
                SimulatorSettings(speed=settings.demo_speed), catalog=catalog
            ).start()
            base_url, key = simulator.url, DEMO_KEY
            log.warning("demo_mode", simulator=simulator.url, reason="no RunningHub API key is set")
        upstream_host = urlsplit(base_url).netloc
        redis = _redis(settings)
        # With webhooks on, polling is the safety net: it keeps half the budget free for
        # the queries that confirm webhooks, which come in bursts when many tasks finish.
        share = 0.5 if settings.public_url else 1.0
        budget: Budget = (
            RedisBudget(redis, settings.upstream_qps, routine_share=share)
            if redis is not None
            else RateBudget(settings.upstream_qps, routine_share=share)
        )
        queue: JobQueue = (
            RedisJobQueue(
                redis,
                concurrency=settings.worker_concurrency,
                drain_s=settings.drain_timeout_s,
            )
            if redis is not None
            else InProcessQueue(
                concurrency=settings.worker_concurrency, drain_s=settings.drain_timeout_s
            )
        )
        events = TaskEvents(redis)
        events.start()
        sessions = session_factory(engine)
        revocations = revocations_for(url, redis)
        # Sends webhooks, and probes a new target's redirects: never follows one itself.
        webhook_http = httpx.AsyncClient(
            timeout=settings.webhook_timeout_s, follow_redirects=False, trust_env=False
        )
        runtime = cls(
            settings=settings,
            catalog=catalog,
            engine=engine,
            sessions=sessions,
            storage=storage_from_settings(settings),
            upstream=RunningHubClient(base_url, key, gate=budget.acquire),
            downloads=httpx.AsyncClient(
                timeout=httpx.Timeout(connect=10, read=60, write=60, pool=30),
                follow_redirects=True,
            ),
            # Files RunningHub itself hands out (upload links) are safe to pass back to it.
            guard=UrlGuard(trusted=[upstream_host, *settings.trusted_hosts]),
            webhook_http=webhook_http,
            webhook_guard=UrlGuard(trusted=settings.trusted_hosts, http=webhook_http),
            secret=_secret(settings),
            queue=queue,
            saver=TaskSaver(
                sessions,
                events,
                link_ttl=timedelta(seconds=settings.link_ttl_s),
                deliveries=Outbox(queue).committed,
            ),
            revocations=revocations,
            authenticator=Authenticator(engine, revocations),
            events=events,
            budget=budget,
            redis=redis,
            simulator=simulator,
            account=hashlib.sha256(f"{base_url}|{key}".encode()).hexdigest()[:32],
        )
        return runtime

    async def stop(self) -> None:
        await self.events.stop()
        await self.queue.close()
        if self.redis is not None:
            await self.redis.aclose()
        await self.upstream.aclose()
        await self.downloads.aclose()
        await self.storage.aclose()
        await self.webhook_http.aclose()
        await self.engine.dispose()
        if self.simulator is not None:
            self.simulator.stop()

    def sign(self, purpose: str, value: str) -> str:
        return signature(self.secret, purpose, value)

    def verify(self, purpose: str, value: str, signature: str) -> bool:
        # As bytes: compare_digest refuses a str with non-ASCII characters (a TypeError).
        return hmac.compare_digest(self.sign(purpose, value).encode(), signature.encode())


def signature(secret: bytes, purpose: str, value: str) -> str:
    """What signs webhook URLs and file links: an HMAC of `purpose:value` under `secret`."""
    message = f"{purpose}:{value}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def _redis(settings: Settings) -> Redis | None:
    if not settings.redis_url:
        return None
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        timeout=settings.redis_pool_timeout_s,
    )
    return Redis.from_pool(pool)  # closing the client closes its pool


def _secret(settings: Settings) -> bytes:
    """The signing secret: from the settings, else generated once into the data dir."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path: Path = settings.data_dir / "secret.key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()
