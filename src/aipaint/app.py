"""The application factory: one FastAPI app, the catalog loaded, every error handled alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from aipaint import __version__
from aipaint.accounts.endpoints import router as tokens_router
from aipaint.apidocs.endpoints import DOCS_POLICY, mount_docs
from aipaint.catalog.endpoints import router as catalog_router
from aipaint.catalog.service import Catalog
from aipaint.config import Settings, get_settings
from aipaint.errors import install_error_handlers
from aipaint.files.endpoints import router as files_router
from aipaint.guards import FILES_POLICY, MB, BodyLimit, NoNulInUrl, SecurityHeaders
from aipaint.health.endpoints import router as health_router
from aipaint.kit.ratelimit import FailureAllowance
from aipaint.logging import configure_logging
from aipaint.metrics import router as metrics_router
from aipaint.roles import check_roles, start_worker
from aipaint.runtime import Runtime
from aipaint.studio.endpoints import CONTENT_SECURITY_POLICY as STUDIO_POLICY
from aipaint.studio.endpoints import mount_studio
from aipaint.task.endpoints import router as task_router
from aipaint.task.endpoints import run_times_router
from aipaint.task.hooks import router as hooks_router
from aipaint.task.service import TaskService
from aipaint.uploads.endpoints import UPLOADS_PATH
from aipaint.uploads.endpoints import router as uploads_router
from aipaint.uploads.service import largest_upload_mb
from aipaint.webhooks.endpoints import router as webhooks_router

log = structlog.get_logger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app. The catalog loads here, not lazily, so a broken catalog stops start-up."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    catalog = Catalog.load(settings.catalog_dir)

    check_roles(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await Runtime.start(settings, catalog)
        app.state.runtime = runtime
        app.state.tasks = TaskService(runtime)
        worker = await start_worker(runtime) if settings.worker else None
        log.info(
            "started",
            models=len(catalog),
            demo=settings.demo,
            worker=settings.worker,
            version=__version__,
        )
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
            await runtime.stop()

    app = FastAPI(
        title="aipaint",
        version=__version__,
        summary="Backend for AI painting and video apps on RunningHub.",
        lifespan=lifespan,
        # Served by apidocs from the package's own assets, not from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.catalog = catalog
    app.state.auth_failures = FailureAllowance(
        settings.auth_failure_burst, settings.auth_failure_refill_s
    )
    install_error_handlers(app)
    json_limit = int(settings.max_body_mb * MB)
    # An upload's form has a few small fields beside the file.
    upload_limit = int(largest_upload_mb(settings, catalog) * MB) + MB
    app.add_middleware(
        BodyLimit, limit=lambda path: upload_limit if path == UPLOADS_PATH else json_limit
    )
    app.add_middleware(NoNulInUrl)
    app.add_middleware(
        SecurityHeaders,
        policies=[("/docs", DOCS_POLICY), ("/studio/", STUDIO_POLICY), ("/files/", FILES_POLICY)],
    )
    app.include_router(health_router)
    app.include_router(catalog_router)
    app.include_router(task_router)
    app.include_router(run_times_router)
    app.include_router(uploads_router)
    app.include_router(tokens_router)
    app.include_router(webhooks_router)
    app.include_router(files_router)
    app.include_router(hooks_router)
    app.include_router(metrics_router)
    mount_docs(app)
    mount_studio(app)
    return app
