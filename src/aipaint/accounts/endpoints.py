"""`DELETE /v1/tokens/{id}`: an admin revokes a token; it lets no one in from the next request."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from aipaint.accounts.dependencies import CurrentAdmin
from aipaint.accounts.service import revoke
from aipaint.runtime import Runtime

router = APIRouter(prefix="/v1/tokens", tags=["tokens"])


@router.delete(
    "/{token_id}",
    status_code=204,
    summary="Revoke a token (admin); effective on the next request, in every process",
    responses={403: {"description": "Not an admin"}, 404: {"description": "No such token"}},
)
async def revoke_token(token_id: str, request: Request, _: CurrentAdmin) -> Response:
    runtime: Runtime = request.app.state.runtime
    # Revoking a revoked token again changes nothing in the database.
    await revoke(runtime.sessions, runtime.revocations, token_id=token_id)
    return Response(status_code=204)
