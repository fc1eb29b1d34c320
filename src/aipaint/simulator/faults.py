"""Transport-level fault injection in front of the RunningHub routes.

Each request to `/openapi/...` or `/uc/...` may be delayed, dropped before it is handled, answered
with a 5xx or a 429, or handled and then dropped (the task exists, the caller never hears of it).
Scripted one-shot faults come first, so a test can say "drop the next submit" and know it happens.
Every injected fault is counted, logged and written into the request log.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import Literal

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aipaint.simulator.settings import Faults
from aipaint.simulator.state import SimulatorState

log = structlog.get_logger("aipaint.simulator")

TransportFault = Literal["drop", "5xx", "429", "drop_after"]
Target = Literal["any", "submit", "query", "upload", "queue", "price", "account"]
_ADMIN = {
    "/openapi/v2/query": "query",
    "/openapi/v2/media/upload/binary": "upload",
    "/openapi/v2/queue/status": "queue",
    "/uc/openapi/accountStatus": "account",
}


@dataclass(frozen=True)
class ScriptedFault:
    fault: TransportFault
    target: Target = "any"


def classify(path: str) -> str:
    """Which RunningHub call a path is: submit, query, upload, queue, price or account."""
    if path in _ADMIN:
        return _ADMIN[path]
    if path.startswith("/openapi/v2/price-preview/"):
        return "price"
    return "submit"


class FaultInjector:
    def __init__(self, state: SimulatorState) -> None:
        self.state = state
        self.config: Faults = state.settings.faults
        self.script: deque[ScriptedFault] = deque()

    def pick(self, call: str) -> TransportFault | None:
        for scripted in self.script:
            if scripted.target in ("any", call):
                self.script.remove(scripted)
                return scripted.fault
        config = self.config
        roll = self.state.roll
        if roll(config.drop_rate):
            return "drop"
        if roll(config.http_5xx_rate):
            return "5xx"
        if roll(config.http_429_rate):
            return "429"
        if roll(config.drop_after_rate):
            return "drop_after"
        return None

    def count(self, fault: str, **context: object) -> None:
        self.state.faults[fault] += 1
        log.info("sim_fault", fault=fault, **context)


class FaultMiddleware:
    def __init__(self, app: ASGIApp, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(("/openapi/", "/uc/")):
            await self.app(scope, receive, send)
            return
        injector = self.injector
        call = classify(path)
        headers = dict(scope.get("headers") or [])
        key = headers.get(b"authorization", b"").decode("latin-1").removeprefix("Bearer ")
        injector.state.count_call(key, time.monotonic())
        entry = injector.state.record_request(
            {"method": scope["method"], "path": path, "call": call}
        )
        scope.setdefault("state", {})["sim_request"] = entry
        if injector.config.latency_ms:
            delay_ms = injector.state.random.uniform(0, injector.config.latency_ms)
            injector.count("latency", path=path, ms=round(delay_ms, 1))
            await asyncio.sleep(delay_ms / 1000)
        fault = injector.pick(call)
        entry["fault"] = fault
        if fault is not None:
            injector.count(fault, path=path, seq=entry["seq"])
            injector.state.faults_by_call[f"{fault}:{call}"] += 1
        if fault == "drop":
            await _drop(send)
        elif fault == "5xx":
            await _server_error(send, injector.state.random.choice((500, 502, 503)))
        elif fault == "429":
            await _too_many(send, injector.config.retry_after_s)
        elif fault == "drop_after":
            await self.app(scope, receive, _discard)
            await _drop(send)
        else:
            await self.app(scope, receive, send)


async def _discard(message: Message) -> None:
    """Swallow the real answer of a request whose connection is about to drop."""


async def _drop(send: Send) -> None:
    # Promise a body, send a few bytes, stop: the server closes the connection mid-answer, which a
    # client sees exactly as a connection lost after its request went out.
    headers = [(b"content-type", b"application/json"), (b"content-length", b"4096")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b'{"taskId', "more_body": True})


async def _server_error(send: Send, status: int) -> None:
    body = f"<html><body><h1>{status} Server Error</h1>simulated</body></html>".encode()
    headers = [(b"content-type", b"text/html"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _too_many(send: Send, retry_after: float) -> None:
    body = b'{"errorCode": "1003", "errorMessage": "Rate limit exceeded, please slow down"}'
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(max(0, round(retry_after))).encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": body})
