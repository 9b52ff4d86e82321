"""Readiness of the schema for PostGraphile (requirements 4.1).

PostGraphile exposes tables as GraphQL and leaves authorization to the database, so the
database must be ready: keys for node ids, indexes behind relation fields, RLS on tenant
tables, grants for the role it runs as, and personal data kept out of the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auroractl import templates
from auroractl.errors import NotFound

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class TableReadiness:
    table: str
    has_primary_key: bool
    tenant: bool
    rls: str  # forced | enabled (not forced) | off | n/a
    app_privileges: tuple[str, ...] | None  # None: the role does not exist
    unindexed_fks: tuple[str, ...]
    personal_exposed: tuple[str, ...]
    blocking: tuple[str, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Readiness:
    app_role: str
    role_exists: bool
    tables: tuple[TableReadiness, ...]
    suggestions: tuple[str, ...]
    command_line: str

    @property
    def blocking(self) -> int:
        return sum(len(t.blocking) for t in self.tables) + (0 if self.role_exists else 1)


def check(
    conn: psycopg.Connection,
    schemas: list[str],
    app_role: str,
    tenant_column: str,
    personal: Mapping[str, tuple[str, ...]],
) -> Readiness:
    """Readiness of every table in ``schemas``; a table is a tenant table when it has
    ``tenant_column``; ``personal``: the personal columns per "schema.table" (the data
    map's)."""
    _require_schemas(conn, schemas)
    role_exists = (
        conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [app_role]).fetchone() is not None
    )
    rows = conn.execute(
        templates.load("graphql/tables.sql"),
        {
            "role": app_role,
            "tenant_column": tenant_column,
            "personal": [f"{t}.{c}" for t, cols in personal.items() for c in cols],
            "schemas": schemas,
        },
    ).fetchall()
    tables, suggestions = [], []
    for row in rows:
        table, suggested = _table(row, app_role, role_exists)
        tables.append(table)
        suggestions += suggested
    command = (
        f'npx postgraphile --connection "$DATABASE_URL" --schema {",".join(schemas)} '
        f"--default-role {app_role} --no-ignore-rbac --no-ignore-indexes --dynamic-json"
    )
    return Readiness(app_role, role_exists, tuple(tables), tuple(suggestions), command)


def _require_schemas(conn: psycopg.Connection, schemas: list[str]) -> None:
    query = templates.load("graphql/missing_schemas.sql")
    missing = [r[0] for r in conn.execute(query, {"schemas": schemas})]
    if missing:
        raise NotFound(
            f"schema {', '.join(missing)} does not exist"
            " (pass --schema with a schema of this database)"
        )


def _table(row: tuple, app_role: str, role_exists: bool) -> tuple[TableReadiness, list[str]]:
    """One table's readiness, and the COMMENT statements that would fix what can be."""
    schema, name, has_pk, tenant, rls_on, rls_forced, privs, fks, exposed = row
    rls = (
        "n/a"
        if not tenant
        else ("forced" if rls_on and rls_forced else "enabled (not forced)" if rls_on else "off")
    )
    blocking, warnings, suggestions = [], [], []
    if not has_pk:
        blocking.append("no primary key: no stable node id, no update/delete mutations")
        suggestions.append(
            f"COMMENT ON TABLE {templates.ident((schema, name))} IS "
            "E'@omit update,delete';  -- until it has a primary key"
        )
    if tenant and rls != "forced":
        blocking.append(
            f"tenant table with RLS {rls}: every tenant's rows are exposed (auroractl rls enable)"
        )
    if fks:
        warnings.append(
            f"foreign keys without an index (relation fields seq-scan): {', '.join(fks)}"
        )
    if exposed:
        warnings.append(f"personal data exposed: {', '.join(exposed)}")
        suggestions += [
            f"COMMENT ON COLUMN {templates.ident((schema, name, col))} IS E'@omit';"
            for col in exposed
        ]
    if role_exists and not privs:
        warnings.append(f"{app_role} has no privileges here: not exposed")
    table = TableReadiness(
        f"{schema}.{name}",
        has_pk,
        tenant,
        rls,
        tuple(privs) if privs is not None else None,
        tuple(fks),
        tuple(exposed),
        tuple(blocking),
        tuple(warnings),
    )
    return table, suggestions
