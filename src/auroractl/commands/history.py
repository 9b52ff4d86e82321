"""auroractl history: the ledger of changes auroractl applied."""

from __future__ import annotations

from typing import Annotated

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands._options import Format, FormatOpt


def history(
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many entries.")] = 20,
    command: Annotated[
        str | None, typer.Option("--command", help="Only entries whose command starts with this.")
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """List applied changes (the auroractl.operations ledger), newest first.

    Example:
        auroractl history --limit 5 --format json
    """
    from auroractl.ops import history as ops

    with _context.connect() as conn:
        rows = ops.history(conn, limit, command)
    # The table view keeps to what fits a terminal; json/csv carry every field.
    columns = (
        None
        if fmt != Format.table
        else ("id", "finished_at", "duration_ms", "db_user", "command", "outcome", "error")
    )
    output.render(rows, fmt.value, title="auroractl.operations", columns=columns)
