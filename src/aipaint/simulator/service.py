"""The simulated RunningHub account: submit, query, results, uploads, prices, as RunningHub does."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import uuid
from decimal import Decimal
from typing import Any

from aipaint.catalog.errors import ModelNotFound
from aipaint.catalog.estimates import estimate
from aipaint.catalog.service import Catalog
from aipaint.catalog.validation import validate_params
from aipaint.simulator import wire
from aipaint.simulator.faults import FaultInjector
from aipaint.simulator.outputs import text_output
from aipaint.simulator.settings import KeyType
from aipaint.simulator.state import FINAL, SimTask, SimulatorState, Upload
from aipaint.simulator.webhooks import WebhookDispatcher

_EXTENSIONS = {"image": "png", "video": "mp4", "audio": "mp3", "3d": "glb"}
_COUNT_PARAMS = ("n", "maxImages", "numImages", "numberOfImages", "imageCount")
_MAX_OUTPUTS = 4
# What a task costs when RunningHub publishes no price for its model.
_FALLBACK_PRICE = Decimal("0.1")


class Rejected(Exception):
    """A call RunningHub refuses with one of its error codes."""

    def __init__(self, error: tuple[str, str], detail: str | None = None) -> None:
        super().__init__(error[1])
        self.error = error
        self.detail = detail


class Simulator:
    def __init__(self, state: SimulatorState, catalog: Catalog) -> None:
        self.state = state
        self.catalog = catalog
        self.injector = FaultInjector(state)
        self.webhooks = WebhookDispatcher(state, self.event_data)
        # Signs result and upload links, as RunningHub's object storage signs its URLs.
        self.secret = secrets.token_bytes(32)

    # --- accounts -------------------------------------------------------------------------------

    def authenticate(self, authorization: str | None, *, standard_model: bool) -> str:
        scheme, _, key = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or key.strip() not in self.state.accounts:
            raise Rejected(wire.INVALID_KEY)
        key = key.strip()
        if standard_model and self.state.accounts[key].type is not KeyType.SHARED:
            raise Rejected(wire.NOT_ENTERPRISE)
        return key

    # --- tasks ----------------------------------------------------------------------------------

    def submit(self, key: str, model_id: str, body: Any, base_url: str) -> dict[str, Any]:
        state = self.state
        try:
            spec = self.catalog.get(model_id)
        except ModelNotFound:
            raise Rejected(wire.INVALID_URL, model_id) from None
        if not isinstance(body, dict):
            raise Rejected(wire.INVALID_PARAMS, "the body must be a JSON object")
        params = dict(body)
        webhook_url = params.pop("webhookUrl", None)
        errors = validate_params(spec, params)
        if errors:
            first = errors[0]
            raise Rejected(wire.INVALID_PARAMS, f"{first.param}: {first.message('en')}")
        faults = state.settings.faults
        if state.roll(faults.moderation_rate):
            self.injector.count("moderation", model=model_id)
            raise Rejected(wire.MODERATION)
        if len(state.active_tasks(key)) >= state.limit(key):
            raise Rejected(wire.QUEUE_MAXED)
        price = self._price(spec.id, params)
        account = state.accounts[key]
        if account.balance < price:
            raise Rejected(wire.NO_WALLET)
        account.balance -= price
        task = self._new_task(key, spec.id, spec.output_type, params, webhook_url, price, base_url)
        state.tasks[task.id] = task
        state.submits_by_key[key] += 1
        active = len(state.active_tasks(key))
        state.peak_active_by_key[key] = max(state.peak_active_by_key[key], active)
        self.webhooks.schedule(task)
        # The answer tells the status at acceptance, however long building it took.
        return self.task_body(task, at=task.created_at)

    def seed(
        self,
        key: str,
        model_id: str,
        params: dict[str, Any],
        run_s: tuple[float, float],
        webhook_urls: list[str | None],
        base_url: str,
    ) -> list[SimTask]:
        """Tasks that start running now and last `run_s` (nominal, uniform), one per webhook URL.

        Not a RunningHub call: benchmarks put thousands of tasks in flight at once this way,
        without paying for thousands of submits first. Nothing is charged or counted as a submit;
        every other behaviour (status over time, results, webhooks) is a submitted task's.
        """
        state = self.state
        if key not in state.accounts:
            raise Rejected(wire.INVALID_KEY)
        try:
            spec = self.catalog.get(model_id)
        except ModelNotFound:
            raise Rejected(wire.INVALID_URL, model_id) from None
        now = state.clock()
        low, high = run_s
        tasks = []
        for webhook_url in webhook_urls:
            run = state.random.uniform(low, high)
            task = SimTask(
                id=state.next_task_id(),
                key=key,
                model_id=spec.id,
                output_type=spec.output_type,
                params=dict(params),
                webhook_url=webhook_url,
                base_url=state.settings.public_url or base_url,
                created_at=now,
                starts_at=now,
                ends_at=now + state.scaled(run),
                failed=False,
                seed=state.random.randrange(2**31),
                price=Decimal(0),
                run_seconds=run,
            )
            state.tasks[task.id] = task
            self.webhooks.schedule(task)
            tasks.append(task)
        state.seeded_by_key[key] += len(tasks)
        return tasks

    def _price(self, model_id: str, params: dict[str, Any]) -> Decimal:
        result = estimate(self.catalog.get(model_id), params)
        return Decimal(result.total) if result.total else _FALLBACK_PRICE

    def _new_task(
        self,
        key: str,
        model_id: str,
        output_type: str,
        params: dict[str, Any],
        webhook_url: str | None,
        price: Decimal,
        base_url: str,
    ) -> SimTask:
        state, faults = self.state, self.state.settings.faults
        now = state.clock()
        queue_s, run_s = state.schedule(output_type)
        starts_at = now + state.scaled(queue_s)
        ends_at: float | None = starts_at + state.scaled(run_s)
        injected: list[str] = []
        if state.roll(faults.instant_rate):
            starts_at = ends_at = now
            injected.append("instant")
        elif state.roll(faults.stuck_rate):
            ends_at = None
            injected.append("stuck")
        failed = ends_at is not None and state.roll(faults.failed_rate)
        if failed:
            injected.append("failed")
        task = SimTask(
            id=state.next_task_id(),
            key=key,
            model_id=model_id,
            output_type=output_type,
            params=params,
            webhook_url=webhook_url if isinstance(webhook_url, str) else None,
            base_url=state.settings.public_url or base_url,
            created_at=now,
            starts_at=starts_at,
            ends_at=ends_at,
            failed=failed,
            seed=state.random.randrange(2**31),
            price=price,
            run_seconds=run_s,
            faults=injected,
        )
        for fault in injected:
            self.injector.count(fault, task_id=task.id, model=model_id)
        return task

    def find(self, key: str, task_id: Any) -> SimTask:
        task = self.state.tasks.get(str(task_id)) if task_id else None
        if task is None or task.key != key:
            raise Rejected(wire.TASK_NOT_FOUND)
        return task

    def task_body(self, task: SimTask, at: float | None = None) -> dict[str, Any]:
        now = self.state.clock() if at is None else at
        return wire.task_body(task, now, self.results(task), uuid.uuid4().hex)

    def query_body(self, task: SimTask) -> dict[str, Any]:
        body = self.task_body(task)
        final = body["status"] in FINAL
        body["failedReason"] = wire.failed_reason(task) if body["status"] == "FAILED" else {}
        body["usage"] = wire.usage(task, final)
        return body

    def results(self, task: SimTask) -> list[dict[str, Any]]:
        if task.output_type == "text":
            text = text_output(task.params, seed=task.seed)
            return [{"url": None, "nodeId": "9", "outputType": "txt", "text": text}]
        extension = _EXTENSIONS.get(task.output_type, "png")
        count = 1
        if task.output_type == "image":
            wanted = next((task.params[k] for k in _COUNT_PARAMS if k in task.params), 1)
            count = max(1, min(_MAX_OUTPUTS, int(wanted) if str(wanted).isdigit() else 1))
        assert task.ends_at is not None or task.status(self.state.clock()) != "SUCCESS"
        expires = math.ceil((task.ends_at or 0) + self.state.settings.result_ttl_s)
        return [
            {
                "url": self.signed_url(
                    task.base_url, f"files/{task.id}/{index}.{extension}", expires
                ),
                "nodeId": "9",
                "outputType": extension,
                "text": None,
            }
            for index in range(count)
        ]

    def event_data(self, task: SimTask) -> dict[str, Any]:
        """The eventData of a task's webhook: /outputs shape (documented) or the v2 query shape."""
        if self.state.settings.webhook_format == "query":
            return self.query_body(task)
        if task.failed:
            return {
                "code": 805,
                "msg": "APIKEY_TASK_STATUS_ERROR",
                "data": {"failedReason": wire.failed_reason(task)},
            }
        return {
            "code": 0,
            "msg": "success",
            "data": [
                {
                    "fileUrl": result["url"],
                    "fileType": result["outputType"],
                    "text": result["text"],
                    "taskCostTime": str(round(task.run_seconds)),
                    "nodeId": result["nodeId"],
                    "consumeMoney": f"{task.price:.3f}",
                }
                for result in self.results(task)
            ],
        }

    # --- signed links ---------------------------------------------------------------------------

    def signed_url(self, base: str, path: str, expires: int) -> str:
        return (
            f"{base.rstrip('/')}/simulator/{path}?expires={expires}&sig={self.sign(path, expires)}"
        )

    def sign(self, path: str, expires: int) -> str:
        return hmac.new(self.secret, f"{path}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def link_valid(self, path: str, expires: int, signature: str) -> bool:
        return hmac.compare_digest(self.sign(path, expires), signature)

    # --- uploads --------------------------------------------------------------------------------

    def upload(
        self, data: bytes, filename: str, content_type: str, base_url: str
    ) -> dict[str, Any]:
        state = self.state
        if len(data) > state.settings.upload_max_mb * 1024 * 1024:
            raise Rejected((str(wire.FILE_TOO_LARGE[0]), wire.FILE_TOO_LARGE[1]))
        digest = hashlib.sha256(data).hexdigest()
        extension = (filename.rsplit(".", 1)[-1] if "." in filename else "bin").lower()
        name = f"{digest}.{extension}"
        expires = math.ceil(state.clock() + state.settings.upload_ttl_s)
        state.uploads[name] = Upload(data, content_type, expires)
        base = state.settings.public_url or base_url
        kind = content_type.split("/", 1)[0]
        return {
            "type": kind if kind in ("image", "video", "audio") else "file",
            "download_url": self.signed_url(base, f"media/{name}", expires),
            "fileName": f"openapi/{name}",
            "size": str(len(data)),
        }

    def queue_status(self, key: str) -> dict[str, Any]:
        now = self.state.clock()
        active = self.state.active_tasks(key)
        running = sum(1 for task in active if task.status(now) == "RUNNING")
        return {
            "apiKeyType": self.state.accounts[key].type.value,
            "concurrentLimit": self.state.limit(key),
            "runningCount": str(running),
            "queuedCount": str(len(active) - running),
            "totalCurrentTasks": str(len(active)),
        }

    def price_preview(self, model_id: str, body: Any) -> dict[str, Any]:
        try:
            spec = self.catalog.get(model_id)
        except ModelNotFound:
            raise Rejected(wire.INVALID_URL, model_id) from None
        params = dict((body if isinstance(body, dict) else {}).items())
        params.pop("webhookUrl", None)
        errors = validate_params(spec, params)
        if errors:
            raise Rejected(wire.INVALID_PARAMS, f"{errors[0].param}: {errors[0].message('en')}")
        result = estimate(spec, params)
        price = Decimal(result.total) if result.total else None
        return {
            "errorCode": "",
            "errorMessage": "",
            "estimatedPrice": None if price is None else float(price),
            "currency": "CNY",
            "priceText": "暂无定价" if price is None else f"¥{price}",
            "priceTextEn": "No price published" if price is None else f"CNY {price}",
            "freeLimit": False,
            "freeLimitCount": 0,
            "remainingFreeLimitCount": 0,
            "isFreeThisCall": False,
        }

    def account_status(self, key: str) -> dict[str, Any]:
        account = self.state.accounts[key]
        return {
            "remainCoins": str(account.coins),
            "currentTaskCounts": str(len(self.state.active_tasks(key))),
            "remainMoney": f"{account.balance:.2f}",
            "currency": "CNY",
            "apiType": account.type.value,
        }
