"""auroractl params: server settings, desired (auroractl.toml [params]) vs actual."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands import _options as opt

app = opt.group("Server parameters: show, diff and apply the desired settings (seed 2.1).")

COLUMNS = ["name", "desired", "actual", "in_sync", "apply_type", "pending_restart", "source"]


def _report(only_changes: bool = False) -> Any:
    """Desired vs actual for the resolved target (Aurora parameter group or pg_settings)."""
    from auroractl.ops import params as ops

    s = _context.settings()
    want = ops.desired(s.section("params"))
    t = _context.target(s)
    if t.cluster_id:
        from auroractl import aws

        return ops.aurora_status(aws.for_target(t, "rds"), t.cluster_id, want)
    with _context.connect() as conn:
        return ops.pg_status(conn, want)


def _print(report: Any, rows: tuple[Any, ...]) -> None:
    where = (
        f"DB cluster parameter group {report.parameter_group} (cluster {report.target})"
        if report.where == "aurora"
        else f"pg_settings ({report.target})"
    )
    data = {
        "where": report.where,
        "target": report.target,
        "parameter_group": report.parameter_group,
        "params": list(rows),
        "pending_reboot": list(report.pending_reboot),
        "warnings": list(report.warnings),
    }
    if report.pending_reboot:
        output.warn(
            "static parameter values are set but pending a reboot of: "
            + ", ".join(report.pending_reboot)
        )
    for warning in report.warnings:
        output.warn(warning)
    output.result(data, rows=list(rows), title=where, columns=COLUMNS)


@app.command()
def show(fmt: opt.FormatOpt = opt.TABLE) -> None:
    """Show every desired parameter with its actual value, apply type and sync state.

    On Aurora (the profile has cluster_id) this reads the cluster's DB cluster parameter
    group; elsewhere pg_settings. Instances pending a reboot are named, and parameters
    that keep Serverless v2 from scaling down or pausing are warned about.

    Example:
        auroractl params show
        auroractl --profile prod params show --format json
    """
    report = _report()
    _print(report, report.params)


@app.command()
def diff(fmt: opt.FormatOpt = opt.TABLE) -> None:
    """Show only the parameters that differ from the desired settings; exit 1 if any do.

    Example:
        auroractl params diff --format json
    """
    report = _report()
    if not report.changes:
        output.info("All desired parameters are in sync.")
    _print(report, report.changes)
    if report.changes:
        raise typer.Exit(1)


@app.command()
def apply(
    dry_run: opt.SqlOrAwsDryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Apply the desired parameters: parameter group on Aurora, ALTER SYSTEM elsewhere.

    Aurora: modify_db_cluster_parameter_group in batches of 20, dynamic parameters
    immediately, static ones pending-reboot (the instances to reboot are listed); a
    default.* group is refused. PostgreSQL: ALTER SYSTEM + pg_reload_conf() (needs
    superuser or GRANT ALTER SYSTEM ON PARAMETER); pending_restart is flagged.
    --dry-run shows the calls (Aurora) or the statements (PostgreSQL).

    Example:
        auroractl params apply --dry-run
        auroractl --profile prod params apply --yes
    """
    from auroractl.ops import params as ops

    s = _context.settings()
    want = ops.desired(s.section("params"))
    t = _context.target(s)
    if t.cluster_id:
        from auroractl import aws

        rds = aws.for_target(t, "rds")
        report = ops.aurora_status(rds, t.cluster_id, want, for_apply=True)
        action, result = ops.aurora_plan(rds, report)
        outcome = _context.apply(None, action, dry_run, yes)
    else:
        with _context.connect() as conn:
            report = ops.pg_status(conn, want)
            outcome = _alter_system(conn, report, dry_run, yes)
            result = ops.pg_result(conn, report, outcome.status == "applied")
    output.result(replace(outcome, result=result))


def _alter_system(conn, report, dry_run: bool, yes: bool):  # type: ignore[no-untyped-def]
    """ALTER SYSTEM through the runner, with the privilege checked first (a read) and a
    refusal by the server said in one line."""
    import psycopg

    from auroractl.errors import Precondition
    from auroractl.ops import params as ops

    plan = ops.pg_plan(report)
    if not plan.empty and not dry_run:
        ops.check_alter_system_privilege(conn, [p.name for p in report.changes])
    try:
        return _context.apply(conn, plan, dry_run, yes)
    except psycopg.errors.InsufficientPrivilege as exc:
        raise Precondition(
            f"ALTER SYSTEM was refused ({' '.join(str(exc).split())[:200]}): it needs "
            "superuser or GRANT ALTER SYSTEM ON PARAMETER"
        ) from None
