"""aipaint: the backend for AI painting and video apps that run on RunningHub."""

from aipaint.client import AipaintAPIError, AsyncClient, Client, TaskFailed

__all__ = ["AipaintAPIError", "AsyncClient", "Client", "TaskFailed", "__version__"]

__version__ = "0.1.0"
