"""auroractl partition: yearly/monthly/tenant partitions, kept ahead and retired safely."""

from __future__ import annotations

from typing import Annotated

import typer

from auroractl import output
from auroractl.commands import _context, _defaults, partition_migrate
from auroractl.commands import _options as opt

app = opt.group("Create, keep ahead, inspect and retire table partitions.")
app.add_typer(partition_migrate.app, name="migrate")


def _table(positional: str | None, option: str | None) -> str:
    """The table named; without one, on the sandbox, the demo's partitioned table (so that
    `auroractl partition create --year 2026` works there as it is)."""
    return _defaults.table(positional, option, _defaults.DEMO_PARTITIONED)


@app.command()
def status(
    table_arg: opt.TableArg = None,
    table: opt.TableOpt = None,
    fmt: opt.FormatOpt = opt.TABLE,
) -> None:
    """Show partitions, bounds, rows, size, gaps, rows in DEFAULT and coverage ahead.

    Example:
        auroractl partition status contratos --format json
    """
    from auroractl.ops import partition as ops

    name = _table(table_arg, table)
    with _context.connect() as conn:
        st = ops.status(conn, name)
    output.result(st, rows=list(st.partitions), table=lambda: _status_table(st))


def _status_table(st) -> None:  # type: ignore[no-untyped-def]
    output.render(
        [
            {
                "partition": p.name,
                "kind": p.kind,
                "from": p.lower,
                "to": p.upper,
                "values": ", ".join(map(str, p.values)) or None,
                "rows (est.)": p.rows_estimate,
                "size": _size(p.bytes),
            }
            for p in st.partitions
        ],
        title=f"{st.table}: {st.strategy} on {st.key} ({st.key_type})",
        fmt="table",
    )
    lines = []
    if st.default_partition:
        lines.append(f"rows in DEFAULT ({st.default_partition}): {st.default_rows:,}")
    if st.covered_until is not None:
        lines.append(f"covered until: {st.covered_until}")
    if st.periods_ahead is not None:
        lines.append(
            f"current {st.interval} covered: {'yes' if st.current_period_covered else 'NO'}"
            f"; {st.interval}s covered ahead: {st.periods_ahead}"
        )
    lines += [f"gap: {lo} .. {hi}" for lo, hi in st.gaps]
    lines += [f"overlap: {a} / {b}" for a, b in st.overlaps]
    for line in lines:
        output.stdout().print(line, markup=False)


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return str(n)


@app.command()
def create(
    year: Annotated[
        int | None, typer.Option("--year", help="Yearly partition (1900-2200).")
    ] = None,
    month: Annotated[
        str | None, typer.Option("--month", help="Monthly partition, YYYY-MM.")
    ] = None,
    tenant: Annotated[
        int | None, typer.Option("--tenant", help="LIST partition for one tenant key.")
    ] = None,
    table_arg: opt.TableArg = None,
    table: opt.TableOpt = None,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Create one partition; rows of it waiting in DEFAULT move in, in the same transaction.

    Idempotent: an existing identical partition is reported and nothing changes.

    Example:
        auroractl partition create --year 2026
        auroractl partition create --month 2026-03 --table audit.audit_log --dry-run
    """
    from auroractl.ops import partition as ops

    ops.validate_create(year, month, tenant)
    name = _table(table_arg, table)
    with _context.connect() as conn:
        plan, _ = ops.plan_create(conn, name, year=year, month=month, tenant=tenant)
        output.result(_context.apply(conn, plan, dry_run, yes))


@app.command()
def ensure(
    ahead: Annotated[
        int, typer.Option("--ahead", help="Periods to cover after the current one.")
    ] = 1,
    table: Annotated[
        list[str] | None,
        typer.Option("--table", "-t", help="Only this table (repeatable). Default: --all."),
    ] = None,
    all_tables: Annotated[
        bool, typer.Option("--all", help="Every yearly/monthly RANGE-partitioned table.")
    ] = False,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Create whatever partitions are missing through the current period + --ahead.

    Idempotent and cron-friendly: run it daily.

    Example:
        auroractl partition ensure --ahead 2 --yes
    """
    from auroractl.errors import InvalidInput
    from auroractl.ops import partition as ops

    if table and all_tables:
        raise InvalidInput("give --table or --all, not both")
    with _context.connect() as conn:
        plan, _ = ops.plan_ensure(conn, table or None, ahead)
        output.result(_context.apply(conn, plan, dry_run, yes))


@app.command()
def detach(
    before: Annotated[
        int, typer.Option("--before", help="Detach partitions ending by Jan 1 of this year.")
    ],
    table_arg: opt.TableArg = None,
    table: opt.TableOpt = None,
    archive_schema: Annotated[
        str | None,
        typer.Option("--archive-schema", help="Move detached partitions into this schema."),
    ] = None,
    drop: Annotated[
        bool, typer.Option("--drop", help="Drop detached partitions (deletes data).")
    ] = False,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Retention: detach old partitions (CONCURRENTLY when possible); data stays unless --drop.

    Example:
        auroractl partition detach --before 2020 --archive-schema archive --yes
    """
    from auroractl.ops import partition as ops

    ops.check_year(before)
    name = _table(table_arg, table)
    with _context.connect() as conn:
        plan = ops.plan_detach(conn, name, before, archive_schema=archive_schema, drop=drop)
        output.result(_context.apply(conn, plan, dry_run, yes))
