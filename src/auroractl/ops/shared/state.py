"""auroractl's own tables (ledger, receipts, job state): one versioned series.

``sql_templates/state/NNNN_name.sql`` run by the migration engine, each recorded in
``auroractl.state_version``. ``auroractl init`` installs or upgrades them; so does the
first use by a role that may (``ensure``). Features only INSERT and SELECT: writers call
``ensure(conn)`` first, readers ``readable(conn)``. Once installed and current, both only
read the version (once per connection) and never run DDL, so an operator role without
CREATE on the database works.

Version 1 is exactly the tables auroractl created on demand before they were versioned
(``CREATE TABLE IF NOT EXISTS``): a database that has some of them keeps their rows.
"""

from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from auroractl import templates
from auroractl.errors import Precondition
from auroractl.ops.shared import migrations
from auroractl.plan import Plan, Step

if TYPE_CHECKING:
    import psycopg

SCHEMA = "auroractl"
LEDGER = migrations.Ledger("state/applied.sql", "state/record.sql")
# The tables auroractl created on demand before they were versioned: finding one of
# them without the version table means "version 0 with rows to keep".
UNVERSIONED = (
    "operations",
    "schema_migrations",
    "schema_split",
    "drills",
    "matview_refreshes",
    "migrations_partition",
    "migrations_partition_chunks",
    "lgpd_requests",
)
LOCK_TIMEOUT = "5s"
_TXN = "auroractl state"
# Connections known to be at the latest version: the read happens once per connection.
_current: weakref.WeakKeyDictionary[psycopg.Connection, bool] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Status:
    installed: int  # 0: not installed
    latest: int
    pending: tuple[str, ...]  # files still to apply
    unversioned: bool  # tables of auroractl before versioning found, no version table
    may_install: bool  # this role may create (or upgrade) them

    @property
    def current(self) -> bool:
        return self.installed == self.latest


def directory() -> Path:
    return templates.templates_dir() / "state"


@functools.cache
def series() -> tuple[migrations.Migration, ...]:
    return tuple(migrations.discover(directory(), suffix=".sql", glob="[0-9]*.sql"))


def latest() -> int:
    return series()[-1].version


def _read(conn: psycopg.Connection) -> tuple[int, bool]:
    """(installed version, unversioned tables found): two catalog reads at most."""
    import psycopg.errors

    try:
        has_version, unversioned = conn.execute(
            templates.load("state/installed.sql"), {"tables": list(UNVERSIONED)}
        ).fetchone()
        if not has_version:
            return 0, bool(unversioned)
        rows = migrations.applied(conn, LEDGER)
    except psycopg.errors.InsufficientPrivilege:
        raise Precondition(
            f"this role may not read {SCHEMA}.state_version: grant it USAGE on schema "
            f"{SCHEMA} and SELECT, INSERT on its tables (see `auroractl init --help`)"
        ) from None
    return max((r.version for r in rows), default=0), False


def _may_install(conn: psycopg.Connection) -> bool:
    return bool(conn.execute(templates.load("state/may_install.sql")).fetchone()[0])


def status(conn: psycopg.Connection) -> Status:
    """Installed version, latest version, what is pending; reads only."""
    installed, unversioned = _read(conn)
    return Status(
        installed,
        latest(),
        tuple(m.file for m in series() if m.version > installed),
        unversioned,
        installed >= latest() or _may_install(conn),
    )


def _refusal(st: Status) -> Precondition:
    if st.installed > st.latest:
        return Precondition(
            f"auroractl's tables here are at version {st.installed}, newer than this "
            f"auroractl knows ({st.latest}): upgrade auroractl"
        )
    where = (
        "are not installed in this database"
        if st.installed == 0 and not st.unversioned
        else f"need an upgrade (version {st.installed} of {st.latest})"
    )
    return Precondition(
        f"auroractl's tables {where}: run `auroractl init` as a role that may create "
        f"them (CREATE on the database, or on schema {SCHEMA})"
    )


def _migration_steps(installed: int, txn: str = _TXN) -> list[Step]:
    out: list[Step] = []
    for m in series():
        if m.version > installed:
            sql = migrations.source(directory() / m.file)
            out += migrations.steps(m, sql, LEDGER, txn=txn)
    return out


def _lock_steps(txn: str = _TXN) -> list[Step]:
    return [
        Step(
            templates.load("state/lock_timeout.sql"),
            {"lock_timeout": LOCK_TIMEOUT},
            comment=f"lock_timeout {LOCK_TIMEOUT} for auroractl's tables",
            txn=txn,
        ),
        Step(templates.load("state/lock.sql"), comment="one installer at a time", txn=txn),
    ]


def ensure(conn: psycopg.Connection) -> None:
    """Install or upgrade auroractl's tables when needed, for a writer.

    Current: a cheap read, cached per connection, no DDL. Not current: the pending
    versions run in one transaction under an advisory lock and a short lock_timeout,
    re-reading the version under the lock (another session may have done it). A role
    that may not install gets a Precondition naming ``auroractl init``."""
    import psycopg.errors

    if _current.get(conn):
        return
    st = status(conn)
    if not st.current:
        if st.installed > st.latest or not st.may_install:
            raise _refusal(st)
        try:
            with conn.transaction():
                for step in _lock_steps():
                    conn.execute(step.sql, step.params)
                installed, _ = _read(conn)
                for step in _migration_steps(installed):
                    conn.execute(step.sql, step.params)
        except psycopg.errors.InsufficientPrivilege:
            raise _refusal(st) from None
    if conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
        _current[conn] = True


def readable(conn: psycopg.Connection) -> bool:
    """For a reader: False when auroractl never recorded anything here (nothing to read);
    True once the tables are current (an older or unversioned set is upgraded first, as
    by ``ensure``)."""
    if _current.get(conn):
        return True
    installed, unversioned = _read(conn)
    if installed == 0 and not unversioned:
        return False
    ensure(conn)
    return True


def plan_steps(conn: psycopg.Connection, txn: str = _TXN) -> tuple[Step, ...]:
    """The steps that bring auroractl's tables to the latest version, for a plan that
    needs them (none when current), in transaction ``txn`` (a plan may run them in its
    first transaction). Under the lock, a guard refuses if another session changed the
    version after the plan was made."""
    st = status(conn)
    if st.current:
        return ()
    if st.installed > st.latest or not st.may_install:
        raise _refusal(st)
    guard = [
        Step(
            templates.load("state/expect.sql"),
            {"version": str(st.installed)},
            comment=f"expect version {st.installed}",
            txn=txn,
        ),
        Step(templates.load("state/guard.sql"), comment="still that version?", txn=txn),
    ]
    return (*_lock_steps(txn), *guard, *_migration_steps(st.installed, txn))


def plan(conn: psycopg.Connection) -> Plan:
    """``auroractl init``: install or upgrade auroractl's tables (nothing when current)."""
    st = status(conn)
    if st.current:
        return Plan("init", f"auroractl's tables are at version {st.latest}: nothing to do")
    steps = plan_steps(conn)
    if st.installed == 0 and not st.unversioned:
        summary = f"install auroractl's tables (version {st.latest})"
    elif st.unversioned:
        summary = f"adopt auroractl's existing tables, rows kept, and upgrade to {st.latest}"
    else:
        summary = f"upgrade auroractl's tables from version {st.installed} to {st.latest}"
    return Plan("init", summary, steps, tuple(f"pending: {f}" for f in st.pending))
