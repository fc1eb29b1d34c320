from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

import aipaint.app
import aipaint.logging
from aipaint.accounts.service import create_user
from aipaint.app import create_app
from aipaint.catalog.paths import MODELS_DIR
from aipaint.catalog.service import Catalog
from aipaint.config import Settings
from aipaint.db import transaction
from aipaint.runtime import Runtime
from tests.s3 import stop_shared_s3
from tests.stacks import redis_server, split_shape
from tests.support import fresh_database


@pytest.fixture(scope="session", autouse=True)
def _uncached_loggers() -> Iterator[None]:
    """Every app the tests create logs through uncached loggers (see `configure_logging`)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            aipaint.app,
            "configure_logging",
            lambda level, json: aipaint.logging.configure_logging(level, json, cache=False),
        )
        aipaint.logging.configure_logging(cache=False)
        yield


@pytest.fixture(scope="session", autouse=True)
def _shared_s3() -> Iterator[None]:
    """The moto server the stacks share with AIPAINT_TEST_STORAGE=s3 stops with the session."""
    yield
    stop_shared_s3()


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog.load(MODELS_DIR)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database for the session: SQLite, or PostgreSQL if AIPAINT_TEST_DATABASE=postgres."""
    with fresh_database(tmp_path_factory.mktemp("db")) as url:
        yield url


def make_settings(data_dir: Path, database_url: str | None = None, **overrides: object) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        runninghub_api_key=None,
        _env_file=None,
        **overrides,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
async def app(
    tmp_path_factory: pytest.TempPathFactory, database_url: str
) -> AsyncIterator[FastAPI]:
    """The app on the shipped catalog, in demo mode, its lifespan running; shared by the session.
    In the split shape its job queue, budget and notifications go through a Redis of its own."""
    data_dir = tmp_path_factory.mktemp("data")
    with ExitStack() as stack:
        shared = {}
        if split_shape():
            shared["redis_url"] = stack.enter_context(redis_server(data_dir)).url
        application = create_app(make_settings(data_dir, database_url, **shared))
        async with application.router.lifespan_context(application):
            yield application


@pytest.fixture(scope="session")
async def token(app: FastAPI) -> str:
    runtime: Runtime = app.state.runtime
    async with transaction(runtime.sessions) as session:
        _, secret = await create_user(session, "tests")
    return secret


@pytest.fixture
async def client(app: FastAPI, token: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test", headers=headers
    ) as http:
        yield http
