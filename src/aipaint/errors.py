"""The one error type of aipaint and the handlers that render every error in the same shape.

Every error answer is `{"error": {"code", "message", "details"}}`; messages follow the request's
`Accept-Language`. Nothing escapes as a bare 500: unexpected exceptions are logged and rendered too.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from aipaint.i18n import Lang, Text, negotiate
from aipaint.responses import JSONResponse

log = structlog.get_logger(__name__)
# An error lists at most this many details; its message still counts them all. A body of 100,000
# unknown params answers in kilobytes, not megabytes.
MAX_DETAILS = 50


class AipaintError(Exception):
    """Base of every expected error; subclasses set `status_code` and `code`."""

    status_code = 500
    code = "internal_error"

    def __init__(self, message: Text) -> None:
        super().__init__(message.en)
        self.message = message

    def details(self, lang: Lang) -> list[dict[str, Any]]:
        """What went wrong, item by item; at most MAX_DETAILS of them are sent."""
        return []

    def headers(self) -> dict[str, str]:
        """Headers the answer carries (e.g. Retry-After)."""
        return {}


def error_body(
    code: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": (details or [])[:MAX_DETAILS]}}


def request_lang(request: Request) -> Lang:
    return negotiate(request.headers.get("accept-language"))


async def _aipaint_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AipaintError)
    lang = request_lang(request)
    body = error_body(exc.code, exc.message.get(lang), exc.details(lang))
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers() or None)


async def _request_invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    lang = request_lang(request)
    errors = exc.errors()
    details = [
        {
            "field": ".".join(str(part) for part in error.get("loc", ())),
            "code": error.get("type", "invalid"),
            "message": error.get("msg", ""),
        }
        for error in errors[:MAX_DETAILS]
    ]
    message = Text(zh="请求格式不正确。", en="The request is malformed.").get(lang)
    return JSONResponse(error_body("invalid_request", message, details), status_code=422)


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return JSONResponse(
        error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", path=request.url.path)
    message = Text(zh="服务器内部错误。", en="Internal server error.").get(request_lang(request))
    return JSONResponse(error_body("internal_error", message), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AipaintError, _aipaint_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
