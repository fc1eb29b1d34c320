"""Signed output links: stable across reads (browsers keep their cached files), never short."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI

pytestmark = pytest.mark.anyio


async def test_reads_within_a_minute_give_the_same_link(app: FastAPI) -> None:
    service = app.state.tasks
    ttl = app.state.settings.file_link_ttl_s
    before = time.time()
    first = service.file_url("tsk_links", 0, "png")
    second = service.file_url("tsk_links", 0, "png")
    expires = int(parse_qs(urlsplit(first).query)["expires"][0])

    assert first.startswith("/files/tsk_links/0.png?")
    assert expires % 60 == 0
    assert before + ttl <= expires < before + ttl + 61
    # Equal unless the two reads straddle a minute's edge, a window of microseconds.
    assert second == first or int(parse_qs(urlsplit(second).query)["expires"][0]) == expires + 60
