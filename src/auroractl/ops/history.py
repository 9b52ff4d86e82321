"""The ledger of applied plans (``auroractl.operations``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auroractl import templates
from auroractl.errors import InvalidInput
from auroractl.ops.shared import state

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class Operation:
    id: int
    finished_at: dt.datetime
    duration_ms: int
    db_user: str
    os_user: str | None
    command: str
    summary: str
    statements: int
    outcome: str
    error: str | None


def history(
    conn: psycopg.Connection, limit: int = 20, command: str | None = None
) -> list[Operation]:
    """Newest first. An absent ledger means nothing was applied yet: an empty list."""
    if limit < 1:
        raise InvalidInput(f"--limit {limit} must be at least 1")
    if not state.readable(conn):
        return []
    rows = conn.execute(
        templates.load("history/list.sql"), {"limit": limit, "command": command}
    ).fetchall()
    return [Operation(*r) for r in rows]
