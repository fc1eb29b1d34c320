"""The simulator as an ASGI app, and on a real socket in a background thread."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from aipaint.catalog.service import Catalog
from aipaint.kit.background_server import BackgroundServer
from aipaint.simulator.control import router as control_router
from aipaint.simulator.endpoints import router as openapi_router
from aipaint.simulator.faults import FaultMiddleware
from aipaint.simulator.service import Simulator
from aipaint.simulator.settings import SimulatorSettings
from aipaint.simulator.state import SimulatorState


def create_simulator_app(
    settings: SimulatorSettings | None = None,
    *,
    catalog: Catalog | None = None,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    settings = settings or SimulatorSettings()
    catalog = catalog or Catalog.load(settings.catalog_dir)
    simulator = Simulator(SimulatorState(settings, clock), catalog)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await simulator.webhooks.start()
        try:
            yield
        finally:
            await simulator.webhooks.stop()

    app = FastAPI(
        title="RunningHub simulator (aipaint)",
        summary="RunningHub's OpenAPI v2, simulated: tasks, outputs, webhooks and faults.",
        lifespan=lifespan,
    )
    app.state.simulator = simulator
    app.include_router(control_router)
    app.include_router(openapi_router)
    app.add_middleware(FaultMiddleware, injector=simulator.injector)
    return app


class SimulatorServer(BackgroundServer):
    """The simulator on a real loopback socket in a background thread (tests, demo mode).

    `with SimulatorServer(settings) as sim: httpx.post(sim.url + "/openapi/v2/query", ...)`.
    """

    def __init__(
        self,
        settings: SimulatorSettings | None = None,
        *,
        catalog: Catalog | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
    ) -> None:
        app = create_simulator_app(settings, catalog=catalog)
        super().__init__(app, host=host, port=port)
        self.simulator: Simulator = app.state.simulator
