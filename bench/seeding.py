"""Tasks already in flight when aipaint starts: the state a restart finds them in.

Creating thousands of tasks through `POST /v1/tasks` would take minutes of the benchmark's ten;
the submit path is measured by submit_overhead. Tracking and archival start instead from what the
database holds after the submits: each task `queued`, with the upstream id the simulator gave it
(`POST /simulator/tasks`) and a check due now, so the worker's start-up sweep takes them all up.
They are stored in whichever database the run uses (SQLite in the data dir, or PostgreSQL); the
RunningHub key they count against (`upstream_account`) is left unset, as in rows from before it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select

from aipaint.db import create_engine, session_factory, transaction
from aipaint.kit.ids import new_id
from aipaint.models import Task, User
from aipaint.runtime import signature
from aipaint.upstream import UpstreamStatus
from bench.server import Simulator

# Known to the server (AIPAINT_SECRET_KEY) and to the seeder, which signs the webhook URLs.
SECRET = "aipaint-bench-secret-not-for-production"
SECRET_ENV = {"AIPAINT_SECRET_KEY": SECRET}
_CHUNK = 5_000  # tasks per simulator call and per insert


@dataclass(frozen=True)
class Seeded:
    ends_at: dict[str, float]  # aipaint task id -> when it finishes upstream (Unix time)
    upstream_ids: dict[str, str]  # aipaint task id -> the simulator's


def seed_in_flight(
    sim: Simulator,
    database_url: str,
    server_url: str,
    *,
    count: int,
    model: str,
    params: dict[str, Any],
    run_s: tuple[float, float],
    webhooks: bool,
) -> Seeded:
    """`count` tasks running upstream for `run_s` nominal seconds, stored as aipaint's."""
    ids = [new_id("tsk_") for _ in range(count)]
    ends_at: dict[str, float] = {}
    upstream: dict[str, str] = {}
    with httpx.Client(base_url=sim.url, timeout=60) as client:
        for start in range(0, count, _CHUNK):
            chunk = ids[start : start + _CHUNK]
            urls = [_hook_url(server_url, task_id) if webhooks else None for task_id in chunk]
            body = {"key": sim.key, "model": model, "params": params, "run_s": run_s}
            answer = client.post("/simulator/tasks", json={**body, "webhook_urls": urls})
            for task_id, seeded in zip(
                chunk, answer.raise_for_status().json()["tasks"], strict=True
            ):
                upstream[task_id] = seeded["id"]
                ends_at[task_id] = seeded["ends_at"]
    asyncio.run(_store(database_url, model, params, upstream))
    return Seeded(ends_at, upstream)


@dataclass
class Seeder:
    """`running_server`'s (or `running_cluster`'s) prepare step: `seed_in_flight` with these
    arguments; keeps the result."""

    sim: Simulator
    count: int
    model: str
    params: dict[str, Any]
    run_s: tuple[float, float]
    webhooks: bool
    seeded: Seeded = field(default_factory=lambda: Seeded({}, {}))

    def __call__(self, data_dir: Path, server_url: str, database_url: str) -> None:
        arguments = {k: v for k, v in vars(self).items() if k not in ("sim", "seeded")}
        self.seeded = seed_in_flight(self.sim, database_url, server_url, **arguments)

    @property
    def ends_at(self) -> dict[str, float]:
        return self.seeded.ends_at


def _hook_url(server_url: str, task_id: str) -> str:
    sign = signature(SECRET.encode(), "hook", task_id)
    return f"{server_url}/hooks/runninghub/{task_id}/{sign}"


async def _store(
    database_url: str, model: str, params: dict[str, Any], upstream: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    engine = create_engine(database_url)
    try:
        async with transaction(session_factory(engine)) as session:
            user_id = (await session.execute(select(User.id))).scalars().one()
            rows = [
                {
                    "id": task_id,
                    "user_id": user_id,
                    "model": model,
                    "params": params,
                    "status": "queued",
                    "upstream_task_id": upstream_id,
                    "upstream_status": UpstreamStatus.RUNNING.value,
                    "submit_attempts": 1,
                    "submit_started_at": now,
                    "submitted_at": now,
                    "next_check_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for task_id, upstream_id in upstream.items()
            ]
            for start in range(0, len(rows), _CHUNK):
                await session.execute(insert(Task), rows[start : start + _CHUNK])
    finally:
        await engine.dispose()


def final_tasks(server_url: str, token: str) -> dict[str, tuple[str, float]]:
    """(status, `finished_at` as Unix time) of every final task, from the paginated list."""
    headers = {"Authorization": f"Bearer {token}"}
    finished: dict[str, tuple[str, float]] = {}
    cursor: str | None = None
    with httpx.Client(base_url=server_url, headers=headers, timeout=30) as client:
        for _ in range(100_000):
            query: dict[str, str | int] = {"limit": 100}
            if cursor:
                query["cursor"] = cursor
            page = client.get("/v1/tasks", params=query).raise_for_status().json()
            for task in page["tasks"]:
                if task["finished_at"] is not None:
                    finished[task["id"]] = (task["status"], _unix(task["finished_at"]))
            cursor = page["next_cursor"]
            if not cursor:
                return finished
    raise RuntimeError("too many pages of tasks")


def _unix(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
