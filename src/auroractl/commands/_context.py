"""Per-invocation state set by the root callback (global options) and helpers to use it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from auroractl import config, output

if TYPE_CHECKING:
    import psycopg

    from auroractl.runner import Options, Outcome, Plan


@dataclass
class Globals:
    dsn: str | None = None
    profile: str | None = None
    lock_timeout: str | None = None
    statement_timeout: str | None = None


_globals = Globals()


def configure(**values: object) -> None:
    global _globals
    _globals = Globals(**values)  # type: ignore[arg-type]


def override_lock_timeout(value: str | None) -> None:
    """A command's own --lock-timeout takes the place of the global one for its session."""
    if value is not None:
        _globals.lock_timeout = value


def settings() -> config.Settings:
    s = config.load()
    overrides = {
        k: v
        for k, v in (
            ("lock_timeout", _globals.lock_timeout),
            ("statement_timeout", _globals.statement_timeout),
        )
        if v
    }
    return replace(s, **overrides) if overrides else s


def target(s: config.Settings | None = None) -> config.Target:
    return config.resolve_target(s or settings(), _globals.dsn, _globals.profile)


@contextlib.contextmanager
def connect(dbname: str | None = None) -> Iterator[psycopg.Connection]:
    """Connect to the resolved target (or another database on the same server);
    say so on stderr when it is the sandbox."""
    from auroractl import db

    s = settings()
    t = target(s)
    if dbname:
        t = db.with_dbname(t, dbname)
    if t.is_sandbox:
        output.info(f"No target configured: using the local sandbox ({db.endpoint(t)}).")
    if t.source == "--dsn" and "password" in db.conninfo_params(t):
        output.warn(
            "--dsn carries a password, visible to `ps` and in shell history: use "
            "PGPASSWORD, ~/.pgpass or a profile (secret_arn, iam, password_env)"
        )
    with db.connect(t, s) as conn:
        yield conn


def runner_options(dry_run: bool, yes: bool, fmt: str) -> Options:
    from auroractl import db
    from auroractl.runner import Options

    s = settings()
    return Options(
        dry_run=dry_run,
        yes=yes,
        fmt=fmt,
        target_label=db.describe(target(s)),
        lock_retries=s.lock_retries,
    )


def apply_plan(conn: psycopg.Connection, plan: Plan, dry_run: bool, yes: bool, fmt: str) -> Outcome:
    """Run a Plan through the runner and report the outcome the same way everywhere:
    notes first (before any confirmation), then "Done: ..." or the nothing-to-do summary
    on stderr, or the outcome as JSON on stdout."""
    from auroractl import runner

    if not plan.empty:
        for note in plan.notes:
            output.info(f"Note: {note}")
    outcome = runner.apply(conn, plan, runner_options(dry_run, yes, fmt))
    if outcome.status == "dry-run":
        return outcome
    if fmt == "json":
        output.render(outcome, "json")
    elif outcome.status == "nothing-to-do":
        output.info(plan.summary)
    else:
        retries = f", {outcome.lock_retries} lock retries" if outcome.lock_retries else ""
        output.info(
            f"Done: {plan.summary} ({outcome.duration_s:.2f}s{retries}; "
            f"ledger #{outcome.ledger_id})"
        )
    return outcome
