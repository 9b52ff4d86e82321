"""auroractl partition: yearly/monthly/daily/tenant partitions, kept ahead and retired
safely."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from auroractl import output
from auroractl.commands import _context, _defaults, partition_migrate
from auroractl.commands import _options as opt

if TYPE_CHECKING:
    import psycopg

    from auroractl.ops.partition import EnsureRun, Naming, TablePlan

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


def _naming() -> Naming:
    """How new partitions are named: [partition.names] of auroractl.toml, checked."""
    from auroractl.ops import partition as ops

    return ops.naming_from_config(_context.settings().section("partition"))


@app.command()
def create(
    year: Annotated[
        int | None, typer.Option("--year", help="Yearly partition (1900-2200).")
    ] = None,
    month: Annotated[
        str | None, typer.Option("--month", help="Monthly partition, YYYY-MM.")
    ] = None,
    day: Annotated[str | None, typer.Option("--day", help="Daily partition, YYYY-MM-DD.")] = None,
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

    Idempotent: an existing identical partition is reported and nothing changes. The name
    follows the table's partitions (or [partition.names] in auroractl.toml); the new
    partition gets what its newest sibling has of its own (foreign keys, indexes, row
    security and policies, grants, storage options, comments).

    Example:
        auroractl partition create --year 2026
        auroractl partition create --month 2026-03 --table audit.audit_log --dry-run
    """
    from auroractl.ops import partition as ops

    ops.validate_create(year, month, tenant, day)
    name = _table(table_arg, table)
    naming = _naming()
    with _context.connect() as conn:
        plan, _ = ops.plan_create(
            conn, name, year=year, month=month, day=day, tenant=tenant, naming=naming
        )
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
        bool, typer.Option("--all", help="Every yearly/monthly/daily RANGE-partitioned table.")
    ] = False,
    max_new: Annotated[
        int,
        typer.Option(
            "--max-new", help="Most partitions created at once in one table; more is refused."
        ),
    ] = 12,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Create whatever partitions are missing through the current period + --ahead.

    Idempotent and cron-friendly: run it daily. Each table on its own: one table's
    problem is reported and the others go on. A table that would get more than --max-new
    partitions at once (a gap) is refused until --max-new is raised. Exit 0 when every
    table is covered, else the exit code of the first table that failed.

    Example:
        auroractl partition ensure --ahead 2 --yes
    """
    from auroractl.errors import InvalidInput
    from auroractl.ops import partition as ops

    if table and all_tables:
        raise InvalidInput("give --table or --all, not both")
    ops.check_args(ahead, max_new)
    naming = _naming()
    with _context.connect() as conn:
        names = table or ops.range_parents(conn)
        planned = [
            ops.try_plan_table(conn, n, ahead, naming=naming, max_new=max_new, preview=dry_run)
            for n in names
        ]
        command = ops.command_line(table or None, ahead, max_new)
        _single_failure(planned, table)
        if dry_run:
            output.result(_context.apply(conn, ops.preview(planned, command), True, yes))
            run = ops.dry_run_report(command, planned)
        else:
            run = _apply_each(conn, planned, command, yes)
            output.result(run, table=lambda: _ensure_lines(run))
    if run.failed:
        raise ops.EnsureFailed(run)


def _single_failure(planned: list[TablePlan], table: list[str] | None) -> None:
    """One table named that cannot be planned (it does not exist, it is not partitioned):
    its error is the command's, in one line, as every other command reports bad input."""
    from auroractl.errors import AuroraCtlError

    if table and len(planned) == 1 and (f := planned[0].failure) and not f.over_limit:
        error = AuroraCtlError(f.error, hint=f.hint)
        error.exit_code = f.exit_code
        raise error


def _apply_each(
    conn: psycopg.Connection, planned: list[TablePlan], command: str, yes: bool
) -> EnsureRun:
    """Confirm once for every table, then apply each table's plan on its own: a table
    that fails is recorded (its ledger row says so) and the next one goes on."""
    import psycopg

    from auroractl import runner
    from auroractl.errors import AuroraCtlError
    from auroractl.ops import partition as ops

    change = ops.preview(planned, command, applying=True)
    if not change.empty:
        runner.confirm_or_refuse(change, _context.runner_options(False, yes))
    outcomes = []
    for t in planned:
        if t.failure is not None or t.plan.empty:  # failed, refused, skipped or covered
            outcomes.append(ops.outcome(t))
            continue
        try:
            done = _context.apply(conn, t.plan, False, True)
        except (AuroraCtlError, psycopg.Error) as exc:
            outcomes.append(ops.outcome(t, failure=ops.failure_of(exc)))
        else:
            outcomes.append(ops.outcome(t, done.ledger_id))
    return ops.run_report(command, outcomes)


def _ensure_lines(run: EnsureRun) -> None:
    """One line per table on stderr (with its notes and, on failure, the hint)."""
    if not run.tables:
        output.info("no yearly, monthly or daily RANGE-partitioned table: nothing to do")
    for t in run.tables:
        if t.status == "applied":
            line = f"created {', '.join(t.created)} (ledger #{t.ledger_id})"
        elif t.status == "failed":
            line = f"FAILED (exit {t.exit_code}): {t.error}"
        elif t.status == "skipped":
            line = f"skipped: {'; '.join(t.notes)}"
        else:
            line = "covered: nothing to do"
        output.info(f"{t.table}: {line}")
        if t.status != "skipped":
            for note in t.notes:
                output.info(f"  note: {note}")
        if t.hint:
            output.info(f"  hint: {t.hint}")


@app.command()
def detach(
    before: Annotated[
        str | None,
        typer.Option(
            "--before",
            help="Partitions entirely before this: a year (2022), month (2022-02) or day "
            "(2022-02-15) on a date/timestamp key, a number on an integer key.",
        ),
    ] = None,
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than", help="Partitions entirely older than this: 90days, 18months, 2years."
        ),
    ] = None,
    values: Annotated[
        str | None,
        typer.Option("--values", help="LIST partitions holding these values: a,b,c."),
    ] = None,
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

    Only partitions entirely before the cut are retired, whatever the table's interval:
    --before 2022-02 on a monthly table keeps February 2022 and detaches what ends by
    2022-02-01.

    Example:
        auroractl partition detach contratos --before 2020 --archive-schema archive --yes
        auroractl partition detach --table contratos --older-than 18months --drop --dry-run
    """
    from auroractl.ops import partition as ops

    rule = ops.parse_retention(before, older_than, values)
    name = _table(table_arg, table)
    with _context.connect() as conn:
        plan = ops.plan_detach(conn, name, rule, archive_schema=archive_schema, drop=drop)
        output.result(_context.apply(conn, plan, dry_run, yes))
