"""Webhooks from database events: a transactional outbox and its dispatcher.

Triggers write events into ``webhook_events`` in the same transaction as the change.
Dispatchers claim due events with ``FOR UPDATE SKIP LOCKED`` under a lease, POST them
with an HMAC-SHA256 signature and settle each attempt: delivered, or retried with
exponential backoff and jitter until ``max_attempts`` (then ``failed``, a dead letter).
Delivery is at-least-once: a dispatcher killed after POSTing but before settling leaves
the event to be sent again when its lease expires, with the same idempotency key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from auroractl import templates
from auroractl.errors import InvalidInput, NotFound, Precondition
from auroractl.ops.shared.objects import CIPHERTEXT_SUFFIX
from auroractl.plan import Job, JobResult, Plan, Progress, Step

if TYPE_CHECKING:
    import psycopg

OPERATIONS = ("insert", "update", "delete")
SIGNATURE_HEADER = "X-Auroractl-Signature"


@dataclass(frozen=True)
class DispatchSettings:
    batch: int = 50
    concurrency: int = 4
    lease_s: float = 60.0
    max_attempts: int = 8
    base_backoff_s: float = 5.0
    max_backoff_s: float = 3600.0
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 15.0

    # name -> (the option, lowest, highest): each value within stated bounds.
    BOUNDS: ClassVar[dict[str, tuple[str, float, float]]] = {
        "batch": ("--batch", 1, 10_000),
        "concurrency": ("--concurrency", 1, 256),
        "lease_s": ("--lease", 1, 86_400),
        "max_attempts": ("--max-attempts", 1, 1_000),
        "base_backoff_s": ("--base-backoff", 0, 86_400),  # 0: retry at once
        "read_timeout_s": ("--timeout", 0.1, 3_600),
    }

    def check(self) -> None:
        """InvalidInput naming the first value out of its bounds (a negative lease, a
        zero timeout)."""
        for name, (option, low, high) in self.BOUNDS.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise InvalidInput(f"{option} {value:g} must be from {low:g} to {high:g}")


@dataclass
class DispatchReport:
    batches: int = 0
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class EventCount:
    event_type: str
    status: str
    events: int
    oldest_pending_s: float | None
    max_attempts: int


def require_installed(conn: psycopg.Connection) -> None:
    events, _, by_name, _ = conn.execute(templates.load("webhooks/installed.sql")).fetchone()
    if not events:
        raise Precondition("webhooks are not installed here: run `auroractl webhooks install`")
    if not by_name:
        raise Precondition(
            "webhook subscriptions here are bound to table OIDs (an older install): "
            "upgrade them with `auroractl webhooks install`"
        )


def plan_install(conn: psycopg.Connection) -> Plan:
    """Install the outbox, or upgrade one whose subscriptions are bound to table OIDs."""
    events, function, by_name, subs = conn.execute(
        templates.load("webhooks/installed.sql")
    ).fetchone()
    if events and function and by_name:
        return Plan("webhooks install", "webhooks are already installed: nothing to do")
    if subs and not by_name:
        summary = (
            "upgrade webhook_subscriptions: subscriptions name their table (a table replaced "
            "by one of the same name keeps them); create what is missing, replace "
            "criar_webhook_event()"
        )
    elif events and by_name:
        summary = "replace criar_webhook_event() with this version's"
    else:
        summary = "create webhook_subscriptions, webhook_events and criar_webhook_event()"
    return Plan(
        "webhooks install", summary, (Step(templates.load("webhooks/install.sql"), locks=()),)
    )


def plan_subscribe(
    conn: psycopg.Connection,
    event: str,
    table: str,
    operations: list[str],
    url: str,
    secret_env: str | None,
    include_personal: bool,
    personal: Mapping[str, tuple[str, ...]],
) -> Plan:
    """``personal``: the personal columns per "schema.table" (the data map's), left out
    of payloads with their ciphertext twins unless ``include_personal``."""
    from auroractl.ops.shared.catalog import resolve

    require_installed(conn)
    if not event.replace("_", "").isalnum():
        raise InvalidInput(f"event name {event!r}: use letters, digits and _")
    ops = (
        sorted({o.lower() for o in operations}, key=OPERATIONS.index)
        if all(o.lower() in OPERATIONS for o in operations)
        else None
    )
    if not ops:
        raise InvalidInput(f"--on takes insert, update and/or delete, not {operations}")
    check_url(url)
    if secret_env is not None and not secret_env.replace("_", "").isalnum():
        raise InvalidInput("--secret-env takes the NAME of an environment variable")
    oid = resolve(conn, table).oid
    schema, name = conn.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n "
        "ON n.oid = c.relnamespace WHERE c.oid = %s",
        [oid],
    ).fetchone()
    cols = personal.get(f"{schema}.{name}", ())
    # ciphertext twins too (a name absent from the row is simply not in any payload)
    exclude = [] if include_personal else [*cols, *(p + CIPHERTEXT_SUFFIX for p in cols)]
    params = {
        "event": event,
        "schema": schema,
        "name": name,
        "operations": ops,
        "url": url,
        "secret_env": secret_env,
        "exclude": exclude,
    }
    steps = [Step(templates.load("webhooks/subscribe.sql").strip(), txn="sub", params=params)]
    # A subscription re-run with fewer operations drops the triggers it no longer needs.
    steps += [
        Step(
            templates.render(
                "webhooks/drop_trigger.sql.j2",
                trigger=f"webhook_{event}_{op}"[:63],
                table=(schema, name),
            ),
            txn="sub",
            locks=(f"{schema}.{name}",),
        )
        for op in OPERATIONS
        if op not in ops
    ]
    steps += [
        Step(
            templates.render(
                "webhooks/create_trigger.sql.j2",
                trigger=f"webhook_{event}_{op}"[:63],
                table=(schema, name),
                operation=op,
                event=event,
            ),
            txn="sub",
            locks=(f"{schema}.{name}",),
        )
        for op in ops
    ]
    return Plan(
        f"webhooks subscribe {event} --table {schema}.{name}",
        f"send {event} ({'/'.join(ops)} on {schema}.{name}) to {url}",
        tuple(steps),
    )


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def backoff(attempt: int, s: DispatchSettings) -> float:
    """Exponential backoff with full jitter, capped."""
    return random.uniform(0, min(s.max_backoff_s, s.base_backoff_s * 2 ** (attempt - 1)))


def _post(
    url: str, body: bytes, headers: dict[str, str], s: DispatchSettings
) -> tuple[int | None, str | None]:
    """(HTTP status, error), with separate connect and read timeouts."""
    import http.client
    from urllib.parse import urlsplit

    u = urlsplit(url)
    cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
    conn = cls(u.hostname or "", u.port, timeout=s.connect_timeout_s)
    try:
        conn.connect()
        conn.sock.settimeout(s.read_timeout_s)
        conn.request("POST", (u.path or "/") + (f"?{u.query}" if u.query else ""), body, headers)
        resp = conn.getresponse()
        resp.read(1024)
        return resp.status, None if 200 <= resp.status < 300 else f"HTTP {resp.status}"
    except TimeoutError:
        return None, "timeout"
    except (OSError, http.client.HTTPException) as exc:
        return None, f"connection error: {' '.join(str(exc).split())[:120]}"
    finally:
        conn.close()


def deliver(event: tuple, s: DispatchSettings) -> tuple[int | None, str | None]:
    _, event_type, payload, url, attempt, key, secret_env = event
    body = payload.encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "auroractl-webhooks",
        "Idempotency-Key": key,
        "X-Auroractl-Event": event_type,
        "X-Auroractl-Timestamp": timestamp,
        "X-Auroractl-Attempt": str(attempt),
    }
    if secret_env:
        secret = os.environ.get(secret_env)
        if secret is None:
            return None, f"signing secret ${secret_env} is not set for the dispatcher"
        headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
    return _post(url, body, headers, s)


def check_url(url: str) -> None:
    """An http(s) URL parsed completely: a host, a valid port, no whitespace or control
    characters (a newline in a URL would split the request)."""
    from urllib.parse import urlsplit

    bad = f"--url {url!r} must be an http(s) URL with a host"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise InvalidInput(f"{bad} (no spaces or control characters)")
    try:
        u = urlsplit(url)
        port = u.port
    except ValueError as exc:
        raise InvalidInput(f"{bad} ({exc})") from None
    if u.scheme not in ("http", "https") or not u.hostname:
        raise InvalidInput(bad)
    if port == 0:
        raise InvalidInput(f"{bad} (port 0)")


def dispatch(
    conn: psycopg.Connection,
    s: DispatchSettings,
    *,
    loop: bool = False,
    stop: threading.Event | None = None,
    idle_sleep_s: float = 1.0,
    on_batch: Callable[[DispatchReport], None] | None = None,
) -> DispatchReport:
    """Claim and deliver batches until none is due (``--once``) or ``stop`` is set."""
    require_installed(conn)
    s.check()
    stop = stop or threading.Event()
    report = DispatchReport()
    claim, ok_sql, fail_sql = (
        templates.load(f"webhooks/{n}.sql") for n in ("claim", "delivered", "failed_attempt")
    )
    with ThreadPoolExecutor(max_workers=s.concurrency) as pool:
        while not stop.is_set():
            events = conn.execute(claim, {"batch": s.batch, "lease_s": s.lease_s}).fetchall()
            if not events:
                if not loop:
                    break
                stop.wait(idle_sleep_s)
                continue
            report.batches += 1
            report.claimed += len(events)
            # The in-flight batch always finishes, even after a stop request.
            for event, (status, error) in zip(
                events, pool.map(lambda e: deliver(e, s), events), strict=True
            ):
                _settle(conn, event, status, error, s, report, ok_sql, fail_sql)
            if on_batch:
                on_batch(report)
    return report


def _settle(
    conn: psycopg.Connection,
    event: tuple,
    status: int | None,
    error: str | None,
    s: DispatchSettings,
    report: DispatchReport,
    ok_sql: str,
    fail_sql: str,
) -> None:
    event_id, attempt = event[0], event[4]
    if error is None and status is not None and 200 <= status < 300:
        conn.execute(ok_sql, {"id": event_id, "attempt": attempt, "http_status": status})
        report.delivered += 1
        return
    conn.execute(
        fail_sql,
        {
            "id": event_id,
            "attempt": attempt,
            "http_status": status,
            "error": error,
            "max_attempts": s.max_attempts,
            "backoff_s": backoff(attempt, s),
        },
    )
    report.errors[error or "error"] = report.errors.get(error or "error", 0) + 1
    if attempt >= s.max_attempts:
        report.failed += 1
    else:
        report.retried += 1


@dataclass(frozen=True)
class Subscription:
    id: int
    event_type: str
    table: str
    operations: tuple[str, ...]
    endpoint_url: str
    active: bool
    problem: str | None  # why it would emit nothing; None when it can fire


def subscriptions(conn: psycopg.Connection) -> list[Subscription]:
    """Every subscription, with what would keep it from firing: its table gone (renamed,
    dropped), or a trigger of one of its operations missing or disabled."""
    require_installed(conn)
    out = []
    for sid, event, schema, name, ops, url, active, exists, missing in conn.execute(
        templates.load("webhooks/subscriptions.sql")
    ):
        table = templates.ident((schema, name)) if schema else f"(dropped table, OID {name})"
        if not exists:
            problem = f"table {table} does not exist: nothing is emitted"
        elif missing:
            problem = f"no enabled trigger for {', '.join(missing)}: run webhooks subscribe again"
        elif not active:
            problem = "inactive"
        else:
            problem = None
        out.append(Subscription(sid, event, table, tuple(ops), url, active, problem))
    return out


def status(
    conn: psycopg.Connection,
) -> tuple[list[EventCount], list[dict[str, Any]], list[Subscription]]:
    require_installed(conn)
    counts = [EventCount(*r) for r in conn.execute(templates.load("webhooks/status.sql"))]
    failures = [
        {"reason": r[0], "events": r[1]}
        for r in conn.execute(templates.load("webhooks/failures.sql"))
    ]
    return counts, failures, subscriptions(conn)


def count_failed(conn: psycopg.Connection, event_id: int | None) -> int:
    require_installed(conn)
    return conn.execute(templates.load("webhooks/count_failed.sql"), {"id": event_id}).fetchone()[0]


def retry(conn: psycopg.Connection, event_id: int | None) -> int:
    """Re-queue dead letters (all, or one); returns how many."""
    require_installed(conn)
    n = conn.execute(templates.load("webhooks/retry.sql"), {"id": event_id}).rowcount
    if event_id is not None and n == 0:
        raise NotFound(f"no failed webhook event with id {event_id}")
    return n


def retry_job(conn: psycopg.Connection, event_id: int | None) -> Job | Plan:
    """Re-queue dead letters (all, or one) as a change: previewed, confirmed, recorded."""
    n = count_failed(conn, event_id)
    if event_id is not None and n == 0:
        raise NotFound(f"no failed webhook event with id {event_id}")
    command = "webhooks retry --failed" + (f" --id {event_id}" if event_id is not None else "")
    if n == 0:
        return Plan(command, "no failed webhook event: nothing to do")
    summary = f"re-queue {n:,} failed webhook event(s) for delivery"
    step = Step(
        templates.load("webhooks/retry.sql"),
        {"id": event_id},
        comment="attempts start again from 0, due now",
    )

    def run(progress: Progress) -> JobResult:
        progress.start(n)
        done = retry(conn, event_id)
        progress.advance(done)
        return JobResult(done)

    return Job(command, summary, Plan(command, summary, (step,)), run, unit="events")
