"""Outbound webhooks, and `verify` for the apps that receive them.

from aipaint.webhooks import verify

event = verify(request.headers, await request.body(), "whsec_…")
if event["type"] == "task.succeeded":
    urls = [output["url"] for output in event["data"]["outputs"]]
"""

from aipaint.webhooks.verify import InvalidWebhook, verify

__all__ = ["InvalidWebhook", "verify"]
