"""The maintenance session: the owner's policy of `rls enable` lets auroractl see every row."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

MAINTENANCE_POLICY = "auroractl_maintenance"
MAINTENANCE_SETTING = "auroractl.maintenance"


@contextlib.contextmanager
def maintenance(conn: psycopg.Connection) -> Iterator[None]:
    """Run the block as the owner's maintenance session: every row visible and writable.

    Sets ``auroractl.maintenance = on`` for the session (the connection is autocommit)
    and restores the previous value afterwards. Harmless where RLS is not enabled.
    """
    previous = conn.execute("SELECT current_setting(%s, true)", [MAINTENANCE_SETTING]).fetchone()[0]
    conn.execute("SELECT set_config(%s, 'on', false)", [MAINTENANCE_SETTING])
    try:
        yield
    finally:
        if not conn.closed and not conn.broken:
            with contextlib.suppress(Exception):
                conn.execute(
                    "SELECT set_config(%s, %s, false)", [MAINTENANCE_SETTING, previous or ""]
                )
