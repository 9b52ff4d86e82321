"""auroractl migrate: versioned schema evolution (a migrations directory + a ledger)."""

from __future__ import annotations

from typing import Annotated

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands import _options as opt

app = opt.group(
    "Versioned schema migrations: NNNN_name.sql.j2 templates and the ledger "
    "auroractl.schema_migrations."
)

DirOpt = Annotated[
    str | None,
    typer.Option(
        "--directory",
        help="Migrations directory (default: [migrate] directory; `demo`: the demo "
        "schema's migrations shipped with auroractl).",
        show_default=False,
    ),
]
SeriesOpt = Annotated[
    str | None,
    typer.Option(
        "--series",
        help="Ledger series of the directory (default: [migrate] series, else `demo` for "
        "the demo's migrations and `default` for any other).",
        show_default=False,
    ),
]
ToOpt = Annotated[
    int | None,
    typer.Option("--to", help="Apply pending migrations up to this version only.", min=0),
]


def _config(directory: str | None, series: str | None):
    from dataclasses import replace

    from auroractl.ops import migrate as ops

    cfg = ops.config(_context.settings().section("migrate"))
    ops.check_series(series)
    if directory:  # another directory is another series unless --series names one
        cfg = replace(cfg, directory=directory, series=series)
    cfg = replace(cfg, series=series) if series else cfg
    ops.directory(cfg)  # refuses before connecting when none is named
    return cfg


@app.command()
def status(
    fmt: opt.FormatOpt = opt.TABLE, directory: DirOpt = None, series: SeriesOpt = None
) -> None:
    """List migrations: applied (when, how long, by whom), pending, changed or missing.

    Exit 1 when an applied migration's file changed or is missing (up would refuse).

    Example:
        auroractl migrate status --directory ./migrations
        auroractl migrate status --directory demo --format json
    """
    from auroractl.ops import migrate as ops

    cfg = _config(directory, series)
    with _context.connect() as conn:
        rows = ops.status(conn, cfg)
    columns = ("version", "name", "state", "applied_at", "duration_ms", "applied_by", "autocommit")
    output.result(
        rows, table=lambda: output.render(rows, "table", title="migrations", columns=columns)
    )
    bad = [r for r in rows if r.state in ("changed", "missing")]
    if bad:
        for r in bad:
            output.error(f"migration {r.file or f'{r.version:04d}_{r.name}'}: {r.state}")
        raise typer.Exit(1)


@app.command()
def plan(
    to: ToOpt = None,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
    directory: DirOpt = None,
    series: SeriesOpt = None,
) -> None:
    """Show the SQL `migrate up` would run for the pending migrations; changes nothing.

    Example:
        auroractl migrate plan --directory ./migrations
        auroractl migrate plan --directory demo --to 3 --format json
    """
    from auroractl.ops import migrate as ops

    cfg = _config(directory, series)
    with _context.connect() as conn:
        output.result(_context.apply(conn, ops.plan(conn, cfg, to), dry_run=True, yes=False))


@app.command()
def up(
    to: ToOpt = None,
    dry_run: opt.DryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
    directory: DirOpt = None,
    series: SeriesOpt = None,
) -> None:
    """Apply pending migrations in version order, each in its own transaction.

    Refuses (exit 3) when no directory is named (--directory or [migrate] directory) or
    an applied migration's file has changed. Idempotent: with
    nothing pending it changes nothing.

    Example:
        auroractl migrate up --directory ./migrations --dry-run
        auroractl migrate up --directory ./migrations --yes
        auroractl migrate up --directory demo --to 2 --yes
    """
    from auroractl.ops import migrate as ops

    cfg = _config(directory, series)
    with _context.connect() as conn:
        if not dry_run:
            ops.try_lock(conn)
        try:
            p = ops.plan(conn, cfg, to)
            outcome = _context.apply(conn, p, dry_run, yes)
        finally:
            if not dry_run and not conn.closed and not conn.broken:
                ops.unlock(conn)
    output.result(outcome)
