"""Restore tests: restore the target somewhere else, verify the copy, tear it down.

Two backends share the verification (``verify``), the report (``report``) and the
history (``common``):

- local (any PostgreSQL, the sandbox): ``local`` — pg_dump / pg_restore into a scratch
  database ``auroractl_restore_test_<ts>`` on the same server;
- aurora (the target profile has ``cluster_id``): ``aurora`` — a snapshot or PITR
  restore into a cluster ``auroractl-restore-test-<cluster>-<ts>``.

A run never changes the source except for its own history row; a session advisory
lock on the source keeps two runs from overlapping. The run is a verification (its
report is its record); tearing down a copy and ``cleanup`` are changes, built here as
a ``plan.AwsAction`` or a ``plan.Plan`` for the runner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auroractl.ops.restore_test.common import HOOK_ENV, LOCK_KEY, history
from auroractl.ops.restore_test.model import (
    Leftover,
    RestoreTestConfig,
    RestoreTestReport,
    RestoreTestRow,
    parse_duration,
    settled,
)

if TYPE_CHECKING:
    import psycopg

    from auroractl.config import Target
    from auroractl.plan import AwsAction, Plan

__all__ = [
    "HOOK_ENV",
    "LOCK_KEY",
    "Leftover",
    "RestoreTestConfig",
    "RestoreTestReport",
    "RestoreTestRow",
    "aurora_cleanup",
    "history",
    "local_cleanup",
    "parse_duration",
    "run_aurora",
    "run_local",
    "settled",
]


def run_local(conn: psycopg.Connection, cfg: RestoreTestConfig, **kw: Any) -> RestoreTestReport:
    """The local backend (see ``local.run_local``)."""
    from auroractl.ops.restore_test import local

    return local.run_local(conn, cfg, **kw)


def run_aurora(
    conn: psycopg.Connection, target: Target, cfg: RestoreTestConfig, **kw: Any
) -> RestoreTestReport:
    """The Aurora backend (see ``aurora.run_aurora``)."""
    from auroractl.ops.restore_test import aurora

    return aurora.run_aurora(conn, target, cfg, **kw)


def local_cleanup(conn: psycopg.Connection) -> tuple[list[Leftover], Plan]:
    """Scratch databases on this server, and the Plan dropping the expired ones."""
    from auroractl.ops.restore_test import local

    found = local.leftovers(conn)
    return found, local.plan_cleanup(found)


def aurora_cleanup(
    target: Target, waiter_delay: int, rds: Any = None
) -> tuple[list[Leftover], AwsAction]:
    """Restore-test clusters, and the AwsAction deleting the expired ones."""
    from auroractl import aws
    from auroractl.ops.restore_test import aurora

    rds = rds or aws.for_target(target, "rds")
    region = rds.meta.region_name
    found = aurora.leftovers(rds)
    return found, aurora.plan_cleanup(rds, found, waiter_delay, region)
