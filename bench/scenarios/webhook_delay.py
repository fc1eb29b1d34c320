"""webhook_delay: from a task's end to its signed webhook reaching the app, 1,000 tasks ending
within a minute."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

import httpx
from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aipaint.kit.background_server import BackgroundServer
from bench.harness import Context, Figure, Target, percentile, scenario
from bench.server import Server, running_server, running_simulator

MODEL = "kling-lip-sync/tts"  # a text model: its output lives in the row, nothing to download
PARAMS = {"text": "bench", "voiceId": "genshin_vindi2", "voiceLanguage": "zh", "voiceSpeed": 1}
TASKS, SMOKE_TASKS = 1000, 20
SPEED = 20.0  # the simulator's: a task of 2–9 s at RunningHub's pace takes 0.1–0.45 s
CREATORS = 8  # threads creating the tasks
ARRIVAL_LIMIT_S = 300.0
NOTE = (
    "One `aipaint serve` (the embedded default: SQLite, the worker in-process) with "
    "`AIPAINT_PUBLIC_URL` set (RunningHub's webhooks on), a budget of 200 queries/s and no "
    f"upstream concurrency cap, pointed at a RunningHub simulator at {SPEED:g}× speed; the "
    "app's receiver is a Starlette app in the benchmark's process (uvicorn on 127.0.0.1, "
    "trusted through `AIPAINT_TRUSTED_HOSTS`) that verifies every request with the "
    "`standardwebhooks` library and answers 200. The benchmark creates "
    f"{TASKS} tasks ({MODEL}, nothing to archive) from {CREATORS} threads, each naming the "
    "receiver as its `webhook_url`, so that they all end within about a minute, and waits "
    "for every `task.succeeded`. Delay: the receiver's clock when the request arrived − the "
    "task's `finished_at` in the event's data (the commit of the final state, in the same "
    "transaction as the delivery row). `end spread`: last `finished_at` − first."
)


@dataclass
class Inbox:
    secret: str = ""
    arrivals: dict[str, float] = field(default_factory=dict)  # task id -> arrival (Unix)
    finished: dict[str, float] = field(default_factory=dict)  # task id -> its finished_at
    duplicates: int = 0
    unverified: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def receive(self, request: Request) -> Response:
        arrived = time.time()
        body = await request.body()
        try:
            event: dict[str, Any] = Webhook(self.secret).verify(body, dict(request.headers))
        except Exception:
            with self.lock:
                self.unverified += 1
            return Response(status_code=401)
        task = event["data"]
        with self.lock:
            if task["id"] in self.arrivals:
                self.duplicates += 1
            else:
                self.arrivals[task["id"]] = arrived
                self.finished[task["id"]] = _unix(task["finished_at"])
        return Response(status_code=200)


@dataclass(frozen=True)
class Stack:
    server: Server
    inbox: Inbox
    receiver_url: str


@scenario("webhook_delay", "Webhook delivery delay, 1,000 tasks ending within a minute", note=NOTE)
def webhook_delay(ctx: Context) -> list[Figure]:
    count = SMOKE_TASKS if ctx.smoke else TASKS
    stack = ctx.shared("stack", _stack)
    inbox = stack.inbox
    with inbox.lock:
        inbox.arrivals.clear()
        inbox.finished.clear()
        inbox.duplicates = inbox.unverified = 0
    ids = _create(stack, count)
    deadline = time.monotonic() + ARRIVAL_LIMIT_S
    while len(set(ids) & inbox.arrivals.keys()) < len(ids):
        if time.monotonic() > deadline:
            missing = len(set(ids) - inbox.arrivals.keys())
            raise RuntimeError(f"{missing} webhooks never arrived")
        time.sleep(0.2)
    delays = [inbox.arrivals[task_id] - inbox.finished[task_id] for task_id in ids]
    ends = [inbox.finished[task_id] for task_id in ids]
    return [
        Figure("webhooks received", len(delays), "webhooks"),
        Figure("end spread", max(ends) - min(ends), "s"),
        Figure("delay p50", percentile(delays, 50) * 1000, "ms"),
        Figure("delay p99", percentile(delays, 99) * 1000, "ms", Target("<=", 2000)),
        Figure("delay max", max(delays) * 1000, "ms"),
        Figure("duplicates", inbox.duplicates, "requests"),
        Figure("unverified", inbox.unverified, "requests", Target("<=", 0)),
    ]


@contextmanager
def _stack() -> Iterator[Stack]:
    inbox = Inbox()
    app = Starlette(routes=[Route("/hook", inbox.receive, methods=["POST"])])
    with BackgroundServer(app) as receiver, running_simulator(speed=SPEED) as sim:
        env = {
            **sim.env,
            "AIPAINT_UPSTREAM_QPS": "200",
            "AIPAINT_UPSTREAM_CONCURRENCY": "100000",
            "AIPAINT_TRUSTED_HOSTS": f'["127.0.0.1:{receiver.port}"]',
        }
        with running_server(env, webhooks=True) as server:
            headers = {"Authorization": f"Bearer {server.token}"}
            answer = httpx.get(f"{server.url}/v1/webhooks/secret", headers=headers, timeout=30)
            inbox.secret = answer.raise_for_status().json()["key"]
            yield Stack(server, inbox, f"http://127.0.0.1:{receiver.port}/hook")


def _create(stack: Stack, count: int) -> list[str]:
    with ThreadPoolExecutor(CREATORS) as pool:
        batches = pool.map(partial(_create_some, stack), _split(count, CREATORS))
        return [task_id for batch in batches for task_id in batch]


def _create_some(stack: Stack, count: int) -> list[str]:
    headers = {"Authorization": f"Bearer {stack.server.token}"}
    body = {"model": MODEL, "params": PARAMS, "webhook_url": stack.receiver_url}
    ids = []
    with httpx.Client(base_url=stack.server.url, headers=headers, timeout=60) as client:
        for _ in range(count):
            answer = client.post("/v1/tasks", json=body)
            if answer.status_code != 202:
                raise RuntimeError(f"create: {answer.status_code} {answer.text[:500]}")
            ids.append(answer.json()["id"])
    return ids


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if n < total % parts else 0) for n in range(parts)]


def _unix(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
