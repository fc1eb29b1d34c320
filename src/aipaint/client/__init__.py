"""The Python client of an aipaint server: `Client` (sync) and `AsyncClient`, same methods.

from aipaint.client import Client

with Client() as client:  # AIPAINT_SERVER / AIPAINT_TOKEN, or pass them
    task = client.run("rhart-video/ltx-2.3/text-to-video", {"prompt": "a bird", ...})
    paths = client.download_outputs(task, "outputs")
"""

from __future__ import annotations

from aipaint.client.async_client import AsyncClient
from aipaint.client.errors import (
    AipaintAPIError,
    AipaintClientError,
    AipaintConnectionError,
    DownloadError,
    EventStreamError,
    TaskFailed,
    WaitTimeout,
)
from aipaint.client.sync_client import Client
from aipaint.client.types import (
    Estimate,
    Model,
    ModelSummary,
    Output,
    Task,
    TaskError,
    TaskPage,
    Upload,
    Usage,
)

__all__ = [
    "AipaintAPIError",
    "AipaintClientError",
    "AipaintConnectionError",
    "AsyncClient",
    "Client",
    "DownloadError",
    "Estimate",
    "EventStreamError",
    "Model",
    "ModelSummary",
    "Output",
    "Task",
    "TaskError",
    "TaskFailed",
    "TaskPage",
    "Upload",
    "Usage",
    "WaitTimeout",
]
