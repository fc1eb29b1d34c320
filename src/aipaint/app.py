"""The application factory: one FastAPI app, the catalog loaded, every error handled alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from aipaint import __version__
from aipaint.catalog.endpoints import router as catalog_router
from aipaint.catalog.service import Catalog
from aipaint.config import Settings, get_settings
from aipaint.errors import install_error_handlers
from aipaint.health.endpoints import router as health_router

log = structlog.get_logger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. The catalog loads here, not lazily, so a broken catalog stops start-up."""
    settings = settings or get_settings()
    catalog = Catalog.load(settings.catalog_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("started", models=len(catalog), demo=settings.demo, version=__version__)
        if settings.demo:
            log.warning("demo_mode", reason="no RunningHub API key is set")
        yield

    app = FastAPI(
        title="aipaint",
        version=__version__,
        summary="Backend for AI painting and video apps on RunningHub.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.catalog = catalog
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(catalog_router)
    return app
