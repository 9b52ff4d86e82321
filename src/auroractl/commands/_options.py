"""Shared option aliases so that every command spells the same option the same way."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer


class Format(StrEnum):
    """Formats of a report (reads)."""

    table = "table"
    json = "json"
    csv = "csv"


class ChangeFormat(StrEnum):
    """Formats of a change's outcome (writes): text for people, one JSON document."""

    text = "text"
    json = "json"


def _set_format(value: StrEnum) -> StrEnum:
    """The output mode is set once, as the option is parsed; commands never branch on it."""
    from auroractl import output

    output.set_format(value.value)
    return value


FormatOpt = Annotated[
    Format, typer.Option("--format", "-f", help="Output format.", callback=_set_format)
]
ChangeFormatOpt = Annotated[
    ChangeFormat,
    typer.Option(
        "--format", "-f", help="text, or one JSON document on stdout.", callback=_set_format
    ),
]
# The formats' defaults by name: `fmt: ChangeFormatOpt = TEXT`, `fmt: FormatOpt = TABLE`.
TEXT = ChangeFormat.text
TABLE = Format.table
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Print the SQL plan; change nothing.")]
# A change made of AWS calls only previews those calls; one that is SQL on PostgreSQL and
# AWS calls on Aurora says both.
AwsDryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Print the AWS calls it would make; change nothing.")
]
SqlOrAwsDryRunOpt = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Print the SQL (PostgreSQL) or the AWS calls (Aurora); change nothing.",
    ),
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking for confirmation.")]
# The table a verb works on is accepted the same way everywhere: positional or --table.
TableArg = Annotated[
    str | None,
    typer.Argument(
        metavar="TABLE",
        help="Table (schema.name; quote capitals: '\"Eventos\"').",
        show_default=False,
    ),
]
TableOpt = Annotated[
    str | None, typer.Option("--table", "-t", help="The same as the TABLE argument.")
]
# Verbs that take several tables accept them positionally and with --table (repeatable).
TablesArg = Annotated[
    list[str] | None,
    typer.Argument(help="Tables (schema.name; quote capitals: '\"Eventos\"').", show_default=False),
]
TablesOpt = Annotated[
    list[str] | None,
    typer.Option("--table", "-t", help="The same as the TABLES arguments (repeatable)."),
]
AllOpt = Annotated[bool, typer.Option("--all", help="Every table with the tenant column.")]
# Batch jobs (encrypt, partition migrate fill) pace themselves the same way.
BatchOpt = Annotated[int, typer.Option("--batch-size", help="Rows per batch (one transaction).")]
SleepOpt = Annotated[int, typer.Option("--sleep-ms", help="Pause between batches (ms).")]


def table_name(positional: str | None, option: str | None, default: str | None = None) -> str:
    """The table given positionally or with --table (not both, not neither)."""
    from auroractl.errors import InvalidInput

    if positional and option and positional != option:
        raise InvalidInput(f"two tables given ({positional!r} and --table {option!r}): give one")
    name = positional or option or default
    if not name:
        raise InvalidInput("which table? give it as an argument or with --table")
    return name


def tables_given(positional: list[str] | None, option: list[str] | None) -> list[str] | None:
    """The tables named either way, in order, each once (None when none)."""
    names = list(dict.fromkeys([*(positional or ()), *(option or ())]))
    return names or None


def group(help: str) -> typer.Typer:
    """A command group with the root's settings (plain help keeps start-up light)."""
    return typer.Typer(
        help=help, no_args_is_help=True, rich_markup_mode=None, pretty_exceptions_enable=False
    )
