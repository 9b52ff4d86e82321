"""``partition migrate fill``: copy existing rows into the twin as a resumable ``plan.Job``.

Each batch (and its watermark in ``auroractl.migrations_partition_chunks``) is one short
transaction, so the job can be killed at any point and run again: it resumes at the
watermarks. Rows the mirror trigger already wrote are kept (ON CONFLICT DO NOTHING).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import Precondition
from auroractl.ops.partition_migrate import catalog as cat
from auroractl.ops.partition_migrate._common import T, render
from auroractl.ops.partition_migrate.catalog import Migration
from auroractl.ops.shared.batching import check_batching, run_workers
from auroractl.plan import Job, JobResult, Plan, Progress, Step

if TYPE_CHECKING:
    import psycopg

Connect = Callable[[], "psycopg.Connection"]
LOCK_RETRIES = 20


@dataclass(frozen=True)
class FillResult:
    table: str
    twin: str
    rows_read: int
    rows_copied: int
    batches: int
    chunks: int
    seconds: float
    resumed: bool

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds else 0.0


def placeholders(prefix: str, n: int) -> list[str]:
    return [f"%({prefix}{i})s" for i in range(n)]


def key_params(prefix: str, values: list[str] | None) -> dict[str, str]:
    return {f"{prefix}{i}": v for i, v in enumerate(values or [])}


def boundaries(conn: psycopg.Connection, m: Migration, table: tuple[str, str], parts: int) -> list:
    """Primary keys splitting ``table`` into about ``parts`` equal key ranges."""
    if parts <= 1:
        return []
    est = cat.estimate(conn, table)
    step = max(1, math.ceil(est / parts))
    rows = conn.execute(
        render("boundaries.sql.j2", table=table, pk=list(m.pk), ph={"step": "%(step)s"}),
        {"step": step},
    ).fetchall()
    return [r[0] for r in rows][: parts - 1]


def _batch_sql(m: Migration, lower: bool, upper: bool) -> str:
    n = len(m.pk)
    return render(
        "fill_batch.sql.j2",
        table=m.source_q,
        twin=m.twin_q,
        columns=list(m.columns),
        pk=list(m.pk),
        lower=placeholders("l", n) if lower else [],
        upper=placeholders("u", n) if upper else [],
        ph={"limit": "%(limit)s"},
    )


def describe_fill(m: Migration, batch_size: int, jobs: int) -> Plan:
    """What the batch loop runs, for --dry-run / confirmation / the ledger."""
    return Plan(
        f"partition migrate fill {m.label} --batch-size {batch_size} --jobs {jobs}",
        f"copy {m.label} into {m.schema}.{m.twin} in keyset batches of {batch_size:,} "
        f"({jobs} job(s)), each batch and its watermark one transaction",
        (Step(_batch_sql(m, True, True), comment="repeated per batch, each its own transaction"),),
    )


def fill_job(
    conn: psycopg.Connection,
    connect: Connect,
    table: str,
    *,
    batch_size: int = 5000,
    sleep_ms: int = 0,
    jobs: int = 1,
) -> Job:
    """The fill of ``table``'s migration as a Job; ``connect`` opens the workers' sessions."""
    check_batching(batch_size, sleep_ms, jobs)
    m = cat.find(conn, table)
    if m.phase != "prepped":
        raise Precondition(f"{m.label} is {m.phase}: fill runs between prep and swap")
    preview = describe_fill(m, batch_size, jobs)

    def run(progress: Progress) -> JobResult:
        result = fill(
            connect, m, batch_size=batch_size, sleep_ms=sleep_ms, jobs=jobs, progress=progress
        )
        return JobResult(result.rows_read, result)

    return Job(preview.command, preview.summary, preview, run)


def fill(
    connect: Connect,
    m: Migration,
    *,
    batch_size: int = 5000,
    sleep_ms: int = 0,
    jobs: int = 1,
    progress: Progress | None = None,
) -> FillResult:
    """Copy every row into the twin; safe to kill at any point and run again."""
    progress = progress or Progress()
    started = time.monotonic()
    chunks, resumed = _chunks(connect, m, jobs, progress)
    tally = _Tally()
    todo = [c for c in chunks if not c["done"]]
    run_workers(_copy_chunk, [(connect, m, c, batch_size, sleep_ms, progress, tally) for c in todo])
    with connect() as conn:
        conn.execute(templates.load(T + "state_filled.sql"), _key(m))
    return FillResult(
        m.label,
        f"{m.schema}.{m.twin}",
        tally.read,
        tally.copied,
        tally.batches,
        len(chunks),
        time.monotonic() - started,
        resumed,
    )


def _key(m: Migration) -> dict[str, str]:
    return {"schema": m.schema, "table": m.table}


def _chunks(
    connect: Connect, m: Migration, jobs: int, progress: Progress
) -> tuple[list[dict[str, Any]], bool]:
    """The key ranges (with their watermarks) the workers copy: the recorded ones when
    resuming, else ``jobs`` new ones. Starts the progress at the rows still to copy."""
    from auroractl.ops.shared.session import maintenance

    with connect() as conn, maintenance(conn):
        chunks = cat.chunks(conn, m)
        resumed = bool(chunks)
        if not chunks:
            edges = [None, *boundaries(conn, m, m.source_q, jobs), None]
            with conn.transaction():
                for i in range(len(edges) - 1):
                    conn.execute(
                        templates.load(T + "chunk_insert.sql"),
                        {**_key(m), "chunk": i, "lower": edges[i], "upper": edges[i + 1]},
                    )
            chunks = cat.chunks(conn, m)
        total = max(0, cat.estimate(conn, m.source_q) - sum(c["copied"] for c in chunks))
        progress.start(total)
    return chunks, resumed


@dataclass
class _Tally:
    """What the workers did, added up under a lock."""

    read: int = 0
    copied: int = 0
    batches: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, read: int, copied: int) -> None:
        with self.lock:
            self.read += read
            self.copied += copied
            self.batches += 1


def _copy_chunk(
    connect: Connect,
    m: Migration,
    chunk: dict[str, Any],
    batch_size: int,
    sleep_ms: int,
    progress: Progress,
    tally: _Tally,
) -> None:
    """One worker: batches from the chunk's watermark to its upper bound."""
    from auroractl.ops.shared.session import maintenance

    with connect() as conn, maintenance(conn):
        conn.execute("SET synchronous_commit = off")
        after = chunk["watermark"] or chunk["lower"]
        upper = chunk["upper"]
        with_lower = _batch_sql(m, True, upper is not None)
        without_lower = _batch_sql(m, False, upper is not None)
        while True:
            params = {"limit": batch_size, **key_params("l", after), **key_params("u", upper)}
            sql = with_lower if after else without_lower
            read, copied, last, done = _batch(conn, m, chunk, sql, params, batch_size)
            tally.add(read, copied)
            if read:
                progress.advance(read)
            if done:
                return
            after = last
            if sleep_ms:
                time.sleep(sleep_ms / 1000)


def _batch(
    conn: psycopg.Connection,
    m: Migration,
    chunk: dict[str, Any],
    sql: str,
    params: dict[str, Any],
    batch_size: int,
) -> tuple[int, int, Any, bool]:
    """One batch and its watermark in one transaction; a lock timeout (a writer holds one
    of the rows) means wait a little and try again."""
    import psycopg

    for failures in range(1, LOCK_RETRIES + 2):
        try:
            with conn.transaction():
                read, copied, last = conn.execute(sql, params).fetchone()
                done = read < batch_size
                conn.execute(
                    templates.load(T + "chunk_progress.sql"),
                    {
                        **_key(m),
                        "chunk": chunk["chunk"],
                        "watermark": last,
                        "copied": copied,
                        "done": done,
                    },
                )
            return read, copied, last, done
        except psycopg.errors.LockNotAvailable:
            if failures > LOCK_RETRIES:
                raise
            time.sleep(min(2.0, 0.05 * failures))
    raise AssertionError("unreachable")
