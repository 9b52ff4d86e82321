"""auroractl map: the data map (tenancy, data subjects, personal columns, erasure rules)."""

from __future__ import annotations

from typing import Annotated

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands import _options as opt

app = opt.group(
    "The data map: tenancy, data subjects, personal columns and erasure rules, "
    "proposed from the catalog and checked for drift."
)

MapOpt = Annotated[
    str | None,
    typer.Option(
        "--map",
        help="The map file (default: [map] file in auroractl.toml, else the sandbox's own map "
        "when the target is the sandbox, else ./auroractl-map.toml).",
    ),
]
SampleOpt = Annotated[
    int,
    typer.Option("--sample-rows", help="Rows sampled per table to recognise values (0: none)."),
]


@app.command()
def propose(
    map_file: MapOpt = None,
    sample_rows: SampleOpt = 50,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing map.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the file; write nothing.")
    ] = False,
    fmt: opt.FormatOpt = opt.TABLE,
) -> None:
    """Propose the data map from the catalog and write it for review.

    Reads column names (Portuguese and English), comments, types, constraints, foreign
    keys and a bounded sample of values, in a fixed number of queries. Never replaces an
    existing map without --force.

    Example:
        auroractl map propose --dry-run
    """
    from auroractl.ops import datamap as ops

    path = _context.map_path(map_file)
    ops.ensure_writable(path, dry_run=dry_run, force=force)
    with _context.connect() as conn:
        proposal = ops.propose(conn, sample_rows)
    written = ops.write(proposal, path, dry_run=dry_run, force=force)
    output.result(written, rows=list(written.entries), table=lambda: _written_table(written))


def _written_table(w) -> None:  # type: ignore[no-untyped-def]
    if w.content is not None:
        output.stdout().print(w.content, markup=False, highlight=False)
        return
    output.render(list(w.entries), "table", title=f"personal columns proposed in {w.path}")
    output.info(
        f"Wrote {w.path}: {w.columns} personal columns in {w.tables} tables, subjects "
        f"{', '.join(w.subjects) or 'none'}, {w.references} references, tenant keys "
        f"{', '.join(w.tenants) or 'none'}. Review it, then `auroractl map check`."
    )


@app.command()
def check(
    map_file: MapOpt = None, sample_rows: SampleOpt = 50, fmt: opt.FormatOpt = opt.TABLE
) -> None:
    """Compare the data map with the database; exit 1 on any drift.

    Drift: a personal-looking column or table not in the map, a mapped table or column that
    no longer exists, a rule a constraint would reject, a reference to a subject the map
    does not list.

    Example:
        auroractl map check --format json
    """
    from auroractl.ops.datamap.check import check as run_check
    from auroractl.ops.shared import datamap

    m = datamap.require(_context.map_path(map_file))
    with _context.connect() as conn:
        report = run_check(conn, m, sample_rows)
    output.result(report, rows=list(report.findings), table=lambda: _check_table(report))
    if not report.ok:
        raise typer.Exit(1)


def _check_table(report) -> None:  # type: ignore[no-untyped-def]
    if report.ok:
        output.info(f"{report.map} matches the database.")
        return
    output.render(list(report.findings), "table", title=f"drift from {report.map}")


@app.command()
def show(map_file: MapOpt = None, fmt: opt.FormatOpt = opt.TABLE) -> None:
    """Print the data map: tenant keys, subjects, personal columns and their rules.

    Example:
        auroractl map show --format json
    """
    from auroractl.ops.shared import datamap

    m = datamap.require(_context.map_path(map_file))
    rows = [
        {"table": c.table, "column": c.column, "class": c.cls + (f" of {c.of}" if c.of else ""),
         "rule": c.rule.describe(), "subject": "yes" if m.subject(c.table) else ""}
        for c in m.columns
    ]  # fmt: skip
    output.result(datamap.as_dict(m), rows=rows, table=lambda: _show_table(m, rows))


def _show_table(m, rows) -> None:  # type: ignore[no-untyped-def]
    for t in m.tenants:
        output.stdout().print(
            f"tenant key: {t.column} ({t.type}) via {t.setting}, root {t.root or '-'}, "
            f"{len(t.tables)} tables",
            markup=False,
        )
    for s in m.subjects:
        refs = m.references_of(s.table)
        n_in = sum(1 for r in refs if r.direction == "in")
        output.stdout().print(
            f"subject: {s.table} ({', '.join(s.key)}): referenced by {n_in}, "
            f"references {len(refs) - n_in}",
            markup=False,
        )
    output.render(rows, "table", title=f"personal columns ({m.path})")
