"""Shared option aliases so that every command spells the same option the same way."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Print the SQL plan; change nothing.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking for confirmation.")]
TableOpt = Annotated[str, typer.Option("--table", "-t", help="Partitioned table (schema.name).")]


def group(help: str) -> typer.Typer:
    """A command group with the root's settings (plain help keeps start-up light)."""
    return typer.Typer(
        help=help, no_args_is_help=True, rich_markup_mode=None, pretty_exceptions_enable=False
    )
