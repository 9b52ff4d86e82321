"""lgpd reapply: replay the erasure log on a database that has not recorded every erasure
in it — a snapshot, point-in-time or pg_dump restore brings back everyone erased after
the backup was taken.

The database's own receipts say what it has recorded: an entry whose receipt id is in
``auroractl.lgpd_requests`` is done. Each other entry is erased again, one transaction per
subject, through the same data map and statements as ``lgpd forget``, and recorded under
the entry's own receipt id (marked re-applied), so that a second run finds nothing to do
and every copy carries the same receipt. A subject the copy never had (created after the
backup) gets its receipt too, with nothing changed. ``check_absent`` is the verification
a restore test adds: every entry recorded, and no erased identifying value back.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import AuroraCtlError, NotFound
from auroractl.ops import lgpd
from auroractl.ops.lgpd import erasure_log as elog
from auroractl.ops.lgpd import forget as fg
from auroractl.ops.shared import state
from auroractl.plan import Job, JobResult, Plan, Progress

if TYPE_CHECKING:
    import psycopg

    from auroractl.ops.lgpd.erasure_log import Entry, ErasureLog
    from auroractl.ops.shared.datamap import DataMap

COMMAND = "lgpd reapply"
MAX_NOTES = 20


@dataclass(frozen=True)
class Replayed:
    """What re-applying one entry did."""

    subject_table: str
    subject_id: str
    receipt_id: str
    status: str  # reapplied | absent (the copy never had the subject) | failed
    rows: int = 0
    message: str = ""
    exit_code: int = 0


@dataclass(frozen=True)
class ReapplyReport:
    log: str
    entries: int  # in the log
    recorded: int  # already recorded by this database
    reapplied: int
    absent: int
    failed: int
    items: tuple[Replayed, ...] = ()
    duration_s: float = 0.0

    @property
    def rows(self) -> int:
        return sum(i.rows for i in self.items)

    @property
    def failures(self) -> tuple[Replayed, ...]:
        return tuple(i for i in self.items if i.status == "failed")


@dataclass(frozen=True)
class Todo:
    """The log, and what this database still lacks of it (oldest erasure first)."""

    log: str
    entries: tuple[Entry, ...]
    pending: tuple[Entry, ...]
    maps: dict[str, lgpd.ErasureMap] = field(default_factory=dict)
    unresolved: dict[str, str] = field(default_factory=dict)  # subject table -> why

    @property
    def recorded(self) -> int:
        return len(self.entries) - len(self.pending)


def recorded_ids(conn: psycopg.Connection, entries: Sequence[Entry]) -> set[str]:
    """The receipt ids of ``entries`` this database holds (none before auroractl wrote)."""
    if not entries or not state.readable(conn):
        return set()
    ids = [e.receipt_id for e in entries]
    return {r[0] for r in conn.execute(templates.load("lgpd/recorded.sql"), {"ids": ids})}


def _maps(
    conn: psycopg.Connection, m: DataMap, tables: Sequence[str]
) -> tuple[dict[str, lgpd.ErasureMap], dict[str, str]]:
    """The erasure map of each subject table the entries name, or why there is none."""
    maps, unresolved = {}, {}
    for table in dict.fromkeys(tables):
        try:
            em = lgpd.resolve(conn, m, lgpd.choose_subject(m, table))
            lgpd.require_erasing(em)
            maps[table] = em
        except AuroraCtlError as exc:
            unresolved[table] = str(exc)
    return maps, unresolved


def todo(conn: psycopg.Connection, m: DataMap, log: ErasureLog) -> Todo:
    """Read the log and this database's receipts: what is left to re-apply."""
    entries = tuple(log.entries())
    have = recorded_ids(conn, entries)
    pending = tuple(
        sorted((e for e in entries if e.receipt_id not in have),
               key=lambda e: (e.erased_at, e.receipt_id))
    )  # fmt: skip
    maps, unresolved = _maps(conn, m, [e.subject_table for e in pending])
    return Todo(log.uri, entries, pending, maps, unresolved)


def notes(t: Todo) -> tuple[str, ...]:
    """What --dry-run lists: each erasure to re-apply (the first MAX_NOTES)."""
    out = [f"{len(t.entries)} erasure(s) in {t.log}, {t.recorded} already recorded here"]
    out += [f"re-apply {e.subject_table} {e.subject_id} (receipt {e.receipt_id}, erased "
            f"{e.erased_at})" for e in t.pending[:MAX_NOTES]]  # fmt: skip
    if len(t.pending) > MAX_NOTES:
        out.append(f"and {len(t.pending) - MAX_NOTES} more")
    out += [f"cannot re-apply erasures of {k}: {why}" for k, why in t.unresolved.items()]
    return tuple(out)


