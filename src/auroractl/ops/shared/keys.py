"""How an encryption key reaches the database: in a session's startup packet, never in a
statement.

A bind parameter is logged with its statement (``DETAIL: parameters: $4 = '...'``) once
the statement is slower than ``log_min_duration_statement``, under ``log_statement =
'all'`` and, on PostgreSQL 16+, by auto_explain; a literal is in ``pg_stat_activity``
too. So a session that needs the key is opened with it as the custom setting ``KEY``
(``db.connect(..., secrets=...)``: libpq ``options``, checked on arrival), and SQL reads
``current_setting('auroractl.encryption_key')``: every statement, plan and error the
server may log holds the setting's name only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from auroractl.errors import Precondition

if TYPE_CHECKING:
    import psycopg

KEY = "auroractl.encryption_key"
NEW_KEY = "auroractl.new_encryption_key"  # rotate's target key


def settings(key: str, new_key: str | None = None) -> dict[str, str]:
    """The ``secrets`` of a session that reads ``KEY`` (and ``NEW_KEY``)."""
    return {KEY: key} | ({NEW_KEY: new_key} if new_key is not None else {})


def require(conn: psycopg.Connection, *names: str) -> None:
    """Refuse a session opened without the key(s): SQL would read NULL or fail."""
    for name in names or (KEY,):
        row = conn.execute("SELECT coalesce(current_setting(%s, true), '') <> ''", [name])
        if not row.fetchone()[0]:
            raise Precondition(
                f"this session has no {name}: open it with db.connect(..., "
                "secrets=keys.settings(key))"
            )


def same(conn: psycopg.Connection) -> bool:
    """Whether ``NEW_KEY`` is ``KEY`` (compared in the session: neither leaves it)."""
    sql = "SELECT current_setting(%s, true) = current_setting(%s, true)"
    return bool(conn.execute(sql, [KEY, NEW_KEY]).fetchone()[0])
