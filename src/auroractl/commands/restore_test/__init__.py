"""auroractl restore-test: prove the backups restore (run, cleanup, history)."""

from __future__ import annotations

import contextlib
import dataclasses
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands import _options as opt
from auroractl.errors import EXIT_USAGE, AuroraCtlError, InvalidInput

if TYPE_CHECKING:
    from auroractl.config import Target
    from auroractl.ops.restore_test import RestoreTestConfig, RestoreTestReport
    from auroractl.plan import AwsAction

EXIT_PASSED, EXIT_FAILED, EXIT_COULD_NOT_RUN = 0, 1, 2

app = typer.Typer(
    help="Restore tests: restore a copy, verify it against the source, tear it down.\n\n"
    "Without a subcommand, runs a restore test. Exit 0 passed, 1 verification failed, "
    "2 could not run (README: Errors and exit codes).\n\n"
    "Example:\n"
    "    auroractl restore-test --report restore-test.md\n"
    "    auroractl restore-test --pitr latest --format json\n"
    "    auroractl restore-test cleanup --dry-run",
    invoke_without_command=True,
    no_args_is_help=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

# The run's options (the callback runs a restore test when no subcommand is given).
SnapshotOpt = Annotated[
    str | None, typer.Option("--snapshot", help="Aurora: restore this cluster snapshot.")
]
PitrOpt = Annotated[
    str | None,
    typer.Option("--pitr", help="Aurora: point-in-time restore: 'latest' or an ISO time."),
]
KeepOpt = Annotated[bool, typer.Option("--keep", help="Leave the restored copy for debugging.")]
JobsOpt = Annotated[
    int | None, typer.Option("--jobs", "-j", min=1, max=64, help="Local: parallel jobs.")
]
TtlOpt = Annotated[
    str | None,
    typer.Option("--ttl", help="Expiry stored on the copy for `cleanup` (default 6h)."),
]
TimeoutOpt = Annotated[
    str | None, typer.Option("--timeout", help="Aurora: overall restore timeout (3h).")
]
ReportOpt = Annotated[
    Path | None, typer.Option("--report", help="Write evidence to restore-test.md or .html.")
]
DryRunStepsOpt = Annotated[
    bool, typer.Option("--dry-run", help="Say what the restore test would do; do nothing.")
]


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """`kill` (SIGTERM, e.g. a container stop) tears down like Ctrl-C does."""

    def handler(_signum, _frame):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (tests invoking in-process from a thread)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _exit_on_error(code: int, prefix: str = "") -> Iterator[None]:
    """auroractl, database and AWS errors end the run with ``code`` (the documented exit
    codes of restore-test), one line on stderr and, under --format json, one JSON
    error document; anything else is a bug and propagates."""
    try:
        yield
    except Exception as exc:
        if isinstance(exc, AuroraCtlError):
            message, hint = str(exc), exc.hint
        elif type(exc).__module__.startswith("psycopg"):
            message, hint = f"database error: {' '.join(str(exc).split())[:400]}", None
        elif type(exc).__module__.startswith(("botocore", "boto3")):
            message, hint = f"AWS error: {' '.join(str(exc).split())[:400]}", None
        else:
            raise
        output.error(prefix + message)
        if hint:
            output.info(f"Hint: {hint}")
        output.error_document(prefix + message, code, hint)
        raise typer.Exit(code) from None


@app.callback()
def restore_test(
    ctx: typer.Context,
    snapshot: SnapshotOpt = None,
    pitr: PitrOpt = None,
    keep: KeepOpt = False,
    jobs: JobsOpt = None,
    ttl: TtlOpt = None,
    timeout: TimeoutOpt = None,
    report: ReportOpt = None,
    dry_run: DryRunStepsOpt = False,
    fmt: opt.FormatOpt = opt.TABLE,
) -> None:
    """Run a restore test against the target (the default action).

    Restores the latest backup into a scratch copy (local: pg_dump/pg_restore into a
    scratch database; Aurora: a snapshot or PITR restore into a new serverless
    cluster), verifies structure, row counts, checksums, canaries and freshness,
    reports RTO/RPO, records the run in the restore-test history and tears the copy
    down. With [lgpd] erasure_log set, it then re-applies the erasure log on the copy
    (as `lgpd reapply`) and verifies that no erased subject is present in it. Needs no
    --yes: the source is never changed except for its history row.

    Example:
        auroractl restore-test --report restore-test.md
        auroractl restore-test --pitr latest --format json
    """
    if ctx.invoked_subcommand is not None:
        return
    from auroractl.ops.restore_test import report as evidence

    with _exit_on_error(EXIT_USAGE):
        t, cfg = _configure(snapshot, pitr, jobs, ttl, timeout, report)
        log = _erasure_log()
    if dry_run:
        steps = _dry_run_steps(t.cluster_id, snapshot, pitr, cfg, keep, log)
        data = {"dry_run": True, "backend": "aurora" if t.cluster_id else "local", "steps": steps}
        output.result(
            data,
            table=lambda: _print_steps(steps),
            rows=[{"step": i, "action": s} for i, s in enumerate(steps, 1)],
        )
        return
    with (
        _exit_on_error(EXIT_COULD_NOT_RUN, "restore test could not run: "),
        _sigterm_as_interrupt(),
        output.status("restore test") as show,
    ):
        result = _run(t, cfg, snapshot, pitr, keep, show, log)
    if report is not None:
        evidence.write(result, report)
        output.info(f"Evidence written to {report}")
    output.result(result, table=lambda: _show(result), rows=list(result.checks))
    if result.kept:
        output.warn(
            f"--keep: {result.restored} was left in place; `restore-test cleanup` "
            "removes it once it expires"
        )
    raise typer.Exit(EXIT_PASSED if result.outcome == "passed" else EXIT_FAILED)


def _configure(  # type: ignore[no-untyped-def]
    snapshot, pitr, jobs, ttl, timeout, report
) -> tuple[Target, RestoreTestConfig]:
    from auroractl.ops import restore_test as ops
    from auroractl.ops.restore_test import report as evidence

    s = _context.settings()
    t = _context.target(s)
    section = s.section("restore_test")
    cfg = ops.RestoreTestConfig.from_section(
        section,
        # the map names the critical tables unless the config does
        None if "critical_tables" in section else _context.data_map(),
        jobs=jobs,
        ttl=ops.parse_duration(ttl, "--ttl") if ttl else None,
        timeout=ops.parse_duration(timeout, "--timeout") if timeout else None,
    )
    if report is not None:
        evidence.check_path(report)
    if not t.cluster_id and (snapshot or pitr):
        raise InvalidInput("--snapshot/--pitr need an Aurora target (a profile with cluster_id)")
    if snapshot and pitr:
        raise InvalidInput("--snapshot and --pitr exclude each other")
    return t, cfg


def _erasure_log():  # type: ignore[no-untyped-def]
    from auroractl.commands import lgpd

    return lgpd.erasure_log()


def _run(  # type: ignore[no-untyped-def]
    t: Target, cfg: RestoreTestConfig, snapshot, pitr, keep: bool, show, log
) -> RestoreTestReport:
    from auroractl.commands import lgpd
    from auroractl.ops import restore_test as ops

    after = None if log is None else lgpd.aftercare(log, _context.data_map())
    with _context.connect() as conn:
        if t.cluster_id:
            return ops.run_aurora(
                conn,
                t,
                cfg,
                snapshot=snapshot,
                pitr=pitr,
                keep=keep,
                progress=show,
                apply=_tear_down,
                after_restore=after,
            )
        return ops.run_local(conn, cfg, keep=keep, progress=show, after_restore=after)


def _tear_down(action: AwsAction) -> Any:
    """Deleting the copy this run made needs no confirmation; the runner records it
    in the local ledger (the source database is left as it was)."""
    return _context.apply(None, action, dry_run=False, yes=True)


def _dry_run_steps(cluster_id, snapshot, pitr, cfg, keep, log=None) -> list[str]:  # type: ignore[no-untyped-def]
    if cluster_id:
        source = (
            f"snapshot {snapshot}" if snapshot else f"PITR {pitr}" if pitr else "latest snapshot"
        )
        steps = [
            f"restore {source} of cluster {cluster_id} into "
            f"auroractl-restore-test-{cluster_id}-<ts> (serverless v2 "
            f"{cfg.min_acu}-{cfg.max_acu} ACU, tags auroractl:restore-test, "
            f"auroractl:expires-at = now + {cfg.ttl})",
            "create its db.serverless writer instance; wait for cluster, instance, connection",
            "verify structure, row counts, checksums, canaries, freshness against the source",
            *_reapply_step(log),
            "keep the copy (--keep)" if keep else "delete the instance, then the cluster",
        ]
    else:
        steps = [
            f"CREATE DATABASE auroractl_restore_test_<ts> (expires-at = now + {cfg.ttl})",
            f"pg_dump -Fd -j {cfg.jobs} in an exported snapshot; pg_restore -j {cfg.jobs} "
            "(data, then indexes and constraints)",
            "verify structure, row counts, checksums, canaries, freshness against the source",
            *_reapply_step(log),
            "keep the scratch database (--keep)"
            if keep
            else "DROP DATABASE auroractl_restore_test_<ts>",
        ]
    steps.append("append one row to the restore-test history in the source")
    return steps


def _reapply_step(log) -> list[str]:  # type: ignore[no-untyped-def]
    if log is None:
        return []
    return [
        f"re-apply the erasure log {log.uri} on the copy (lgpd reapply); verify that no "
        "erased subject is present in it"
    ]


def _print_steps(steps: list[str]) -> None:
    for i, step in enumerate(steps, 1):
        typer.echo(f"{i}. {step}")


def _show(result: RestoreTestReport) -> None:
    from auroractl.ops.restore_test import report as evidence

    output.pairs(evidence.summary(result), "table")
    output.render(list(result.checks), "table", title="checks")
    for note in result.notes:
        output.info(f"Note: {note}")


@app.command()
def cleanup(
    dry_run: opt.SqlOrAwsDryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Delete restore-test copies whose expiry has passed (left by --keep or a killed run).

    Local targets: scratch databases auroractl_restore_test_* (expiry in their comment).
    Aurora targets: clusters auroractl-restore-test-* tagged auroractl:expires-at.
    Copies named auroractl_drill_* / auroractl-drill-* (earlier versions) are included.

    Example:
        auroractl restore-test cleanup --yes
    """
    from auroractl.ops import restore_test as ops

    s = _context.settings()
    t = _context.target(s)
    if t.cluster_id:
        delay = ops.RestoreTestConfig.from_section(s.section("restore_test")).waiter_delay
        found, action = ops.aurora_cleanup(t, delay)
        outcome = _context.apply(None, action, dry_run, yes)
    else:
        with _context.connect() as conn:
            found, plan = ops.local_cleanup(conn)
            outcome = _context.apply(conn, plan, dry_run, yes)
    output.result(dataclasses.replace(outcome, result=ops.settled(found, outcome.status)))


@app.command()
def history(
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many runs.")] = 20,
    fmt: opt.FormatOpt = opt.TABLE,
) -> None:
    """List past restore tests (recorded in the source database), newest first.

    Example:
        auroractl restore-test history --limit 12 --format json
    """
    from auroractl.ops import restore_test as ops

    with _context.connect() as conn:
        rows = ops.history(conn, limit)
    output.result(rows, title="restore-test history")
