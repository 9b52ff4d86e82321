"""auroractl params: server settings, desired (auroractl.toml [params]) vs actual."""

from __future__ import annotations

import sys
from typing import Any

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands._options import DryRunOpt, Format, FormatOpt, YesOpt, group
from auroractl.errors import Refused

app = group("Server parameters: show, diff and apply the desired settings (seed 2.1).")

COLUMNS = ["name", "desired", "actual", "in_sync", "apply_type", "pending_restart", "source"]


def confirm_change(lines: list[str], target_label: str, yes: bool) -> None:
    """The runner's rule for changes that are not SQL (AWS API calls): --yes, or ask on a
    terminal, or refuse."""
    if yes:
        return
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise Refused(
            f"refusing to change {target_label} without confirmation: "
            "pass --yes (or --dry-run to preview)"
        )
    from rich.prompt import Confirm

    for line in lines:
        output.stderr().print(line, markup=False)
    if not Confirm.ask(f"Apply to {target_label}?", console=output.stderr(), default=False):
        raise Refused("cancelled: nothing was changed")


def _report(only_changes: bool = False) -> Any:
    """Desired vs actual for the resolved target (Aurora parameter group or pg_settings)."""
    from auroractl.ops import params as ops

    s = _context.settings()
    want = ops.desired(s.section("params"))
    t = _context.target(s)
    if t.cluster_id:
        from auroractl import aws

        p = t.profile
        rds = aws.client("rds", p.region if p else None, p.endpoint_url if p else None)
        return ops.aurora_status(rds, t.cluster_id, want), rds
    with _context.connect() as conn:
        return ops.pg_status(conn, want), None


def _print(report: Any, fmt: Format, rows: tuple[Any, ...]) -> None:
    if fmt == Format.json:
        output.render(
            {
                "where": report.where,
                "target": report.target,
                "parameter_group": report.parameter_group,
                "params": list(rows),
            },
            "json",
        )
        return
    where = (
        f"DB cluster parameter group {report.parameter_group} (cluster {report.target})"
        if report.where == "aurora"
        else f"pg_settings ({report.target})"
    )
    output.render(list(rows), fmt.value, title=where, columns=COLUMNS)


@app.command()
def show(fmt: FormatOpt = Format.table) -> None:
    """Show every desired parameter with its actual value, apply type and sync state.

    On Aurora (the profile has cluster_id) this reads the cluster's DB cluster parameter
    group; elsewhere pg_settings.

    Example:
        auroractl params show
        auroractl --profile prod params show --format json
    """
    report, _ = _report()
    _print(report, fmt, report.params)


@app.command()
def diff(fmt: FormatOpt = Format.table) -> None:
    """Show only the parameters that differ from the desired settings; exit 1 if any do.

    Example:
        auroractl params diff --format json
    """
    report, _ = _report()
    _print(report, fmt, report.changes)
    if fmt == Format.table and not report.changes:
        output.info("All desired parameters are in sync.")
    if report.changes:
        raise typer.Exit(1)


@app.command()
def apply(dry_run: DryRunOpt = False, yes: YesOpt = False, fmt: FormatOpt = Format.table) -> None:
    """Apply the desired parameters: parameter group on Aurora, ALTER SYSTEM elsewhere.

    Aurora: modify_db_cluster_parameter_group in batches of 20, dynamic parameters
    immediately, static ones pending-reboot (the instances to reboot are listed); a
    default.* group is refused. PostgreSQL: ALTER SYSTEM + pg_reload_conf() (needs
    superuser or GRANT ALTER SYSTEM ON PARAMETER); pending_restart is flagged.
    --dry-run shows the diff only.

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

        p = t.profile
        rds = aws.client("rds", p.region if p else None, p.endpoint_url if p else None)
        report = ops.aurora_status(rds, t.cluster_id, want, for_apply=True)
        _apply_aurora(ops, rds, report, dry_run, yes, fmt)
        return
    with _context.connect() as conn:
        report = ops.pg_status(conn, want)
        _apply_postgres(ops, conn, report, dry_run, yes, fmt)


def _result(status: str, report: Any, **extra: Any) -> dict[str, Any]:
    return {
        "status": status,
        "where": report.where,
        "target": report.target,
        "parameter_group": report.parameter_group,
        "changes": list(report.changes),
        **extra,
    }


def _apply_aurora(ops, rds, report, dry_run: bool, yes: bool, fmt: Format) -> None:  # type: ignore[no-untyped-def]
    if not report.changes:
        _done(_result("nothing-to-do", report), fmt, "Parameters already in sync.")
        return
    ops.check_modifiable_group(report.parameter_group or "", report.target)
    if dry_run:
        _print(report, fmt, report.changes)
        return
    lines = [
        f"{p.name}: {p.actual} -> {p.to_set} "
        f"({'immediate' if p.apply_type == 'dynamic' else 'pending-reboot'})"
        for p in report.changes
    ]
    confirm_change(lines, f"parameter group {report.parameter_group}", yes)
    result = ops.aurora_apply(rds, report.target, report)
    message = f"Modified {len(result.applied)} parameter(s) of {result.parameter_group}."
    if result.reboot_needed:
        message += (
            " Static parameters apply after a reboot of: "
            f"{', '.join(result.instances_to_reboot) or '(no instances)'} "
            "(aws rds reboot-db-instance --db-instance-identifier NAME)."
        )
    _done(
        _result(
            "applied",
            report,
            calls=result.calls,
            reboot_needed=result.reboot_needed,
            instances_to_reboot=list(result.instances_to_reboot),
        ),
        fmt,
        message,
    )


def _apply_postgres(ops, conn, report, dry_run: bool, yes: bool, fmt: Format) -> None:  # type: ignore[no-untyped-def]
    from auroractl import runner

    plan = ops.pg_plan(report)
    if plan.empty:
        pending = [p.name for p in report.params if p.pending_restart]
        _done(
            _result("nothing-to-do", report, pending_restart=pending),
            fmt,
            "Parameters already in sync."
            + (f" Pending a restart: {', '.join(pending)}." if pending else ""),
        )
        return
    if dry_run:
        _print(report, fmt, report.changes)
        return
    import psycopg

    ops.check_alter_system_privilege(conn, [p.name for p in report.changes])
    opts = _context.runner_options(False, yes, fmt.value)
    try:
        runner.apply(conn, plan, opts)
    except psycopg.errors.InsufficientPrivilege as exc:
        from auroractl.errors import Precondition

        raise Precondition(
            f"ALTER SYSTEM was refused ({' '.join(str(exc).split())[:200]}): it needs "
            "superuser or GRANT ALTER SYSTEM ON PARAMETER"
        ) from None
    after = ops.pg_status(conn, {p.name: p.desired for p in report.params})
    pending = sorted(
        {p.name for p in after.params if p.pending_restart}
        | {p.name for p in report.changes if p.apply_type == "static"}
    )
    message = f"Done: {plan.summary}."
    if pending:
        message += f" pending_restart: {', '.join(pending)} (restart the server to apply)."
    _done(_result("applied", report, pending_restart=pending), fmt, message)


def _done(result: dict[str, Any], fmt: Format, message: str) -> None:
    if fmt == Format.json:
        output.render(result, "json")
    else:
        output.info(message)
