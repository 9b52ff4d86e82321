"""auroractl audit: a trigger-based audit trail in audit.audit_log, without personal data."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands._options import DryRunOpt, Format, FormatOpt, YesOpt, group
from auroractl.commands.rls import AllOpt, TablesOpt

app = group("Audit trail: who changed which row, when (personal data never copied).")


def _config():  # type: ignore[no-untyped-def]
    from auroractl.ops.audit import AuditConfig

    return AuditConfig.from_section(_context.settings().section("audit"))


def _run(conn, plans, dry_run: bool, yes: bool, fmt: Format) -> None:  # type: ignore[no-untyped-def]
    """Apply plans in order; after the first confirmed one the rest need no new question."""
    from auroractl import runner

    opts = _context.runner_options(dry_run, yes, fmt.value)
    for plan in plans:
        for note in plan.notes:
            output.warn(note)
        outcome = runner.apply(conn, plan, opts)
        if outcome.status == "dry-run":
            output.result(outcome)
        elif outcome.status == "applied":
            opts = replace(opts, yes=True)
            output.info(
                f"Done: {plan.summary} ({outcome.duration_s:.2f}s; ledger #{outcome.ledger_id})"
            )
        elif outcome.status == "nothing-to-do" and fmt != Format.json:
            output.info(plan.summary)


@app.command()
def enable(
    table: TablesOpt = None,
    all_tables: Annotated[
        bool, typer.Option("--all", help="Every user table (outside audit/auroractl schemas).")
    ] = False,
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Audit INSERT/UPDATE/DELETE/TRUNCATE on tables into audit.audit_log.

    Creates audit.audit_log (monthly partitions for this month and the next, kept ahead
    by `auroractl partition ensure`) and the generic trigger function on first use.
    Personal-data columns ([audit] personal_columns) are logged as changed, never their
    values. Idempotent.

    Example:
        auroractl audit enable --table alunos --table usuarios --yes
        auroractl audit enable --all --dry-run
    """
    from auroractl.ops import audit as ops

    cfg = _config()
    with _context.connect() as conn:
        setup = ops.plan_setup(conn)
        trig = None
        if dry_run and not ops.log_exists(conn):
            _run(conn, [setup], dry_run, yes, fmt)
            output.info(
                "Then: partitions of audit.audit_log for this month and the next "
                "(partition create/ensure), and the triggers."
            )
            return
        trig = ops.plan_enable(conn, cfg, table, all_tables)  # validates input before changes
        _run(conn, [setup], dry_run, yes, fmt)
        if not dry_run:
            yes = yes or not setup.empty
        first = ops.plan_partitions(conn)
        _run(conn, first, dry_run, yes, fmt)
        yes = yes or (not dry_run and any(not p.empty for p in first))
        if not dry_run and first and first[0].command.startswith("partition create"):
            _run(conn, ops.plan_partitions(conn), dry_run, yes, fmt)  # now: ensure next month
        _run(conn, [trig], dry_run, yes, fmt)


@app.command()
def disable(
    table: TablesOpt = None,
    all_tables: AllOpt = False,
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Drop the audit triggers of tables; the log itself is kept.

    Example:
        auroractl audit disable --table alunos --yes
    """
    from auroractl.ops import audit as ops

    with _context.connect() as conn:
        _run(conn, [ops.plan_disable(conn, table, all_tables)], dry_run, yes, fmt)


@app.command()
def status(fmt: FormatOpt = Format.table) -> None:
    """Which tables are audited, and the audit log's monthly partitions.

    Example:
        auroractl audit status --format json
    """
    from auroractl.ops import audit as ops

    cfg = _config()
    with _context.connect() as conn:
        st = ops.status(conn, cfg)
    if fmt == Format.json:
        output.render(st, "json")
        return
    output.render(
        [
            {
                "table": t.table,
                "audited": "yes" if t.audited else "no",
                "up to date": t.current if t.audited else None,
                "primary key": ", ".join(t.primary_key),
                "personal columns (values not logged)": ", ".join(t.personal_columns),
            }
            for t in st.tables
        ],
        fmt.value,
        title="Audited tables",
    )
    if fmt == Format.table:
        if st.log_exists:
            output.render(list(st.partitions), "table", title="audit.audit_log partitions")
        output.info(f"Retention: {st.retention_months} months (auroractl audit prune)")


@app.command()
def log(
    table: Annotated[str | None, typer.Option("--table", "-t", help="Only this table.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="From this date/time (ISO, UTC).")
    ] = None,
    user: Annotated[
        int | None, typer.Option("--user", help="Application user id (app.current_user_id).")
    ] = None,
    row_id: Annotated[
        str | None, typer.Option("--row-id", help="Primary key of the row (as text).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most N entries, newest first.")] = 100,
    fmt: FormatOpt = Format.table,
) -> None:
    """Show audit entries, newest first, filtered by table, date, user or row.

    Example:
        auroractl audit log --table alunos --row-id 42 --since 2026-01-01 --format json
    """
    from auroractl.ops import audit as ops

    with _context.connect() as conn:
        entries = ops.log(conn, table=table, since=since, user=user, row_id=row_id, limit=limit)
    output.render(entries, fmt.value, title="audit.audit_log")


@app.command()
def prune(
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Retention: drop monthly audit partitions older than [audit] retention_months.

    Example:
        auroractl audit prune --dry-run
    """
    from auroractl.ops import audit as ops

    cfg = _config()
    with _context.connect() as conn:
        _run(conn, [ops.plan_prune(conn, cfg)], dry_run, yes, fmt)
