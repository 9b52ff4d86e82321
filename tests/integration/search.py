"""Independent SQL for the erasure tests: find planted canaries anywhere, checksum rows."""

from __future__ import annotations

import psycopg
from psycopg import sql

TEXT_COLUMNS = (
    "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, NULL) "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
    "JOIN pg_type t ON t.oid = a.atttypid "
    "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', "
    "'pg_toast') AND (t.typcategory = 'S' OR t.typname IN ('json', 'jsonb', 'bytea'))"
)


def checksum(conn: psycopg.Connection, query: str, params: list | None = None) -> str:
    return conn.execute(
        f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM ({query}) x",
        params,
    ).fetchone()[0]


def survivors(su: psycopg.Connection, needles: list[str], key: str | None = None) -> list[str]:
    """Every text/jsonb/bytea column of every table (partitions included) that still holds
    one of ``needles``; bytea columns named *_encrypted are decrypted with ``key``."""
    found = []
    for schema, table, column, typ in su.execute(TEXT_COLUMNS).fetchall():
        col = sql.Identifier(column)
        if typ == "bytea" and column.endswith("_encrypted") and key:
            expr = sql.SQL("pgp_sym_decrypt({}, {})").format(col, sql.Literal(key))
        elif typ == "bytea":
            expr = sql.SQL("encode({}, 'escape')").format(col)
        else:
            expr = sql.SQL("{}::text").format(col)
        for needle in needles:
            q = sql.SQL("SELECT count(*) FROM {} WHERE strpos({}, {}) > 0").format(
                sql.Identifier(schema, table), expr, sql.Literal(needle)
            )
            if su.execute(q).fetchone()[0]:
                found.append(f"{schema}.{table}.{column}: {needle}")
    return found
