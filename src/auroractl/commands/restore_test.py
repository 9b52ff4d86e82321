"""auroractl restore-test: prove the backups restore (drill, cleanup, history)."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands._options import DryRunOpt, Format, FormatOpt, YesOpt
from auroractl.errors import EXIT_USAGE, AuroraCtlError, Refused

EXIT_PASSED, EXIT_FAILED, EXIT_COULD_NOT_RUN = 0, 1, 2

app = typer.Typer(
    help="Restore drills: restore a copy, verify it against the source, tear it down.\n\n"
    "Without a subcommand, runs a drill. Exit 0 passed, 1 verification failed, "
    "2 could not run.",
    invoke_without_command=True,
    no_args_is_help=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


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


def _could_not_run(exc: BaseException) -> typer.Exit:
    if isinstance(exc, AuroraCtlError):
        message, hint = str(exc), exc.hint
    else:
        module = type(exc).__module__
        text = " ".join(str(exc).split())[:400]
        if module.startswith("psycopg"):
            message, hint = f"database error: {text}", None
        elif module.startswith(("botocore", "boto3")):
            message, hint = f"AWS error: {text}", None
        else:
            raise exc
    output.error(f"restore drill could not run: {message}")
    if hint:
        output.info(f"Hint: {hint}")
    return typer.Exit(EXIT_COULD_NOT_RUN)


@app.callback()
def drill(
    ctx: typer.Context,
    snapshot: Annotated[
        str | None, typer.Option("--snapshot", help="Aurora: restore this cluster snapshot.")
    ] = None,
    pitr: Annotated[
        str | None,
        typer.Option("--pitr", help="Aurora: point-in-time restore: 'latest' or an ISO time."),
    ] = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Leave the restored copy for debugging.")
    ] = False,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, max=64, help="Local: parallel jobs.")
    ] = None,
    ttl: Annotated[
        str | None,
        typer.Option("--ttl", help="Expiry stored on the copy for `cleanup` (default 6h)."),
    ] = None,
    timeout: Annotated[
        str | None, typer.Option("--timeout", help="Aurora: overall restore timeout (3h).")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write evidence to drill.md or drill.html.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what the drill would do; do nothing.")
    ] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Run a restore drill against the target (the default action).

    Restores the latest backup into a scratch copy (local: pg_dump/pg_restore into a
    scratch database; Aurora: a snapshot or PITR restore into a new serverless
    cluster), verifies structure, row counts, checksums, canaries and freshness,
    reports RTO/RPO, records the drill in auroractl.restore_tests and tears the copy down.
    Needs no --yes: the source is never changed except for its history row.

    Example:
        auroractl restore-test --report drill.md
        auroractl restore-test --pitr latest --format json
    """
    if ctx.invoked_subcommand is not None:
        return
    from auroractl.ops import drill_report
    from auroractl.ops import restore_test as ops

    try:
        s = _context.settings()
        t = _context.target(s)
        cfg = ops.DrillConfig.from_section(
            s.section("restore_test"),
            jobs=jobs,
            ttl=ops.parse_duration(ttl, "--ttl") if ttl else None,
            timeout=ops.parse_duration(timeout, "--timeout") if timeout else None,
        )
        if report is not None:
            drill_report.check_path(report)
        aurora = bool(t.cluster_id)
        if not aurora and (snapshot or pitr):
            raise _usage("--snapshot/--pitr need an Aurora target (a profile with cluster_id)")
        if snapshot and pitr:
            raise _usage("--snapshot and --pitr exclude each other")
    except AuroraCtlError as exc:
        output.error(str(exc))
        raise typer.Exit(EXIT_USAGE) from None
    if dry_run:
        _dry_run(aurora, t.cluster_id, snapshot, pitr, cfg, keep, fmt)
        return
    try:
        with _sigterm_as_interrupt(), output.status("restore drill") as show:
            if aurora:
                from auroractl.ops import restore_test_aws

                with _context.connect() as conn:
                    result = restore_test_aws.drill(
                        conn,
                        t,
                        cfg,
                        snapshot=snapshot,
                        pitr=pitr,
                        keep=keep,
                        progress=show,
                    )
            else:
                with _context.connect() as conn:
                    result = ops.local_drill(conn, cfg, keep=keep, progress=show)
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        raise _could_not_run(exc) from None
    if report is not None:
        drill_report.write(result, report)
        output.info(f"Evidence written to {report}")
    _show(result, fmt)
    if result.kept:
        output.warn(
            f"--keep: {result.restored} was left in place; `restore-test cleanup` "
            "removes it once it expires"
        )
    raise typer.Exit(EXIT_PASSED if result.outcome == "passed" else EXIT_FAILED)


