"""`GET /docs`: Swagger UI on `/openapi.json`, from assets shipped inside the package.

No CDN: the docs share an origin with the studio, which keeps its token in the browser, so
nothing served here may come from, or be changed by, anyone else. The assets are Swagger UI's
own distribution (Apache-2.0), installed with the `swagger-ui-bundle-v2` package; the page and its
initialiser are ours, and the policy lets only this origin's scripts and styles in.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

STATIC_DIR = Path(__file__).parent / "static"
ASSETS_DIR = Path(swagger_ui_path)
DOCS_POLICY = "; ".join(
    (
        "default-src 'self'",
        # Swagger UI's stylesheet draws its icons as data: SVG images; images only.
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {"Content-Security-Policy": DOCS_POLICY, "Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def docs_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", headers=HEADERS)


@router.get("/docs/init.js")
async def docs_init() -> FileResponse:
    return FileResponse(STATIC_DIR / "init.js", media_type="text/javascript", headers=HEADERS)


def mount_docs(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/docs/assets", StaticFiles(directory=ASSETS_DIR), name="docs-assets")
