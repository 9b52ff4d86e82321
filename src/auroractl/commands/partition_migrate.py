"""auroractl partition migrate: partition a live table online (prep, fill, verify, swap)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from auroractl import output
from auroractl.commands import _context, _defaults
from auroractl.commands import _options as opt

if TYPE_CHECKING:
    from auroractl.plan import Plan

app = opt.group(
    "Turn a live unpartitioned table into a partitioned one: prep, fill, verify, swap "
    "(sub-second), unswap, cleanup."
)


def _table(positional: str | None, option: str | None) -> str:
    """The table named; without one, on the sandbox, the demo's."""
    return _defaults.table(positional, option, _defaults.DEMO_PARTITIONED)


def _key(by: str, column: str | None) -> str:
    """The partition key: --column; with --by tenant, else the data map's tenant column;
    without either, on the sandbox, the demo's."""
    if column is None and by == "tenant":
        m = _context.data_map()
        column = m.tenant.column if m is not None and m.tenant is not None else None
        demo = _defaults.DEMO_TENANT[0]
        hint = "or keep a data map that has the tenant key: auroractl map propose"
        return _defaults.demo_default(column, demo, "--column", hint)
    return _defaults.demo_default(column, _defaults.DEMO_RANGE_KEY, "--column")


LockTimeoutOpt = Annotated[
    str | None,
    typer.Option("--lock-timeout", help="Wait at most this for the lock (retried)."),
]


def _apply(
    planner: Callable[[Any, str], Plan],
    table_arg: str | None,
    table: str | None,
    dry_run: bool,
    yes: bool,
    lock_timeout: str | None = None,
) -> None:
    """swap / unswap / cleanup: one plan for the table, applied."""
    _context.override_lock_timeout(lock_timeout)  # validated when connecting
    name = _table(table_arg, table)
    _context.apply_planned(lambda conn: planner(conn, name), dry_run, yes)


