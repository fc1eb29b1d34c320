"""HTTP routes of the caller's webhook settings: the signing secret and the default URL. A
task's deliveries are under its own route (`task/endpoints.py`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from aipaint.accounts.dependencies import CurrentUser
from aipaint.requests import StrictJSONRoute
from aipaint.webhooks.schemas import DefaultWebhook, WebhookSecret
from aipaint.webhooks.service import WebhookService

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], route_class=StrictJSONRoute)


async def get_service(request: Request) -> WebhookService:
    service: WebhookService = request.app.state.tasks.webhooks
    return service


Service = Annotated[WebhookService, Depends(get_service)]


@router.get("/secret", summary="The caller's Standard Webhooks signing secret (whsec_…)")
async def get_secret(who: CurrentUser, service: Service) -> WebhookSecret:
    return WebhookSecret(key=await service.secret(who.user_id))


@router.post(
    "/secret/rotate",
    summary="A new signing secret; the old one keeps signing beside it for a grace period",
)
async def rotate_secret(who: CurrentUser, service: Service) -> WebhookSecret:
    return WebhookSecret(key=await service.rotate(who.user_id))


@router.get("/default", summary="Where tasks that name no webhook_url are notified")
async def get_default(who: CurrentUser, service: Service) -> DefaultWebhook:
    return DefaultWebhook(url=await service.default_url(who.user_id))


@router.put(
    "/default",
    summary="Set (or clear, with null) the default webhook URL of the caller's token",
    responses={422: {"description": "Not an http(s) URL of a public address"}},
)
async def put_default(body: DefaultWebhook, who: CurrentUser, service: Service) -> DefaultWebhook:
    await service.set_default_url(who.user_id, body.url)
    return DefaultWebhook(url=body.url)
