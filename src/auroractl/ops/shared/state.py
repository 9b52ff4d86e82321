"""auroractl's own tables (ledger, receipts, job state): installed and upgraded as one
versioned series. Features only INSERT and SELECT; ``ensure`` is called before."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auroractl import templates

if TYPE_CHECKING:
    import psycopg


def ensure(conn: psycopg.Connection) -> None:
    """Install or upgrade auroractl's tables when needed (interim: the ledger only)."""
    conn.execute(templates.load("runner/ledger.sql"))
