from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from aipaint.app import create_app
from aipaint.catalog.paths import MODELS_DIR
from aipaint.catalog.service import Catalog
from aipaint.config import Settings


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog.load(MODELS_DIR)


def make_settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, _env_file=None)


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """The app on the shipped catalog; tests that only read share it."""
    return create_app(make_settings(tmp_path_factory.mktemp("data")))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
