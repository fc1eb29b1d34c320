"""Outbound webhooks as the API sees them: signing secrets, the default URL, the check of a
target URL, and a task's deliveries (listed, sent again)."""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from aipaint.accounts.service import Principal
from aipaint.db import reading, transaction
from aipaint.errors import AipaintError
from aipaint.i18n import Lang, Text
from aipaint.kit.netguard import UnsafeUrl
from aipaint.models import WebhookDelivery
from aipaint.models.base import utc_now
from aipaint.runtime import Runtime
from aipaint.webhooks import repository
from aipaint.webhooks.outbox import SEND
from aipaint.webhooks.schemas import AttemptRead, DeliveryRead

SECRET_PREFIX = "whsec_"
PROBE_TTL_S = 60.0
PROBED_MAX = 10_000
_REASONS = {
    "scheme": Text(zh="只接受 http 和 https 链接", en="only http and https URLs are accepted"),
    "private_address": Text(
        zh="它指向回环、内网、链路本地或元数据地址",
        en="it leads to a loopback, private, link-local or metadata address",
    ),
    "unresolvable": Text(zh="它的主机名无法解析", en="its host name does not resolve"),
}
_MALFORMED = Text(zh="链接格式不正确", en="the URL is malformed")


class WebhookUrlRefused(AipaintError):
    """A webhook target that may not be called: not http(s), or not a public address."""

    status_code = 422
    code = "invalid_webhook_url"

    def __init__(self, field: str, unsafe: UnsafeUrl) -> None:
        self.field = field
        self.reason = unsafe.reason
        self.url = unsafe.url
        why = _REASONS.get(unsafe.reason, _MALFORMED)
        super().__init__(
            Text(
                zh=f"{field} 不能接收 webhook：{why.zh}。",
                en=f"{field} cannot receive webhooks: {why.en}.",
            )
        )

    def details(self, lang: Lang) -> list[dict[str, Any]]:
        return [{"field": self.field, "code": self.reason, "message": self.message.get(lang)}]


class WebhookEventsWithoutUrl(AipaintError):
    """webhook_events asks for events, but the task has nowhere to send them."""

    status_code = 422
    code = "webhook_events_without_url"

    def __init__(self) -> None:
        super().__init__(
            Text(
                zh="webhook_events 需要 webhook_url（或令牌的默认 webhook 地址）。",
                en="webhook_events needs a webhook_url (or a default webhook URL for the token).",
            )
        )

    def details(self, lang: Lang) -> list[dict[str, Any]]:
        return [{"field": "webhook_events", "code": "no_url", "message": self.message.get(lang)}]


class DeliveryNotFound(AipaintError):
    status_code = 404
    code = "delivery_not_found"

    def __init__(self, delivery_id: str) -> None:
        super().__init__(
            Text(zh=f"投递 {delivery_id} 不存在。", en=f"Delivery {delivery_id} does not exist.")
        )


