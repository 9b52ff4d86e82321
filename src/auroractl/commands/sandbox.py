"""auroractl sandbox: the local PostgreSQL used when no target is configured."""

from __future__ import annotations

from typing import Annotated

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands import _options as opt

app = opt.group("Local PostgreSQL with the demo schema and data (no AWS needed).")

ScaleOpt = Annotated[
    float,
    typer.Option(
        "--scale",
        "-s",
        help="Data volume; 1 = 50 empresas, 200k alunos, 100k contratos, 250k usuarios.",
    ),
]


def _propose(conn):  # type: ignore[no-untyped-def]
    """The sandbox's data map, proposed from its catalog as `map propose` does."""
    from auroractl.ops import datamap

    return datamap.propose(conn).map


def _show(status) -> None:  # type: ignore[no-untyped-def]
    """The status as one JSON document, or key/value rows with one row per table."""
    from auroractl.commands.config import pair_rows

    flat = output.to_jsonable(status)
    flat.update({f"rows.{k}": v for k, v in (flat.pop("rows") or {}).items()})
    output.result(status, rows=pair_rows(flat))


@app.command()
def up(scale: ScaleOpt = 1.0, fmt: opt.FormatOpt = opt.TABLE) -> None:
    """Create and start the sandbox; load the demo data and write its data map the first time.

    The map is the sandbox's own (auroractl-map.toml in its directory; commands on the
    sandbox use it without --map). Your edits to it are kept; `sandbox reset` rewrites it.

    Example:
        auroractl sandbox up --scale 1
    """
    from auroractl.ops import sandbox as ops

    settings = _context.settings()
    ops.cluster(settings).check_port()  # a port in use is the one line, before any status
    output.info("Starting the sandbox (first run: initdb + demo data load)...")
    _show(ops.up(settings, scale, _propose))


@app.command()
def down(
    purge: Annotated[bool, typer.Option("--purge", help="Also delete its data directory.")] = False,
    yes: opt.YesOpt = False,
    fmt: opt.FormatOpt = opt.TABLE,
) -> None:
    """Stop the sandbox (its data stays unless --purge --yes).

    Example:
        auroractl sandbox down
    """
    from auroractl.ops import sandbox as ops

    if purge:  # deletes data: a change like any other (confirmation, ledger file)
        outcome = _context.apply(None, ops.purge_job(_context.settings()), False, yes)
        _show(outcome.result)
        return
    _show(ops.down(_context.settings()))


@app.command()
def status(fmt: opt.FormatOpt = opt.TABLE) -> None:
    """Show whether the sandbox runs, where, and its table sizes.

    Example:
        auroractl sandbox status --format json
    """
    from auroractl.ops import sandbox as ops

    _show(ops.status(_context.settings()))


@app.command()
def reset(scale: ScaleOpt = 1.0, yes: opt.YesOpt = False, fmt: opt.FormatOpt = opt.TABLE) -> None:
    """Drop the demo database and load it again, its data map too (destructive: needs --yes).

    Example:
        auroractl sandbox reset --scale 0.1 --yes
    """
    from auroractl.ops import sandbox as ops

    outcome = _context.apply(None, ops.reset_job(_context.settings(), scale, _propose), False, yes)
    _show(outcome.result)
