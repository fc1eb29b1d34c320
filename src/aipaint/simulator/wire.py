"""RunningHub's answer shapes, as documented.

v2 bodies carry errorCode / errorMessage and no `code`; the admin endpoints use the
`{code, msg | message, data}` envelope.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse

from aipaint.simulator.state import SimTask

# RunningHub error codes the simulator answers with (facts table, runninghub_facts.md §4).
INVALID_URL = ("1001", "Invalid URL")
INVALID_KEY = ("1002", "Invalid API Key")
TASK_NOT_FOUND = ("1004", "Task not found / expired")
INVALID_PARAMS = ("1007", "Invalid parameters")
NOT_ENTERPRISE = (
    "1014",
    "Access Denied: Standard Model API is restricted to Enterprise-Shared API Keys only",
)
GENERATION_FAILED = ("1015", "Generation failed, try again")
MODERATION = ("1501", "Content verification failed")
QUEUE_MAXED = ("421", "TASK_QUEUE_MAXED")
NO_WALLET = ("416", "TASK_CREATE_FAILED_BY_NOT_ENOUGH_WALLET")
FILE_TOO_LARGE = (809, "APIKEY_FILE_SIZE_EXCEEDED")
UNAUTHORIZED = (802, "APIKEY_UNAUTHORIZED")

PROMPT_TIPS = json.dumps(
    {"result": True, "error": None, "outputs_to_execute": ["9"], "node_errors": {}}
)


def v2_error(error: tuple[str, str], detail: str | None = None, status: int = 200) -> JSONResponse:
    """A rejected v2 call: HTTP 200 (usually) with errorCode / errorMessage and an empty task."""
    code, message = error
    body = {
        "taskId": "",
        "status": "",
        "errorCode": code,
        "errorMessage": f"{message}: {detail}" if detail else message,
        "results": None,
        "clientId": "",
        "promptTips": "",
    }
    return JSONResponse(body, status_code=status)


def envelope(code: int, message: str, data: Any, message_field: str = "msg") -> JSONResponse:
    return JSONResponse({"code": code, message_field: message, "data": data})


def task_body(
    task: SimTask, now: float, results: list[dict[str, Any]] | None, client_id: str
) -> dict[str, Any]:
    """A task as submit and query answer it (query adds failedReason and usage)."""
    status = task.status(now)
    failed = status == "FAILED"
    return {
        "taskId": task.id,
        "status": status,
        "errorCode": GENERATION_FAILED[0] if failed else "",
        "errorMessage": GENERATION_FAILED[1] if failed else "",
        "results": results if status == "SUCCESS" else None,
        "clientId": client_id,
        "promptTips": PROMPT_TIPS,
    }


def failed_reason(task: SimTask) -> dict[str, Any]:
    return {
        "node_id": "9",
        "node_name": "RHSimulatedSampler",
        "exception_type": "torch.OutOfMemoryError",
        "exception_message": "Allocation on device failed (simulated failure)",
        "traceback": ["simulated: no traceback"],
        "current_inputs": {},
        "current_outputs": {},
    }


def usage(task: SimTask, final: bool) -> dict[str, Any]:
    if not final:
        return {
            "consumeMoney": None,
            "consumeCoins": None,
            "taskCostTime": "0",
            "thirdPartyConsumeMoney": None,
        }
    return {
        "consumeMoney": f"{task.price:.3f}",
        "consumeCoins": "0",
        "taskCostTime": str(round(task.run_seconds)),
        "thirdPartyConsumeMoney": None,
    }