@app.command()
def prep(
    table_arg: opt.TableArg = None,
    table: opt.TableOpt = None,
    by: Annotated[
        str, typer.Option("--by", help="year | month (RANGE) or tenant (LIST, or HASH).")
    ] = "year",
    column: Annotated[
        str | None,
        typer.Option(
            "--column",
            help="Partition key (with --by tenant: default the data map's tenant column).",
        ),
    ] = None,
    hash_partitions: Annotated[
        int | None,
        typer.Option("--hash-partitions", help="With --by tenant: HASH into N partitions."),
    ] = None,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Create the partitioned twin and the mirror trigger; say what happens to each
    dependent (foreign keys onto the table, triggers, views, publications...).

    The twin gets the columns, defaults, identities, CHECK/NOT NULL and foreign keys,
    indexes, owner, grants, policies, comments and statistics targets; partitions covering
    the data (and the next period) plus a DEFAULT. The primary key gains the partition key.
    Idempotent.

    Example:
        auroractl partition migrate prep contratos --by year --column data_inicio --dry-run
        auroractl partition migrate prep alunos --by tenant --hash-partitions 8 --yes
    """
    from auroractl.ops import partition_migrate as ops

    ops.check_prep_args(by, hash_partitions)
    name, key = _table(table_arg, table), _key(by, column)
    with _context.connect() as conn:
        plan, report = ops.prep(conn, name, by=by, column=key, hash_partitions=hash_partitions)
        if not plan.empty:
            output.info(
                f"{report.table} -> {report.twin}: {report.strategy} on {report.column}, "
                f"primary key ({', '.join(report.twin_primary_key)}), "
                f"{len(report.partitions)} partitions"
            )
        output.result(_context.apply(conn, plan, dry_run, yes))


JobsOpt = Annotated[int, typer.Option("--jobs", "-j", help="Parallel workers (key ranges).")]


@app.command()
def fill(
    table_arg: opt.TableArg = None,
    table: opt.TableOpt = None,
    batch_size: opt.BatchOpt = 5000,
    sleep_ms: opt.SleepOpt = 0,
    jobs: JobsOpt = 1,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Copy existing rows into the twin in primary-key batches; resumable after kill -9.

    Each batch (and its watermark) is one short transaction; rows the mirror trigger
    already wrote are kept (ON CONFLICT DO NOTHING). Re-running resumes at the watermark.

    Example:
        auroractl partition migrate fill contratos --batch-size 5000 --sleep-ms 10 --yes
    """
    from auroractl import db
    from auroractl.ops import partition_migrate as ops

    ops.check_batching(batch_size, sleep_ms, jobs)
    name = _table(table_arg, table)
    s = _context.settings()
    t = _context.target(s)
    with _context.connect() as conn:
        job = ops.fill_job(
            conn,
            lambda: db.connect(t, s),
            name,
            batch_size=batch_size,
            sleep_ms=sleep_ms,
            jobs=jobs,
        )
        outcome = _context.apply(conn, job, dry_run, yes)
    if outcome.result is not None:
        r = outcome.result
        output.info(
            f"{r.rows_read:,} row(s) read, {r.rows_copied:,} copied into {r.twin} in "
            f"{r.seconds:.1f}s ({r.rows_per_second:,.0f} rows/s, "
            f"{r.batches} batches{', resumed' if r.resumed else ''})"
        )
    output.result(outcome)


@app.command()
def verify(
    table_arg: opt.TableArg = None,
    table: opt.TableOpt = None,
    ranges: Annotated[int, typer.Option("--ranges", help="Key ranges compared.")] = 16,
    limit: Annotated[int, typer.Option("--limit", help="Differing keys listed at most.")] = 20,
    fmt: opt.FormatOpt = opt.TABLE,
) -> None:
    """Compare counts and a checksum of every column by key range; exit 1 on a difference.

    Before the swap: original vs twin; after it: new vs retired. One consistent snapshot.

    Example:
        auroractl partition migrate verify contratos --format json
    """
    from auroractl.ops import partition_migrate as ops

    name = _table(table_arg, table)
    with _context.connect() as conn:
        result = ops.verify(conn, name, ranges=ranges, limit=limit)
    output.result(
        {**output.to_jsonable(result), "ok": result.ok},
        rows=[_verify_summary(result)],
        table=lambda: _verify_table(result),
    )
    if not result.ok:
        raise typer.Exit(1)


def _verify_summary(result) -> dict:  # type: ignore[no-untyped-def]
    return {
        "table": result.table,
        "compared": f"{result.source} vs {result.target}",
        "rows": f"{result.source_rows:,} vs {result.target_rows:,}",
        "key ranges": result.ranges,
        "differing ranges": result.differing_ranges,
        "result": "OK" if result.ok else "DIFFERENT",
    }


def _verify_table(result) -> None:  # type: ignore[no-untyped-def]
    output.pairs(_verify_summary(result))
    if result.differences:
        output.render(
            [
                {"key": ", ".join(d.key), "in source": d.in_source, "in target": d.in_target}
                for d in result.differences
            ],
            "table",
            title="first differing keys",
        )


@app.command()
def swap(
    table_arg: opt.TableArg = None,
    table: opt.TableOpt = None,
    lock_timeout: LockTimeoutOpt = None,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Swap in the partitioned table in one short transaction (retried on lock timeout).

    Renames the original to <table>_retired and the twin to <table>; triggers, grants,
    policies, comments, statistics targets, sequences, views and publications follow; a
    reverse mirror keeps the retired table equal (and the foreign keys other tables still
    have on it enforced), so unswap loses nothing.

    Example:
        auroractl partition migrate swap contratos --lock-timeout 2s --yes
    """
    from auroractl.ops import partition_migrate as ops

    _apply(ops.plan_swap, table_arg, table, dry_run, yes, lock_timeout)


@app.command()
def unswap(
    table_arg: opt.TableArg = None,
    table: opt.TableOpt = None,
    lock_timeout: LockTimeoutOpt = None,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Put the original table back (it was kept equal by the reverse mirror), with what
    depends on the table as it is now on the new one (a grant made meanwhile follows).

    Example:
        auroractl partition migrate unswap contratos --yes
    """
    from auroractl.ops import partition_migrate as ops

    _apply(ops.plan_unswap, table_arg, table, dry_run, yes, lock_timeout)


@app.command()
def cleanup(
    table_arg: opt.TableArg = None,
    table: opt.TableOpt = None,
    lock_timeout: LockTimeoutOpt = None,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Drop the retired table, only after a passing verify; move the foreign keys other
    tables have on it onto the new table, then validate them without blocking writers.

    A foreign key whose referenced columns contain the partition key is re-created
    (NOT VALID, then validated); any other is enforced by constraint triggers
    (auroractl_fk_*) with the same actions. Run again, it finishes an interrupted
    validation.

    Example:
        auroractl partition migrate verify contratos && \\
            auroractl partition migrate cleanup contratos --lock-timeout 500ms --yes
    """
    from auroractl.ops import partition_migrate as ops

    _context.override_lock_timeout(lock_timeout)
    name = _table(table_arg, table)
    with _context.connect() as conn:
        outcome = _context.apply(conn, ops.plan_cleanup(conn, name), dry_run, yes)
    r = outcome.result
    if r is not None and r.foreign_keys:
        output.info(
            f"{len(r.foreign_keys)} foreign key(s) validated in {r.seconds:.1f}s: "
            + ", ".join(f"{v.label} ({v.kind}, {v.seconds:.1f}s)" for v in r.foreign_keys)
        )
    output.result(outcome)


@app.command()
def abort(
    table_arg: opt.TableArg = None,
    table: opt.TableOpt = None,
    lock_timeout: LockTimeoutOpt = None,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Abandon a migration before cleanup: the table, its triggers, grants and dependents
    are left exactly as they were before prep.

    After a swap it unswaps first. The twin, the mirror trigger and functions and the
    record of the migration are dropped; a fill still running fails at its next batch.

    Example:
        auroractl partition migrate abort contratos --yes
    """
    from auroractl.ops import partition_migrate as ops

    _apply(ops.plan_abort, table_arg, table, dry_run, yes, lock_timeout)


@app.command()
def status(
    table_arg: opt.TableArg = None,
    table: opt.TableOpt = None,
    fmt: opt.FormatOpt = opt.TABLE,
) -> None:
    """Show a migration's phase, fill progress by key range and last verify.

    Example:
        auroractl partition migrate status contratos --format json
    """
    from auroractl.ops.partition_migrate import catalog as cat

    name = _table(table_arg, table)
    with _context.connect() as conn:
        m = cat.find(conn, name)
        chunks = cat.chunks(conn, m)
    moves = m.fk_moves or []
    summary = {
        **output.to_jsonable(m),
        "fk_moves": f"{sum(1 for mv in moves if mv['validated'])}/{len(moves)} validated",
        "copied": sum(c["copied"] for c in chunks),
        "chunks done": f"{sum(1 for c in chunks if c['done'])}/{len(chunks)}",
    }
    output.result(
        {**output.to_jsonable(m), "chunks": output.to_jsonable(chunks)},
        rows=[summary],
        table=lambda: output.pairs(summary),
    )
