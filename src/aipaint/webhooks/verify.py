"""Check a webhook from aipaint, as a receiving app does: with the `standardwebhooks` library."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


class InvalidWebhook(ValueError):
    """The request is not a webhook signed with this secret: a header is missing, its
    timestamp is more than 5 minutes off, or no signature matches."""


def verify(headers: Mapping[str, str], body: bytes | str, secret: str) -> dict[str, Any]:
    """The event `{"type", "timestamp", "data": <the task>}` of a verified webhook.

    Args:
        headers: the request's headers (any mapping; names in any case).
        body: the raw request body, exactly as received (not re-serialised JSON).
        secret: the user's signing secret, `whsec_…` (`GET /v1/webhooks/secret`).

    Raises:
        InvalidWebhook: the signature, the headers or the timestamp do not check out.
    """
    wanted = ("webhook-id", "webhook-timestamp", "webhook-signature")
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        event = Webhook(secret).verify(body, {name: lowered.get(name, "") for name in wanted})
    except WebhookVerificationError as error:
        raise InvalidWebhook(f"webhook not verified: {error}") from None
    except (ValueError, TypeError) as error:  # a malformed secret or signature header
        raise InvalidWebhook(f"webhook not verified: {error}") from None
    if not isinstance(event, dict) or "type" not in event:
        raise InvalidWebhook("webhook not verified: the body is not an aipaint event")
    return event
