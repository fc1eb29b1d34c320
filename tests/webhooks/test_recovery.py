"""No delivery is lost to a crash: the receiver is down while aipaint is SIGKILLed, and every
delivery still arrives after the restart (the worker's sweep finds them in the database)."""

from __future__ import annotations

import time
from pathlib import Path

from aipaint.kit.background_server import free_port
from tests.stacks import server, simulator, wait_all_final
from tests.support import LTX, LTX_PARAMS
from tests.webhooks.support import Receiver, events

TASKS = 6


def test_a_receiver_down_across_a_sigkill_still_gets_every_delivery(tmp_path: Path) -> None:
    port = free_port()
    hooks = {
        "AIPAINT_TRUSTED_HOSTS": f'["127.0.0.1:{port}"]',
        # Retries every second or so for long enough to outlast the crash.
        "AIPAINT_WEBHOOK_RETRY_SCHEDULE_S": "[0" + ", 1" * 60 + "]",
    }
    with (
        simulator(tmp_path) as sim,
        server(tmp_path, sim, webhooks=True, variables=hooks) as aipaint,
    ):
        receiver = Receiver(tmp_path, port=port)
        with aipaint.http() as http:
            receiver.trust(http.get("/v1/webhooks/secret").json()["key"])
            body = {"model": LTX, "params": LTX_PARAMS, "webhook_url": receiver.url}
            ids = [http.post("/v1/tasks", json=body).json()["id"] for _ in range(TASKS)]
            wait_all_final(http, ids)
            deadline = time.monotonic() + 30
            while not all(
                d["attempts"]
                for task_id in ids
                for d in http.get(f"/v1/tasks/{task_id}/deliveries").json()["deliveries"]
            ):
                assert time.monotonic() < deadline
                time.sleep(0.1)
        aipaint.kill()
        receiver.start()
        try:
            time.sleep(1.5)
            assert receiver.requests() == []  # nothing runs while aipaint is down
            aipaint.start()
            seen = receiver.wait(lambda seen: len(events(seen)) >= TASKS, timeout=60)
            assert set(events(seen)) == {(task_id, "task.succeeded") for task_id in ids}
            assert all(request["verified"] == [True] for request in seen)
        finally:
            receiver.kill()
