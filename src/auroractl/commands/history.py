"""auroractl history: the ledger of changes auroractl applied."""

from __future__ import annotations

from typing import Annotated

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands import _options as opt

# The table view keeps to what fits a terminal; json/csv carry every field.
COLUMNS = ("id", "finished_at", "duration_ms", "db_user", "command", "outcome", "error")
LOCAL_COLUMNS = (
    "id",
    "finished_at",
    "duration_ms",
    "os_user",
    "command",
    "outcome",
    "region",
    "resources",
)


def history(
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many entries.")] = 20,
    command: Annotated[
        str | None, typer.Option("--command", help="Only entries whose command starts with this.")
    ] = None,
    local: Annotated[
        bool,
        typer.Option(
            "--local",
            help="The local ledger file (AWS changes made without a database connection).",
        ),
    ] = False,
    fmt: opt.FormatOpt = opt.TABLE,
) -> None:
    """List applied changes (the auroractl.operations ledger), newest first.

    --local lists the local JSON-lines ledger instead ($AURORACTL_LEDGER_FILE, else
    $XDG_STATE_HOME/auroractl/operations.jsonl): alarms, params on Aurora and backup
    changes, with their resource ids and region.

    Example:
        auroractl history --limit 5 --format json
        auroractl history --local --command backup
    """
    from auroractl.ops import history as ops

    if local:
        from auroractl import ledger

        rows = ledger.read_file(limit, command)
        title, columns = "local ledger", LOCAL_COLUMNS
    else:
        with _context.connect() as conn:
            rows = ops.history(conn, limit, command)
        title, columns = "auroractl.operations", COLUMNS
    output.result(rows, table=lambda: output.render(rows, "table", title=title, columns=columns))
