"""`GET /healthz`: always 200 while the process serves, with what an operator needs to know."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from aipaint import __version__

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Health, version and demo mode")
async def healthz(request: Request) -> dict[str, Any]:
    state = request.app.state
    return {
        "status": "ok",
        "version": __version__,
        "demo": state.settings.demo,
        "models": len(state.catalog),
    }
