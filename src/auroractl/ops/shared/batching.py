"""Batched jobs' common parts: the limits on their options, running their workers, and
batches that leave the table's own triggers alone."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from auroractl.errors import InvalidInput

if TYPE_CHECKING:
    import psycopg

# Per transaction, so it can never outlive a batch (a pooled or reused connection, an
# error): ordinary triggers (ENABLE, the default) and foreign-key triggers do not fire in
# it; ENABLE ALWAYS and ENABLE REPLICA ones do. A superuser-level setting: Aurora's
# rds_superuser may set it; on PostgreSQL 15+ `GRANT SET ON PARAMETER` gives it to a role.
REPLICA = "SET LOCAL session_replication_role = replica"


def check_batching(batch_size: int, sleep_ms: int, jobs: int) -> None:
    """Refuse --batch-size / --sleep-ms / --jobs outside what the jobs accept."""
    if not 1 <= batch_size <= 100_000:
        raise InvalidInput(f"--batch-size {batch_size} is out of range (1-100000)")
    if not 0 <= sleep_ms <= 60_000:
        raise InvalidInput(f"--sleep-ms {sleep_ms} is out of range (0-60000)")
    if not 1 <= jobs <= 32:
        raise InvalidInput(f"--jobs {jobs} is out of range (1-32)")


def run_workers(worker: Callable[..., None], args: Sequence[tuple[Any, ...]]) -> None:
    """``worker(*a)`` for each ``a``: in this thread when there is one, else one thread
    each. Every worker runs to its end; then the first error is raised here."""
    if len(args) == 1:
        worker(*args[0])
        return
    errors: list[BaseException] = []

    def guarded(*a: Any) -> None:
        try:
            worker(*a)
        except BaseException as exc:  # re-raised in the calling thread
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=a, daemon=True) for a in args]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]


@contextlib.contextmanager
def batch(conn: psycopg.Connection, *, quiet: bool) -> Iterator[None]:
    """One batch on an autocommit connection: as it is, or (``quiet``) in its own
    transaction with ``session_replication_role = replica``, so that the table's own
    triggers do not fire for auroractl's maintenance writes."""
    if not quiet:
        yield
        return
    with conn.transaction():
        conn.execute(REPLICA)
        yield


# A batch waits this long at most for a row a writer holds, and never more than a quarter
# of deadlock_timeout: the batch gives up before any deadlock check runs, so a writer
# never gets a deadlock error because of it.
ROW_WAIT = """SELECT set_config('lock_timeout', LEAST(50, setting::integer / 4) || 'ms', false)
  FROM pg_settings WHERE name = 'deadlock_timeout'"""


@contextlib.contextmanager
def row_waits(
    conn: psycopg.Connection,
) -> Iterator[Callable[[], contextlib.AbstractContextManager[None]]]:
    """The block's statements wait briefly for locked rows (``ROW_WAIT``); it is given
    ``patient()``, a block with the session's own lock_timeout again (a batch in the
    SKIP LOCKED form still waits for a table lock as long as any statement would)."""
    saved = conn.execute("SHOW lock_timeout").fetchone()[0]
    restore = "SELECT set_config('lock_timeout', %s, false)"

    @contextlib.contextmanager
    def patient() -> Iterator[None]:
        conn.execute(restore, [saved])
        try:
            yield
        finally:
            conn.execute(ROW_WAIT)

    conn.execute(ROW_WAIT)
    try:
        yield patient
    finally:
        if not conn.closed and not conn.broken:
            with contextlib.suppress(Exception):
                conn.execute(restore, [saved])


def can_set_replica(conn: psycopg.Connection) -> bool:
    """Whether this role may set ``session_replication_role`` (tried, then rolled back)."""
    import psycopg

    try:
        with conn.transaction():
            conn.execute(REPLICA)
            raise psycopg.Rollback()
    except psycopg.errors.InsufficientPrivilege:
        return False
    return True
