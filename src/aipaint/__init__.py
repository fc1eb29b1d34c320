"""aipaint: the backend for AI painting and video apps that run on RunningHub."""

__version__ = "0.1.0"
