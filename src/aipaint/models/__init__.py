"""Every table, one module each; importing this package registers them all on the metadata."""

from aipaint.models.account import UpstreamAccount
from aipaint.models.output import Output
from aipaint.models.task import Task
from aipaint.models.upload import Upload
from aipaint.models.user import User
from aipaint.models.webhook import WebhookAttempt, WebhookDelivery, WebhookGone

__all__ = [
    "Output",
    "Task",
    "Upload",
    "UpstreamAccount",
    "User",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookGone",
]