def new_secret() -> str:
    """`whsec_` and the base64 of 32 random bytes, as Standard Webhooks writes secrets."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookService:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        # URLs whose redirects were probed lately, and until when that holds: an app that
        # names one URL for every task is probed once a minute, not on every submit.
        self._probed: dict[str, float] = {}

    # --- targets --------------------------------------------------------------------------

    async def check_url(self, field: str, url: str) -> None:
        """Refuse (422) a URL the worker may not call, or one that redirects to such a place
        (its redirects probed, as input URLs' are). Before every attempt the address is checked
        again; redirects are then not followed at all."""
        now = time.monotonic()
        probe = self._probed.get(url, 0.0) < now
        try:
            await self.rt.webhook_guard.check(url, follow_redirects=probe)
        except UnsafeUrl as unsafe:
            raise WebhookUrlRefused(field, unsafe) from None
        if probe:
            if len(self._probed) >= PROBED_MAX:
                self._probed.clear()
            self._probed[url] = now + PROBE_TTL_S

    async def target(self, who: Principal, url: str | None, events: Sequence[str]) -> str | None:
        """Where a new task's webhooks go: its own URL, else the token's default (read with
        the token, so a submit costs no query for it), checked."""
        if url is None:
            url = who.webhook_url
            field = "default webhook URL"
        else:
            field = "webhook_url"
        if url is None:
            if events:
                raise WebhookEventsWithoutUrl()
            return None
        await self.check_url(field, url)
        return url

    async def default_url(self, user_id: str) -> str | None:
        async with reading(self.rt.sessions) as session:
            return await repository.default_url(session, user_id)

    async def set_default_url(self, user_id: str, url: str | None) -> None:
        if url is not None:
            await self.check_url("url", url)
        async with transaction(self.rt.sessions) as session:
            await repository.set_default_url(session, user_id, url)
            if url is not None:
                # Naming a URL again is the user's word that it is back.
                await repository.clear_gone(session, user_id, url)
        # Processes remember each token's default URL with the token: tell them it changed.
        await self.rt.revocations.move()

    # --- secrets --------------------------------------------------------------------------

    async def signing_keys(self, user_id: str, now: datetime | None = None) -> list[str]:
        return await signing_keys(self.rt.sessions, user_id, now)

    async def secret(self, user_id: str) -> str:
        return (await self.signing_keys(user_id))[0]

    async def rotate(self, user_id: str) -> str:
        """A new secret; the old one keeps signing (beside it) for the grace period."""
        await self.secret(user_id)  # a user who never had one rotates from a first one
        grace = timedelta(seconds=self.rt.settings.webhook_secret_grace_s)
        async with transaction(self.rt.sessions) as session:
            await repository.rotate_secret(session, user_id, new_secret(), utc_now() + grace)
        return await self.secret(user_id)

    # --- deliveries -----------------------------------------------------------------------

    async def deliveries(self, task_id: str) -> list[DeliveryRead]:
        async with reading(self.rt.sessions) as session:
            return [read(delivery) for delivery in await repository.of_task(session, task_id)]

    async def retry(self, task_id: str, delivery_id: str) -> DeliveryRead:
        """Send the delivery again now, with the same webhook-id; a URL that answered 410 is
        taken as back."""
        now = utc_now()
        async with transaction(self.rt.sessions) as session:
            delivery = await repository.get(session, delivery_id)
            if delivery is None or delivery.task_id != task_id:
                raise DeliveryNotFound(delivery_id)
            await repository.clear_gone(session, delivery.user_id, delivery.url)
            delivery.status = "pending"
            delivery.next_attempt_at = now
            delivery.updated_at = now
            answer = read(delivery)
        await self.rt.queue.enqueue(SEND, delivery_id)
        return answer


async def signing_keys(
    sessions: async_sessionmaker[AsyncSession], user_id: str, now: datetime | None = None
) -> list[str]:
    """The secrets that sign the user's webhooks now: the current one (made on first use) and,
    during the grace period after a rotation, the previous one; none for an unknown user."""
    now = now or utc_now()
    async with reading(sessions) as session:
        user = await repository.user(session, user_id)
    if user is None:
        return []
    if user.webhook_secret is None:
        async with transaction(sessions) as session:
            await repository.set_secret_if_none(session, user_id, new_secret())
            user = await repository.user(session, user_id)
        assert user is not None
        assert user.webhook_secret is not None
    keys = [user.webhook_secret]
    until = user.webhook_secret_previous_until
    if user.webhook_secret_previous and until is not None and until > now:
        keys.append(user.webhook_secret_previous)
    return keys


def read(delivery: WebhookDelivery) -> DeliveryRead:
    return DeliveryRead(
        id=delivery.id,
        task_id=delivery.task_id,
        event=delivery.event,
        url=delivery.url,
        status=delivery.status,
        attempts=[
            AttemptRead(
                number=attempt.number,
                at=attempt.at,
                status_code=attempt.status_code,
                duration_ms=attempt.duration_ms,
                error=attempt.error,
            )
            for attempt in delivery.attempt_log
        ],
        next_attempt_at=delivery.next_attempt_at,
        created_at=delivery.created_at,
    )
