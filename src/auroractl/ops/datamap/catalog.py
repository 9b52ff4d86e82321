"""The catalog facts the data map is proposed from and checked against, read in a fixed
number of queries whatever the number of tables: columns, foreign keys, one sample."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auroractl import templates
from auroractl.ops.datamap.classify import ColumnFacts

if TYPE_CHECKING:
    import psycopg

# auroractl's own tables in the user's schema: never part of the user's map.
OWN_TABLES = frozenset({"public.webhook_events", "public.webhook_subscriptions"})
SAMPLE_ROWS = 50


@dataclass(frozen=True)
class Column:
    table: str  # schema.table
    name: str
    facts: ColumnFacts
    textual: bool  # string category, in a table this role may read: worth sampling
    encrypt_target: bool  # a ciphertext column kept by `encrypt backfill`'s trigger
    comment: str | None
    table_comment: str | None
    table_key: tuple[str, ...]  # the table's primary key


@dataclass(frozen=True)
class ForeignKey:
    table: str
    columns: tuple[str, ...]
    references: str
    ref_columns: tuple[str, ...]
    name: str
    on_partitions: bool

    @property
    def edge(self) -> tuple[str, tuple[str, ...], str, tuple[str, ...]]:
        return (self.table, self.columns, self.references, self.ref_columns)


@dataclass(frozen=True)
class Catalog:
    columns: tuple[Column, ...]
    foreign_keys: tuple[ForeignKey, ...]
    samples: dict[tuple[str, str], tuple[str | None, ...]]

    def tables(self) -> dict[str, list[Column]]:
        return self._by_table

    def column(self, table: str, name: str) -> Column | None:
        return self._index.get((table, name))

    # Indexes built once: a catalog of 20,000 columns is looked up column by column.
    @functools.cached_property
    def _by_table(self) -> dict[str, list[Column]]:
        out: dict[str, list[Column]] = {}
        for c in self.columns:
            out.setdefault(c.table, []).append(c)
        return out

    @functools.cached_property
    def _index(self) -> dict[tuple[str, str], Column]:
        return {(c.table, c.name): c for c in self.columns}


def _columns(conn: psycopg.Connection) -> tuple[Column, ...]:
    rows = conn.execute(templates.load("map/columns.sql")).fetchall()
    out = []
    for schema, table, name, _num, type_, width, notnull, hasdef, textual, *rest in rows:
        unique, check, target, comment, table_comment, pk = rest
        label = f"{schema}.{table}"
        if label in OWN_TABLES:
            continue
        facts = ColumnFacts(type_, notnull, hasdef, unique, check, width)
        out.append(Column(label, name, facts, textual, target, comment, table_comment, tuple(pk)))
    return tuple(out)


def _foreign_keys(conn: psycopg.Connection) -> tuple[ForeignKey, ...]:
    rows = conn.execute(templates.load("map/foreign_keys.sql")).fetchall()
    return tuple(
        ForeignKey(f"{s}.{t}", tuple(cols), f"{rs}.{rt}", tuple(rcols), name, on_parts)
        for s, t, cols, rs, rt, rcols, name, on_parts in rows
        if f"{s}.{t}" not in OWN_TABLES
    )


def sample(
    conn: psycopg.Connection, wanted: dict[str, list[str]], rows: int = SAMPLE_ROWS
) -> dict[tuple[str, str], tuple[str | None, ...]]:
    """At most ``rows`` rows of the wanted columns of each table, in ONE statement."""
    tables = [
        {"name": tuple(t.split(".", 1)), "label": t, "columns": cols}
        for t, cols in wanted.items()
        if cols
    ]
    if not tables or rows <= 0:
        return {}
    text = templates.render("map/sample.sql.j2", tables=tables, ph={"limit": "%(limit)s"})
    values: dict[tuple[str, str], list[str | None]] = {}
    for index, row in conn.execute(text, {"limit": rows}):
        t = tables[index]
        for column, value in zip(t["columns"], row, strict=True):
            values.setdefault((t["label"], column), []).append(value)
    return {k: tuple(v) for k, v in values.items()}


def read(
    conn: psycopg.Connection,
    wanted,
    rows: int = SAMPLE_ROWS,  # type: ignore[no-untyped-def]
) -> Catalog:
    """Columns, foreign keys, then the sample of the columns ``wanted(columns, fks)``
    names: three round trips for any number of tables."""
    columns = _columns(conn)
    fks = _foreign_keys(conn)
    return Catalog(columns, fks, sample(conn, wanted(columns, fks), rows))


def checks(conn: psycopg.Connection) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(table, column) -> [(constraint, expression)] for single-column CHECKs."""
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, name, expr in conn.execute(templates.load("map/checks.sql")):
        out.setdefault((f"{schema}.{table}", column), []).append((name, expr))
    return out


def check_values(conn: psycopg.Connection, cases: list[dict]) -> dict[int, bool]:  # type: ignore[type-arg]
    """Whether each CHECK (``expression`` over ``column`` of ``type``) accepts ``value``,
    all in one statement; raises psycopg's DataError when a value does not cast."""
    if not cases:
        return {}
    text = templates.render("map/check_values.sql.j2", cases=cases, ph="%(v{})s")
    params = {f"v{i}": c["value"] for i, c in enumerate(cases)}
    with conn.transaction():
        return dict(conn.execute(text, params).fetchall())
