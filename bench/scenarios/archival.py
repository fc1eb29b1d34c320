"""archival: outputs streamed into storage vs. a plain httpx download of the same files."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from bench.harness import Context, Figure, Target, scenario
from bench.seeding import SECRET_ENV, Seeder, final_tasks
from bench.server import Server, Simulator, rss_bytes, running_server, running_simulator

MODEL = "hitem3d-portrait-v21/image-to-3d"  # its GLB output is the simulator's cheapest to render
PARAMS = {"requestType": 1, "imageUrl": "https://example.com/bench.png", "resolution": "1536"}
CONCURRENCY = 8  # aipaint's default worker concurrency: files archived at once
FINISH_AFTER_S = 4.0  # every task ends upstream this long after seeding: once aipaint is up
FINISH_LIMIT_S = 300.0
RSS_SAMPLE_S = 0.01
KEEPS_PACE = Target(">=", 0.8)  # archival as fast as a plain download, near enough


@dataclass(frozen=True)
class Size:
    label: str
    files: int
    mb: int


FULL = (Size("20 MB", 200, 20), Size("200 MB", 10, 200))
SMOKE = (Size("2 MB", 6, 2), Size("8 MB", 3, 8))

NOTE = (
    "Per size, a RunningHub simulator padding every result file to that size and `aipaint serve` "
    "(SQLite, local storage in its temp data dir), each its own process on 127.0.0.1. The tasks "
    "(a 3D model: one GLB output each, the simulator's cheapest file to make) are put in flight "
    "as a restart finds them (`bench/seeding.py`) and all end upstream at the same moment, once "
    "aipaint is up; aipaint polls them and archives every output (stream to a temp file, sha256 "
    "while streaming, fsync, rename), "
    f"{CONCURRENCY} at a time (its default worker concurrency). Archival time: from the moment "
    "the tasks end upstream to the last task's `finished_at` (so polling's own delay is charged "
    "to aipaint). Baseline of the same run, same simulator, same files: the benchmark process "
    f"downloads each with `httpx.AsyncClient.stream`, {CONCURRENCY} at a time, reading the "
    "chunks as they come (`aiter_bytes()`, as aipaint does) and keeping none. Memory: "
    "aipaint's RSS sampled every "
    f"{RSS_SAMPLE_S * 1000:g} ms; its increase is the peak during archival over the RSS just "
    f"before. **Reduced**: the 200 MB run archives {FULL[1].files} files "
    f"({FULL[1].files * FULL[1].mb / 1000:g} GB) instead of 200 (40 GB), to fit the 10-minute "
    "benchmark; the memory it shows does not depend on the count, only on how many files are "
    "archived at once."
)


@scenario("archival", "Archival of large outputs vs. a plain download", note=NOTE)
def archival(ctx: Context) -> list[Figure]:
    figures: list[Figure] = []
    for size in SMOKE if ctx.smoke else FULL:
        figures += measure(size)
    return figures


def measure(
    size: Size,
    storage: Mapping[str, str] | None = None,
    ratio_target: Target | None = KEEPS_PACE,
) -> list[Figure]:
    """Figures for archiving `size.files` files of `size.mb` into the storage `storage` names
    (its AIPAINT_* variables; none: local files in the server's data dir)."""
    with running_simulator(speed=1, output_pad_mb=size.mb) as sim:
        seeder = Seeder(
            sim,
            count=size.files,
            model=MODEL,
            params=PARAMS,
            run_s=(FINISH_AFTER_S, FINISH_AFTER_S),
            webhooks=False,
        )
        env = {
            **sim.env,
            **SECRET_ENV,
            "AIPAINT_POLL_MIN_S": "0.02",
            "AIPAINT_POLL_MAX_S": "0.05",
            "AIPAINT_UPSTREAM_QPS": "1000",
            "AIPAINT_UPSTREAM_CONCURRENCY": "100000",
            **(storage or {}),
        }
        with running_server(env=env, prepare=seeder) as server:
            with _RssSampler(server.pid) as rss:
                finished = _wait_succeeded(server, seeder.ends_at)
            archived_s = finished - max(seeder.ends_at.values())
            urls = _result_urls(sim, list(seeder.seeded.upstream_ids.values()))
        download_s, downloaded = asyncio.run(_download_all(urls))
    # The files are at least `mb` each: a GLB pads to a 4-byte boundary.
    if downloaded < size.files * size.mb * 2**20:
        raise RuntimeError(f"downloaded only {downloaded} bytes")
    total = downloaded
    archival_rate = total / archived_s / 2**20
    download_rate = total / download_s / 2**20
    label = f"{size.label} × {size.files}"
    return [
        Figure(f"{label}: archival throughput", archival_rate, "MB/s"),
        Figure(f"{label}: plain download throughput", download_rate, "MB/s"),
        Figure(f"{label}: archival / download", archival_rate / download_rate, "×", ratio_target),
        Figure(f"{label}: aipaint RSS increase", rss.increase / 2**20, "MB", Target("<", 64)),
    ]


class _RssSampler:
    """The peak RSS of a process while the block runs, over its RSS when the block begins."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.increase = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss", daemon=True)

    def __enter__(self) -> _RssSampler:
        self._before = rss_bytes(self.pid)
        self._peak = self._before
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.increase = self._peak - self._before

    def _run(self) -> None:
        while not self._stop.wait(RSS_SAMPLE_S):
            self._peak = max(self._peak, rss_bytes(self.pid))


def _wait_succeeded(server: Server, ends_at: dict[str, float]) -> float:
    """The last `finished_at` (Unix time) once every task is final; all must have succeeded."""
    deadline = max(ends_at.values()) + FINISH_LIMIT_S
    while True:
        # Seldom: listing every task costs the server CPU that archival would otherwise use.
        # The time measured is the tasks' own `finished_at`, not when this loop notices.
        time.sleep(1.0)
        tasks = final_tasks(server.url, server.token)
        if len(tasks) == len(ends_at):
            failed = [task_id for task_id, (status, _) in tasks.items() if status != "succeeded"]
            if failed:
                raise RuntimeError(f"{len(failed)} tasks were not archived, e.g. {failed[0]}")
            return max(at for _, at in tasks.values())
        if time.time() > deadline:
            raise RuntimeError(f"{len(ends_at) - len(tasks)} tasks unfinished after the deadline")


def _result_urls(sim: Simulator, upstream_ids: list[str]) -> list[str]:
    headers = {"Authorization": f"Bearer {sim.key}"}
    with httpx.Client(base_url=sim.url, headers=headers, timeout=30) as client:
        return [
            client.post("/openapi/v2/query", json={"taskId": task_id}).json()["results"][0]["url"]
            for task_id in upstream_ids
        ]


async def _download_all(urls: list[str]) -> tuple[float, int]:
    """Seconds to download every URL, CONCURRENCY at a time, and the bytes received."""
    queue = list(reversed(urls))
    received = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal received
        while queue:
            url = queue.pop()
            async with client.stream("GET", url) as response:
                response.raise_for_status()
                async for chunk in response.aiter_bytes():
                    received += len(chunk)

    async with httpx.AsyncClient(timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))
        return time.perf_counter() - started, received
