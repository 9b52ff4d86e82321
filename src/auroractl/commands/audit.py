"""auroractl audit: a trigger-based audit trail in audit.audit_log, without personal data."""

from __future__ import annotations

from typing import Annotated

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands import _options as opt

app = opt.group("Audit trail: who changed which row, when (personal data never copied).")

# Any user table can be audited (no tenant column needed); --all is the same set for
# enable and disable.
TablesArg = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="TABLES",
        help="Tables: any user table (schema.name; quote capitals: '\"Eventos\"').",
        show_default=False,
    ),
]
TablesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--table",
        "-t",
        help="Any user table, no tenant column needed (repeatable; the same as TABLES).",
    ),
]
AllOpt = Annotated[
    bool,
    typer.Option(
        "--all",
        help="Every user table outside the audit and auroractl schemas (partitions "
        "through their parent).",
    ),
]


def _config(personal: bool = True):  # type: ignore[no-untyped-def]
    """[audit], with each table's personal columns from the data map when the command
    needs them (on the sandbox without a map, the demo's)."""
    from dataclasses import replace

    from auroractl.commands import _defaults
    from auroractl.ops.audit import AuditConfig

    cfg = AuditConfig.from_section(_context.settings().section("audit"))
    if not personal:
        return cfg
    return replace(cfg, personal=_defaults.data_map().personal_by_table())


@app.command()
def enable(
    tables_arg: TablesArg = None,
    table: TablesOpt = None,
    all_tables: AllOpt = False,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Audit INSERT/UPDATE/DELETE/TRUNCATE on tables into audit.audit_log.

    Creates audit.audit_log (monthly partitions for this month and the next, kept ahead
    by `auroractl partition ensure`) and the generic trigger function on first use, in
    the same change as the triggers. Personal-data columns (each table's, from the data
    map: `auroractl map propose`) are logged as changed, never their values. Exit 3
    without a data map. Idempotent.

    Example:
        auroractl audit enable alunos usuarios --yes
        auroractl audit enable --all --dry-run
    """
    from auroractl.ops import audit as ops

    cfg = _config()
    tables = opt.tables_given(tables_arg, table)
    _context.apply_planned(
        lambda conn: ops.plan_enable(conn, cfg, tables, all_tables), dry_run, yes
    )


@app.command()
def disable(
    tables_arg: TablesArg = None,
    table: TablesOpt = None,
    all_tables: AllOpt = False,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Drop the audit triggers of tables; the log itself is kept.

    Example:
        auroractl audit disable alunos --yes
    """
    from auroractl.ops import audit as ops

    tables = opt.tables_given(tables_arg, table)
    _context.apply_planned(lambda conn: ops.plan_disable(conn, tables, all_tables), dry_run, yes)


@app.command()
def status(fmt: opt.FormatOpt = opt.TABLE) -> None:
    """Which tables are audited, and the audit log's monthly partitions.

    Example:
        auroractl audit status --format json
    """
    from auroractl.ops import audit as ops

    cfg = _config()
    with _context.connect() as conn:
        st = ops.status(conn, cfg)
    output.result(st, rows=_status_rows(st), table=lambda: _status_table(st))


def _status_rows(st) -> list[dict]:  # type: ignore[no-untyped-def]
    return [
        {
            "table": t.table,
            "audited": "yes" if t.audited else "no",
            "up to date": t.current if t.audited else None,
            "primary key": ", ".join(t.primary_key),
            "personal columns (values not logged)": ", ".join(t.personal_columns),
        }
        for t in st.tables
    ]


def _status_table(st) -> None:  # type: ignore[no-untyped-def]
    output.render(_status_rows(st), "table", title="Audited tables")
    if st.log_exists:
        output.render(list(st.partitions), "table", title="audit.audit_log partitions")
    output.info(f"Retention: {st.retention_months} months (auroractl audit prune)")


@app.command()
def log(
    table_arg: opt.TableArg = None,
    table: opt.TableOpt = None,
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
    fmt: opt.FormatOpt = opt.TABLE,
) -> None:
    """Show audit entries, newest first, filtered by table, date, user or row.

    Example:
        auroractl audit log alunos --row-id 42 --since 2026-01-01 --format json
    """
    from auroractl.ops import audit as ops

    only = opt.table_name(table_arg, table) if table_arg or table else None
    with _context.connect() as conn:
        entries = ops.log(conn, table=only, since=since, user=user, row_id=row_id, limit=limit)
    output.result(entries, title="audit.audit_log")


@app.command()
def prune(
    dry_run: opt.DryRunOpt = False, yes: opt.YesOpt = False, fmt: opt.ChangeFormatOpt = opt.TEXT
) -> None:
    """Retention: drop monthly audit partitions older than [audit] retention_months.

    Example:
        auroractl audit prune --dry-run
    """
    from auroractl.ops import audit as ops

    cfg = _config(personal=False)
    _context.apply_planned(lambda conn: ops.plan_prune(conn, cfg), dry_run, yes)
