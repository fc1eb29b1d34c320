"""Prometheus metrics, served at `GET /metrics`."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest

TASKS_CREATED = Counter("aipaint_tasks_created_total", "Tasks accepted by POST /v1/tasks")
TASKS_FINISHED = Counter(
    "aipaint_tasks_finished_total", "Tasks that reached a final status", ["status"]
)
SUBMITS = Counter(
    "aipaint_upstream_submits_total",
    "Submits to RunningHub by outcome (accepted, deferred, refused, uncertain)",
    ["outcome"],
)
ARCHIVED_BYTES = Counter("aipaint_archived_bytes_total", "Bytes of outputs archived")
WEBHOOKS = Counter("aipaint_webhooks_total", "RunningHub webhooks received", ["verdict"])

router = APIRouter(tags=["health"])


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
