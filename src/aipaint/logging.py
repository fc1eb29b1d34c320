"""structlog set-up: key=value lines on a terminal, JSON lines when `AIPAINT_LOG_JSON` is set."""

from __future__ import annotations

import logging

import structlog


def configure_logging(level: str = "INFO", json: bool = False, *, cache: bool = True) -> None:
    """`cache`: loggers keep their configuration from their first use on (fast); tests turn it
    off, so that structlog's `capture_logs` sees every logger, whichever test used it first."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json
        # Plain tracebacks: the rich ones print local variables, which can hold tokens and keys.
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    # SAQ logs every job it enqueues and runs at INFO: thousands of lines a minute under load.
    logging.getLogger("saq").setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=cache,
    )
