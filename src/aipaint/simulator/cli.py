"""`aipaint simulator`: RunningHub's OpenAPI v2, simulated, as a standalone server."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from aipaint.catalog.paths import MODELS_DIR
from aipaint.simulator.settings import DEMO_KEY, Account, Faults, KeyType, SimulatorSettings

_RATE = {"min": 0.0, "max": 1.0}


def simulator(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8100,
    key: Annotated[
        list[str] | None,
        typer.Option(
            help="An API key the simulator accepts, as KEY or KEY:TYPE (TYPE: SHARED, the only "
            "kind allowed on standard models; EXCLUSIVE; NORMAL, refused with 1014). Repeatable. "
            f"Default: {DEMO_KEY}"
        ),
    ] = None,
    balance: Annotated[
        str, typer.Option(help="Wallet of each key in CNY; submits past it fail with 416")
    ] = "1000000",
    concurrency: Annotated[
        int, typer.Option(min=1, help="Tasks in flight per key; more are refused with 421")
    ] = 50,
    speed: Annotated[
        float,
        typer.Option(min=0.0001, help="Time factor: 1 = RunningHub's pace, 1000 = 1000x faster"),
    ] = 1.0,
    result_ttl: Annotated[
        float, typer.Option(help="Seconds a result link works (RunningHub: 24 h)")
    ] = 86400,
    upload_ttl: Annotated[float, typer.Option(help="Seconds an upload link works (1 day)")] = 86400,
    upload_max_mb: Annotated[float, typer.Option(help="Upload size limit; above it: 809")] = 30,
    output_pad_mb: Annotated[
        float, typer.Option(help="Pad every output file to this size (benchmarks)")
    ] = 0,
    public_url: Annotated[
        str | None, typer.Option(help="Base URL of result links (default: the request's own)")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed, for reproducible runs")] = None,
    webhook_attempts: Annotated[int, typer.Option(min=1, help="Deliveries tried per webhook")] = 4,
    webhook_timeout: Annotated[float, typer.Option(help="Seconds a receiver may take")] = 5,
    webhook_backoff: Annotated[
        float, typer.Option(help="First webhook retry delay in seconds, doubled each retry")
    ] = 2,
    webhook_format: Annotated[
        str, typer.Option(help="eventData shape: outputs (documented) or query (v2 query body)")
    ] = "outputs",
    fault_5xx: Annotated[float, typer.Option(**_RATE, help="Rate of HTTP 500/502/503")] = 0,
    fault_429: Annotated[float, typer.Option(**_RATE, help="Rate of HTTP 429")] = 0,
    retry_after: Annotated[float, typer.Option(help="Retry-After seconds of injected 429s")] = 1,
    latency_ms: Annotated[float, typer.Option(help="Extra latency, uniform in [0, this]")] = 0,
    fault_drop: Annotated[
        float, typer.Option(**_RATE, help="Rate of connections closed before handling")
    ] = 0,
    fault_drop_after: Annotated[
        float,
        typer.Option(**_RATE, help="Rate of requests handled (tasks created) whose answer is lost"),
    ] = 0,
    fault_failed: Annotated[float, typer.Option(**_RATE, help="Rate of tasks ending FAILED")] = 0,
    fault_moderation: Annotated[
        float, typer.Option(**_RATE, help="Rate of submits refused by moderation (1501)")
    ] = 0,
    fault_stuck: Annotated[float, typer.Option(**_RATE, help="Rate of tasks that never end")] = 0,
    fault_instant: Annotated[
        float, typer.Option(**_RATE, help="Rate of submits answered SUCCESS at once")
    ] = 0,
    webhook_drop: Annotated[float, typer.Option(**_RATE, help="Rate of webhooks never sent")] = 0,
    webhook_duplicate: Annotated[
        float, typer.Option(**_RATE, help="Rate of webhooks sent twice")
    ] = 0,
    webhook_delay: Annotated[
        float, typer.Option(help="Webhooks late by up to this many seconds (reorders them)")
    ] = 0,
    catalog_dir: Annotated[
        Path | None, typer.Option(help="Catalog the simulated endpoints come from")
    ] = None,
) -> None:
    """Serve a simulated RunningHub OpenAPI v2 (tasks, real output files, webhooks, faults).

    Control routes outside /openapi: /simulator/stats, /simulator/requests,
    /simulator/tasks (GET; POST puts tasks in flight without submits, for benchmarks),
    /simulator/tasks/{id}, /simulator/faults (GET, PUT), /simulator/faults/script.
    """
    import uvicorn

    from aipaint.simulator.app import create_simulator_app

    accounts = {}
    for entry in key or [DEMO_KEY]:
        name, _, kind = entry.partition(":")
        try:
            key_type = KeyType(kind.upper() or "SHARED")
        except ValueError:
            raise typer.BadParameter(f"unknown key type {kind!r}", param_hint="--key") from None
        accounts[name] = Account(type=key_type, balance=Decimal(balance))
    settings = SimulatorSettings(
        accounts=accounts,
        concurrency_limit=concurrency,
        speed=speed,
        result_ttl_s=result_ttl,
        upload_ttl_s=upload_ttl,
        upload_max_mb=upload_max_mb,
        output_pad_mb=output_pad_mb,
        public_url=public_url,
        seed=seed,
        webhook_attempts=webhook_attempts,
        webhook_timeout_s=webhook_timeout,
        webhook_backoff_s=webhook_backoff,
        webhook_format=webhook_format,
        catalog_dir=catalog_dir or MODELS_DIR,
        faults=Faults(
            http_5xx_rate=fault_5xx,
            http_429_rate=fault_429,
            retry_after_s=retry_after,
            latency_ms=latency_ms,
            drop_rate=fault_drop,
            drop_after_rate=fault_drop_after,
            failed_rate=fault_failed,
            moderation_rate=fault_moderation,
            stuck_rate=fault_stuck,
            instant_rate=fault_instant,
            webhook_drop_rate=webhook_drop,
            webhook_duplicate_rate=webhook_duplicate,
            webhook_delay_s=webhook_delay,
        ),
    )
    typer.echo(f"RunningHub simulator on http://{host}:{port} (keys: {', '.join(accounts)})")
    # Idle connections stay open 75 s, as behind nginx's default, not uvicorn's 5 s: a client
    # reusing one the server just closed cannot tell whether its submit arrived.
    uvicorn.run(
        create_simulator_app(settings),
        host=host,
        port=port,
        log_level="warning",
        timeout_keep_alive=75,
    )