def _usage(message: str) -> AuroraCtlError:
    from auroractl.errors import InvalidInput

    return InvalidInput(message)


def _dry_run(aurora, cluster_id, snapshot, pitr, cfg, keep, fmt) -> None:  # type: ignore[no-untyped-def]
    if aurora:
        source = (
            f"snapshot {snapshot}" if snapshot else f"PITR {pitr}" if pitr else "latest snapshot"
        )
        steps = [
            f"restore {source} of cluster {cluster_id} into auroractl-drill-{cluster_id}-<ts> "
            f"(serverless v2 {cfg.min_acu}-{cfg.max_acu} ACU, tags auroractl:drill, "
            f"auroractl:expires-at = now + {cfg.ttl})",
            "create its db.serverless writer instance; wait for cluster, instance, connection",
            "verify structure, row counts, checksums, canaries, freshness against the source",
            "keep the copy (--keep)" if keep else "delete the instance, then the cluster",
        ]
    else:
        steps = [
            f"CREATE DATABASE auroractl_drill_<ts> (expires-at = now + {cfg.ttl})",
            f"pg_dump -Fd -j {cfg.jobs} in an exported snapshot; pg_restore -j {cfg.jobs}",
            "verify structure, row counts, checksums, canaries, freshness against the source",
            "keep the scratch database (--keep)" if keep else "DROP DATABASE auroractl_drill_<ts>",
        ]
    steps.append("append one row to auroractl.restore_tests in the source")
    if fmt == Format.json:
        output.render(
            {"dry_run": True, "backend": "aurora" if aurora else "local", "steps": steps}, "json"
        )
    else:
        for i, step in enumerate(steps, 1):
            typer.echo(f"{i}. {step}")


def _show(result, fmt: Format) -> None:  # type: ignore[no-untyped-def]
    from auroractl.ops import drill_report

    if fmt == Format.json:
        output.render(result, "json")
        return
    if fmt == Format.csv:
        output.render(list(result.checks), "csv")
        return
    output.pairs(drill_report.summary(result), "table")
    output.render(list(result.checks), "table", title="checks")
    for note in result.notes:
        output.info(f"Note: {note}")


@app.command()
def cleanup(dry_run: DryRunOpt = False, yes: YesOpt = False, fmt: FormatOpt = Format.table) -> None:
    """Delete drill copies whose expiry has passed (left behind by a killed drill).

    Local targets: scratch databases auroractl_drill_* (expiry in their comment).
    Aurora targets: clusters auroractl-drill-* tagged auroractl:expires-at.

    Example:
        auroractl restore-test cleanup --yes
    """
    import sys

    from auroractl.ops import restore_test as ops

    if not (dry_run or yes or (sys.stdin.isatty() and sys.stderr.isatty())):
        raise Refused(
            "refusing to delete expired drill copies without confirmation: pass --yes "
            "(or --dry-run to preview)"
        )
    if not (dry_run or yes):
        from rich.prompt import Confirm

        if not Confirm.ask("Delete every expired drill copy?", console=output.stderr()):
            raise Refused("cancelled: nothing was changed")
    t = _context.target()
    if t.cluster_id:
        from auroractl.ops import restore_test_aws

        result = restore_test_aws.cleanup(t, _context.settings(), dry_run=dry_run)
    else:
        with _context.connect() as conn:
            result = ops.local_leftovers(conn, dry_run=dry_run)
    if not result and fmt != Format.json:
        output.info("No drill copies found.")
        return
    output.render(result, fmt.value, title="drill copies")


@app.command()
def history(
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many drills.")] = 20,
    fmt: FormatOpt = Format.table,
) -> None:
    """List past drills (auroractl.restore_tests in the source database), newest first.

    Example:
        auroractl restore-test history --limit 12 --format json
    """
    from auroractl.ops import restore_test as ops

    with _context.connect() as conn:
        rows = ops.history(conn, limit)
    output.render(rows, fmt.value, title="auroractl.restore_tests")
