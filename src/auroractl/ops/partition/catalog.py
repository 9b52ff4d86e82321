"""Reading a partitioned table and its partitions from the catalog."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import Precondition
from auroractl.ops.partition.model import STRATEGIES, TEMPORAL_TYPES, Parent, partition_info
from auroractl.ops.shared.catalog import resolve, sql_name

if TYPE_CHECKING:
    import psycopg


def parent(conn: psycopg.Connection, table: str) -> Parent:
    """The partitioned table named ``table`` with its partitions; errors if not partitioned."""
    oid = resolve(conn, table).oid
    row = conn.execute(templates.load("partition/parent.sql"), {"oid": oid}).fetchone()
    _, schema, name, relkind, strat, key_is_expr, keys, key_types, today = row
    if relkind != "p":
        raise Precondition(
            f'table "{schema}.{name}" is not partitioned',
            hint="turning an existing table into a partitioned one is `partition migrate` "
            "(online schema changes), not `partition create`",
        )
    if key_is_expr or len(keys) != 1:
        raise Precondition(
            f'"{schema}.{name}" is partitioned by an expression or several '
            "columns; auroractl manages single-column keys only"
        )
    from auroractl.ops.shared import locks

    with locks.naming_blockers(conn, f"{schema}.{name}"):
        rows = conn.execute(templates.load("partition/partitions.sql"), {"oid": oid}).fetchall()
    parts = tuple(partition_info(r, key_types[0]) for r in rows)
    return Parent(oid, schema, name, STRATEGIES[strat], keys[0], key_types[0], today, parts)


def count(conn: psycopg.Connection, template: str, label: str, **ctx: Any) -> int:
    from auroractl.ops.shared import locks

    with locks.naming_blockers(conn, label):
        return conn.execute(templates.render(template, **ctx)).fetchone()[0]


def range_parents(conn: psycopg.Connection) -> list[str]:
    """Every RANGE-partitioned table with a single date/timestamp key (user schemas), as
    names that resolve back to it (public."Eventos")."""
    rows = conn.execute(
        templates.load("partition/range_parents.sql"), {"types": list(TEMPORAL_TYPES)}
    ).fetchall()
    return [sql_name(s, n) for s, n in rows]
