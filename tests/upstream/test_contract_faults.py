"""200 tasks over 24 models through a faulty simulator: the client classifies every answer right.

Faults on: 10% HTTP 5xx and 10% HTTP 429 on every call, 10% of tasks FAILED, 5% of webhooks
dropped. The simulator's request log is the ground truth each classification is checked against.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest

from aipaint.catalog.examples import sample_params
from aipaint.catalog.service import Catalog
from aipaint.simulator.app import SimulatorServer
from aipaint.simulator.settings import DEMO_KEY, Account, Faults, SimulatorSettings
from aipaint.upstream import (
    RateLimited,
    RetryPolicy,
    RunningHubClient,
    SubmitUncertain,
    TaskState,
    UpstreamStatus,
)
from tests.simulator.conftest import Receiver

pytestmark = pytest.mark.anyio

TASKS = 200
MODELS_PER_TYPE = {"image": 8, "video": 8, "audio": 3, "text": 3, "3d": 2}


def pick_models(catalog: Catalog) -> list[str]:
    chosen: list[str] = []
    for output_type, count in MODELS_PER_TYPE.items():
        fitting = [
            spec.id
            for spec in catalog.search()
            if spec.output_type == output_type and spec.params_published and not spec.deprecated
        ]
        chosen += fitting[:: max(1, len(fitting) // count)][:count]
    return chosen


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    with hook.server:
        yield hook


@pytest.fixture(scope="module")
def faulty(catalog: Catalog) -> Iterator[SimulatorServer]:
    faults = Faults(
        http_5xx_rate=0.1,
        http_429_rate=0.1,
        retry_after_s=0,
        failed_rate=0.1,
        webhook_drop_rate=0.05,
    )
    settings = SimulatorSettings(
        accounts={DEMO_KEY: Account(concurrency_limit=1000)}, speed=1000, seed=11, faults=faults
    )
    with SimulatorServer(settings, catalog=catalog) as server:
        yield server


async def test_every_answer_is_classified_correctly(
    catalog: Catalog, faulty: SimulatorServer, receiver: Receiver
) -> None:
    models = pick_models(catalog)
    assert len(models) >= 20
    # Queries retry 5xx and 429; at 20% faults per call, eight attempts make a spurious failure
    # of the test (0.2^8 per query) negligible.
    retry = RetryPolicy(attempts=8, base=0.001, cap=0.01)
    outcomes: list[tuple[str, str | None]] = []  # (classification, task id)
    async with RunningHubClient(faulty.url, DEMO_KEY, retry=retry) as client:
        for index in range(TASKS):
            spec = catalog.get(models[index % len(models)])
            try:
                accepted = await client.submit(
                    spec.id, sample_params(spec), webhook_url=receiver.url
                )
            except SubmitUncertain:
                outcomes.append(("uncertain", None))
            except RateLimited:
                outcomes.append(("rate_limited", None))
            else:
                outcomes.append(("accepted", accepted.task_id))

        # Ground truth: the simulator's log of the submit calls, in the order they came.
        log = httpx.get(f"{faulty.url}/simulator/requests").json()["requests"]
        truth = [entry for entry in log if entry["call"] == "submit"]
        assert len(truth) == TASKS  # every submit was sent exactly once: no retries
        expected = {None: "accepted", "5xx": "uncertain", "429": "rate_limited"}
        for (classified, task_id), entry in zip(outcomes, truth, strict=True):
            assert classified == expected[entry["fault"]], entry
            assert task_id == entry.get("task_id")

        accepted_ids = [task_id for kind, task_id in outcomes if task_id is not None]
        states = await _finish_all(client, accepted_ids)

    counts = Counter(kind for kind, _ in outcomes)
    assert counts["uncertain"]
    assert counts["rate_limited"]
    assert counts["accepted"] >= TASKS // 2
    stats = httpx.get(f"{faulty.url}/simulator/stats").json()
    assert stats["submits"] == len(accepted_ids)

    failed_upstream = {
        task_id for task_id in accepted_ids if "failed" in _truth(faulty, task_id)["faults"]
    }
    assert failed_upstream
    for task_id, state in states.items():
        if task_id in failed_upstream:
            assert (state.status, state.error_code) == (UpstreamStatus.FAILED, "1015")
        else:
            assert state.status is UpstreamStatus.SUCCEEDED
            assert state.results

    dropped = {t for t in accepted_ids if "webhook_dropped" in _truth(faulty, t)["faults"]}
    assert dropped
    heard = _wait_for_webhooks(receiver, set(accepted_ids) - dropped)
    assert heard == set(accepted_ids) - dropped


async def _finish_all(client: RunningHubClient, task_ids: list[str]) -> dict[str, TaskState]:
    states: dict[str, TaskState] = {}
    with anyio.fail_after(60):
        while len(states) < len(task_ids):
            for task_id in task_ids:
                if task_id not in states:
                    state = await client.query(task_id)
                    if state.status.is_terminal:
                        states[task_id] = state
            await anyio.sleep(0.05)
    return states


def _truth(sim: SimulatorServer, task_id: str) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(f"{sim.url}/simulator/tasks/{task_id}").json()
    return body


def _wait_for_webhooks(receiver: Receiver, wanted: set[str], timeout: float = 10) -> set[str]:
    deadline = time.monotonic() + timeout
    while True:
        heard = {str(body["taskId"]) for body in receiver.bodies}
        if heard >= wanted or time.monotonic() > deadline:
            return heard
        time.sleep(0.05)
