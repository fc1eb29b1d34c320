"""JSON request bodies parsed strictly, by orjson: the route class of every route that takes one.

The standard library's parser takes what JSON text cannot carry through the rest of the system:
lone surrogates (`"\\ud800"` is no character, so it cannot be encoded, stored or sent on), NaN and
Infinity, and nesting deep enough to exhaust Python's recursion limit. orjson refuses all three
(it stops at 1,024 levels), and its error is a `json.JSONDecodeError`, which FastAPI answers as a
422 in the error shape.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute


class StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = orjson.loads(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict
