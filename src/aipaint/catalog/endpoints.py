"""HTTP routes of the catalog: list, one model with its schema, price estimates."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from aipaint.accounts.dependencies import current_user
from aipaint.catalog.estimates import estimate
from aipaint.catalog.schemas import EstimateRequest
from aipaint.catalog.service import Catalog, summary
from aipaint.requests import StrictJSONRoute
from aipaint.responses import JSONResponse

router = APIRouter(
    prefix="/v1",
    tags=["catalog"],
    dependencies=[Depends(current_user)],
    route_class=StrictJSONRoute,
)


async def get_catalog(request: Request) -> Catalog:
    # async: FastAPI runs a plain `def` dependency in its thread pool, a thread hop per request.
    catalog: Catalog = request.app.state.catalog
    return catalog


CatalogDep = Annotated[Catalog, Depends(get_catalog)]


@router.get("/models", summary="List catalog models")
async def list_models(
    catalog: CatalogDep,
    category: Annotated[str | None, Query(description="Only models of this category")] = None,
    q: Annotated[str | None, Query(description="Words to find in id or title")] = None,
) -> JSONResponse:
    models = [summary(spec) for spec in catalog.search(category, q)]
    return JSONResponse({"models": models, "categories": catalog.categories})


@router.get(
    "/models/{model_id:path}",
    summary="One model with the JSON Schema of its params",
    responses={304: {"description": "Not modified"}, 404: {"description": "Unknown model"}},
)
async def get_model(
    model_id: str,
    catalog: CatalogDep,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    document = catalog.document(model_id)
    headers = {"ETag": document.etag, "Cache-Control": "no-cache"}
    if if_none_match is not None and _matches(if_none_match, document.etag):
        return Response(status_code=304, headers=headers)
    return Response(document.body, media_type="application/json", headers=headers)


@router.post("/estimates", summary="Price estimate of a request before submitting it")
async def create_estimate(body: EstimateRequest, catalog: CatalogDep) -> dict[str, Any]:
    params = catalog.validate(body.model, body.params)
    return estimate(catalog.get(body.model), params).model_dump(mode="json")


def _matches(if_none_match: str, etag: str) -> bool:
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags
