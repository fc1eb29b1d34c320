"""The web studio: one HTML page at `/` and its static modules under `/studio/`.

The page is a no-build set of ES modules (see docs/architecture/04-studio.md): nothing to compile,
so what is in this folder is exactly what the browser runs.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
# Scripts and styles come only from aipaint itself. Media may come from anywhere: outputs are our
# own /files links, RunningHub's links stand in until a file is archived, uploads show RunningHub's
# copy, and previews of local files are blob: URLs.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "img-src * blob: data:",
        "media-src * blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The page is tiny and changes with each release; revalidating it costs one 304.
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


@router.api_route("/", methods=["GET", "HEAD"])
async def studio_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", headers=HEADERS)


def mount_studio(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/studio", StaticFiles(directory=STATIC_DIR), name="studio")
