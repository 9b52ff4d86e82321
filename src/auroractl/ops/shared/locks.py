"""Lock timeouts that name who holds the lock, for the runner and for ops' own reads."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from auroractl import templates
from auroractl.errors import LockTimeout

if TYPE_CHECKING:
    import psycopg


@contextlib.contextmanager
def naming_blockers(conn: psycopg.Connection, *relations: str) -> Iterator[None]:
    """Turn a lock wait beyond lock_timeout inside the block into a LockTimeout naming
    the session that holds the lock (on ``relations`` or their partitions)."""
    import psycopg

    try:
        yield
    except psycopg.errors.LockNotAvailable:
        raise lock_timeout_error(conn, relations) from None


def lock_timeout_error(
    conn: psycopg.Connection, relations: tuple[str, ...], attempts: int = 1
) -> LockTimeout:
    """A LockTimeout naming the session that holds a lock on ``relations``."""
    what = ", ".join(relations) or "a relation"
    lock_timeout = conn.execute("SHOW lock_timeout").fetchone()[0]
    msg = f"could not lock {what} within lock_timeout {lock_timeout} after {attempts} attempts"
    public = msg  # the ledger keeps this much: a blocking query's text may hold personal data
    rows = []
    if relations:
        with contextlib.suppress(Exception):  # naming the blocker is best effort
            rows = conn.execute(
                templates.load("runner/blockers.sql"), [list(relations)] * 2
            ).fetchall()
        if rows:
            pid, state, query = rows[0]
            msg += f": blocked by pid {pid} ({state}: {' '.join((query or '').split())[:120]})"
    error = LockTimeout(msg)
    error.ledger_text = public
    return error