def reapply_job(conn: psycopg.Connection, t: Todo) -> Plan | Job:
    """The change: nothing to do (an empty Plan), or a Job erasing each pending subject."""
    if not t.pending:
        summary = f"nothing to re-apply: every erasure of {t.log} is recorded here"
        return Plan(COMMAND, summary, (), notes(t))
    if not t.maps:
        table, why = next(iter(t.unresolved.items()))
        raise NotFound(f"cannot re-apply the erasures of {table}: {why}")
    first = next(e for e in t.pending if e.subject_table in t.maps)
    em = t.maps[first.subject_table]
    preview = fg.describe(em, _parsed(em, first.subject_id), 1, COMMAND)
    summary = f"re-apply {len(t.pending)} erasure(s) from {t.log} (one transaction per subject)"

    def run(progress: Progress) -> JobResult:
        progress.start(len(t.pending))
        done = reapply(conn, t, on_each=progress.advance)
        return JobResult(done.rows, done, failed=done.failed)

    plan = Plan(COMMAND, summary, preview.steps)
    return Job(COMMAND, summary, plan, run, notes=notes(t), unit="erasures")


def _parsed(em: lgpd.ErasureMap, raw: str) -> Any:
    try:
        return em.parse_id(raw)
    except AuroraCtlError:
        return raw


def reapply(
    conn: psycopg.Connection, t: Todo, on_each: Callable[[int], None] = lambda n: None
) -> ReapplyReport:
    """Re-apply every pending entry, each in its own transaction; failures are counted."""
    from auroractl.ops.shared.session import maintenance

    started = time.monotonic()
    state.ensure(conn)
    who = fg.operator(conn) + " (lgpd reapply)"
    items = []
    with maintenance(conn):
        for e in t.pending:
            items.append(_one(conn, t, e, who))
            on_each(1)
    count = {s: sum(i.status == s for i in items) for s in ("reapplied", "absent", "failed")}
    return ReapplyReport(
        t.log, len(t.entries), t.recorded, count["reapplied"], count["absent"], count["failed"],
        tuple(items), round(time.monotonic() - started, 3),
    )  # fmt: skip


def _one(conn: psycopg.Connection, t: Todo, e: Entry, who: str) -> Replayed:
    import psycopg

    def failed(message: str, code: int) -> Replayed:
        return Replayed(e.subject_table, e.subject_id, e.receipt_id, "failed", 0, message, code)

    em = t.maps.get(e.subject_table)
    if em is None:
        return failed(t.unresolved.get(e.subject_table, "not a data subject"), 3)
    try:
        sid = em.parse_id(e.subject_id)
        try:
            r = fg.forget_one(conn, em, sid, who, replay=e)
        except NotFound:  # the copy never had this subject: its receipt says so
            fg.record(conn, em, str(sid), who, identifiers=e.identifiers, replay=e)
            return Replayed(e.subject_table, e.subject_id, e.receipt_id, "absent")
    except AuroraCtlError as exc:
        return failed(str(exc), exc.exit_code)
    except psycopg.Error as exc:
        if conn.closed or conn.broken:
            raise
        return failed(f"database error [{getattr(exc, 'sqlstate', None) or '?'}]", 7)
    rows = sum(x["rows"] for x in r.tables.values())
    return Replayed(e.subject_table, e.subject_id, e.receipt_id, "reapplied", rows)


# ---------------------------------------------------------------- verification


@dataclass(frozen=True)
class Presence:
    """Whether erased subjects are back: one line per entry that is."""

    checked: int
    present: tuple[str, ...]


@functools.lru_cache(maxsize=32)
def _values_sql(em: lgpd.ErasureMap, columns: tuple[str, ...]) -> str:
    key = em.subject_target.match.subject_key
    return templates.render(
        "lgpd/identifiers.sql.j2",
        table=em.subject.qualified, key=key, columns=list(columns), ph=lgpd.PH,
    )  # fmt: skip


def _back(conn: psycopg.Connection, em: lgpd.ErasureMap, e: Entry, salt: bytes) -> list[str]:
    """The columns of the subject's row that hold a value the entry says was erased."""
    cols = tuple(c for c in e.identifiers if c in em.subject.columns)
    if not cols:
        return []
    row = conn.execute(_values_sql(em, cols), {"id": em.parse_id(e.subject_id)}).fetchone()
    if row is None:
        return []
    return [c for c, v in zip(cols, row, strict=True)
            if v is not None and elog.hash_value(salt, c, v) == e.identifiers[c]]  # fmt: skip


def check_absent(conn: psycopg.Connection, m: DataMap, log: ErasureLog) -> Presence:
    """No erased subject is present: each entry of the log has its receipt here, and the
    subject's row (when there is one) holds none of the values the entry hashed."""
    entries = log.entries()
    salt = log.salt(create=False)
    have = recorded_ids(conn, entries)
    maps, unresolved = _maps(conn, m, [e.subject_table for e in entries])
    present = []
    for e in entries:
        who = f"{e.subject_table} {e.subject_id}"
        if e.receipt_id not in have:
            present.append(f"{who}: no receipt of erasure {e.receipt_id}")
        em = maps.get(e.subject_table)
        if em is None:
            present.append(f"{who}: cannot check ({unresolved.get(e.subject_table)})")
        elif salt is not None:
            try:
                back = _back(conn, em, e, salt)
            except AuroraCtlError as exc:  # a key this map cannot read
                present.append(f"{who}: cannot check ({exc})")
                continue
            if back:
                present.append(f"{who}: erased values are back in {', '.join(back)}")
    return Presence(len(entries), tuple(present))
