"""auroractl graphql: is the schema safe to expose through PostGraphile?"""

from __future__ import annotations

from typing import Annotated

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands import _options as opt

app = opt.group("GraphQL (PostGraphile) readiness checks.")


@app.command()
def check(
    schema: Annotated[
        list[str] | None,
        typer.Option("--schema", help="Exposed schema (repeatable; default public)."),
    ] = None,
    role: Annotated[
        str | None,
        typer.Option(
            "--role",
            help="Role PostGraphile runs as (default: [rls] app_role or application_user).",
        ),
    ] = None,
    fmt: opt.FormatOpt = opt.TABLE,
) -> None:
    """Per table: primary key, indexed foreign keys, RLS on tenant tables, the role's
    grants, exposed personal data; prints the PostGraphile command line and smart-comment
    suggestions. Personal columns and the tenant key come from the data map (the tenant
    key as for `auroractl rls`). Exits 1 on blocking findings, 2 when a --schema does not
    exist, 3 without a data map.

    Example:
        auroractl graphql check --schema public --role application_user
    """
    from auroractl.commands import _defaults, rls
    from auroractl.ops import graphql as ops

    m = _defaults.data_map()
    personal = m.personal_by_table()
    cfg = rls.config(m)
    with _context.connect() as conn:
        result = ops.check(conn, schema or ["public"], role or cfg.app_role, cfg.column, personal)
    output.result(result, rows=_rows(result), table=lambda: _table(result))
    if result.blocking:
        raise typer.Exit(1)


def _rows(result) -> list[dict]:  # type: ignore[no-untyped-def]
    return [
        {
            "table": t.table,
            "pk": t.has_primary_key,
            "rls": t.rls,
            "grants": ",".join(t.app_privileges or ()) or "-",
            "blocking": "; ".join(t.blocking),
            "warnings": "; ".join(t.warnings),
        }
        for t in result.tables
    ]


def _table(result) -> None:  # type: ignore[no-untyped-def]
    output.render(_rows(result), "table", title=f"PostGraphile as {result.app_role}")
    if not result.role_exists:
        output.warn(
            f"role {result.app_role} does not exist: "
            "create it (auroractl rls enable) or pass --role"
        )
    output.info(f"Command line: {result.command_line}")
    for line in result.suggestions:
        output.info(f"Suggestion: {line}")
