"""auroractl webhooks: events from database changes, delivered by a dispatcher."""

from __future__ import annotations

from typing import Annotated

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands import _options as opt

app = opt.group("Webhooks from database events: outbox, subscriptions, dispatcher.")


@app.command()
def install(
    dry_run: opt.DryRunOpt = False, yes: opt.YesOpt = False, fmt: opt.ChangeFormatOpt = opt.TEXT
) -> None:
    """Create the outbox (webhook_events), subscriptions and criar_webhook_event().

    Example:
        auroractl webhooks install --yes
    """
    from auroractl.ops import webhooks as ops

    with _context.connect() as conn:
        output.result(_context.apply(conn, ops.plan_install(conn), dry_run, yes))


OnOpt = Annotated[
    list[str] | None,
    typer.Option("--on", help="insert / update / delete (repeatable; default insert)."),
]
SecretEnvOpt = Annotated[
    str | None,
    typer.Option("--secret-env", help="Environment variable holding the HMAC signing secret."),
]
IncludePersonalOpt = Annotated[
    bool, typer.Option("--include-personal", help="Keep personal-data columns in payloads.")
]


@app.command()
def subscribe(
    event: Annotated[str, typer.Argument(help="Event type, e.g. novo_aluno.")],
    url: Annotated[str, typer.Option("--url", help="Endpoint receiving POSTs.")],
    table_arg: opt.TableArg = None,
    table: opt.TableOpt = None,
    on: OnOpt = None,
    secret_env: SecretEnvOpt = None,
    include_personal: IncludePersonalOpt = False,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Attach the outbox trigger to a table (whose changes emit the event) and store the
    subscription (idempotent).

    Payload: event, table, operation, timestamp and the row as JSON, without the table's
    personal-data columns in the data map (exit 3 without one) unless --include-personal.
    The secret stays out of the database: only the name of the environment variable the
    dispatcher reads is stored.

    Example:
        auroractl webhooks subscribe novo_aluno --table alunos --on insert \\
            --url https://hooks.example/alunos --secret-env HOOK_SECRET --yes
    """
    from auroractl.ops import webhooks as ops

    ops.check_url(url)  # before connecting
    personal = {} if include_personal else _personal()
    ops_list = [o for item in on or ["insert"] for o in item.split(",") if o]
    with _context.connect() as conn:
        plan = ops.plan_subscribe(
            conn,
            event,
            opt.table_name(table_arg, table),
            ops_list,
            url,
            secret_env,
            include_personal,
            personal,
        )
        output.result(_context.apply(conn, plan, dry_run, yes))


def _personal() -> dict[str, tuple[str, ...]]:
    """Personal columns per table: the data map's (on the sandbox without one, the demo's)."""
    from auroractl.commands import _defaults
    from auroractl.errors import InvalidInput

    if "exclude_columns" in _context.settings().section("webhooks"):
        raise InvalidInput(
            "[webhooks] exclude_columns is no longer read: the data map names each "
            "table's personal columns; move them into it and remove the key",
            hint="auroractl map propose",
        )
    return _defaults.data_map().personal_by_table()


@app.command()
def dispatch(
    once: Annotated[
        bool, typer.Option("--once/--loop", help="Drain due events and exit, or keep polling.")
    ] = True,
    batch: Annotated[int, typer.Option("--batch", help="Events claimed per round.")] = 50,
    concurrency: Annotated[int, typer.Option("--concurrency", help="Parallel POSTs.")] = 4,
    lease: Annotated[float, typer.Option("--lease", help="Seconds a claim lasts.")] = 60.0,
    max_attempts: Annotated[int, typer.Option("--max-attempts", help="Then: failed.")] = 8,
    base_backoff: Annotated[
        float,
        typer.Option("--base-backoff", help="First retry delay, seconds (doubles, with jitter)."),
    ] = 5.0,
    timeout: Annotated[float, typer.Option("--timeout", help="Read timeout, seconds.")] = 15.0,
    fmt: opt.FormatOpt = opt.TABLE,
) -> None:
    """Deliver due events (a worker for cron or a service manager; asks for no --yes).

    Several dispatchers may run at once. Ctrl-C / SIGTERM finish the in-flight batch and
    exit cleanly; a dispatcher killed mid-delivery leaves its events to be sent again
    after --lease seconds (same Idempotency-Key).

    Example:
        auroractl webhooks dispatch --loop --batch 100 --concurrency 8
    """
    import signal
    import threading

    from auroractl.ops import webhooks as ops

    stop = threading.Event()

    def request_stop(signum, frame):  # type: ignore[no-untyped-def]
        output.info("Stopping after the in-flight batch...")
        stop.set()

    settings = ops.DispatchSettings(
        batch=batch,
        concurrency=concurrency,
        lease_s=lease,
        max_attempts=max_attempts,
        base_backoff_s=base_backoff,
        read_timeout_s=timeout,
    )
    settings.check()  # before connecting
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with _context.connect() as conn:
            report = ops.dispatch(conn, settings, loop=not once, stop=stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    listing = output.to_jsonable(report)
    output.result(
        report,
        table=lambda: output.pairs(listing, "table"),
        rows=[{"key": k, "value": v} for k, v in listing.items()],
    )


@app.command()
def status(fmt: opt.FormatOpt = opt.TABLE) -> None:
    """Events by type and status, oldest pending age, failure reasons, and subscriptions
    that cannot fire (their table gone or its trigger missing).

    Example:
        auroractl webhooks status --format json
    """
    from auroractl.ops import webhooks as ops

    with _context.connect() as conn:
        counts, failures, subs = ops.status(conn)
    broken = [s for s in subs if s.problem]
    for s in broken:
        output.warn(f"subscription {s.id} ({s.event_type} on {s.table}): {s.problem}")

    def tables() -> None:
        output.render(counts, "table", title="webhook_events")
        if failures:
            output.render(failures, "table", title="failure reasons")
        if subs:
            output.render(subs, "table", title="subscriptions")

    output.result(
        {"events": counts, "failures": failures, "subscriptions": subs}, table=tables, rows=counts
    )


@app.command()
def retry(
    failed: Annotated[bool, typer.Option("--failed", help="Re-queue dead letters.")] = False,
    event_id: Annotated[int | None, typer.Option("--id", help="Only this event.")] = None,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Re-queue failed events (dead letters) for delivery (needs --yes or a confirmation).

    Example:
        auroractl webhooks retry --failed --id 42 --yes
    """
    from auroractl.errors import InvalidInput
    from auroractl.ops import webhooks as ops

    if not failed:
        raise InvalidInput("say what to retry: --failed [--id N]")
    with _context.connect() as conn:
        output.result(_context.apply(conn, ops.retry_job(conn, event_id), dry_run, yes))
