"""LGPD erasure (Art. 18): one transaction per subject, and a receipt without personal data.

Per subject, in one transaction: lock the subject's row; apply the data map's rules to the
rows that reference it and to the rows it references that no one else does; then to the
subject's own row; remove the personal values of all those rows from the audit log
(through its (table_name, row_pk) index) and from undelivered webhook payloads; write the
receipt to ``auroractl.lgpd_requests`` (tables, columns, row counts and the columns kept
under a legal basis, never a value). Everything changed is filtered by "still differs", so a
re-run changes nothing and says the subject was already forgotten.

With an erasure log (``ops.lgpd.erasure_log``), each committed erasure is then appended to
it, with the salted hashes of the identifying values it removed (also kept in the receipt,
so that a re-run writes an entry the log missed).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import EXIT_NOT_LOGGED, AuroraCtlError, NotFound, Precondition
from auroractl.ops.lgpd import (
    HASH_PREFIX,
    PH,
    PSEUDONYM_PREFIX,
    ErasureMap,
    TableInfo,
    Target,
    require_erasing,
)
from auroractl.ops.lgpd import erasure_log as elog
from auroractl.ops.shared import state
from auroractl.plan import Job, JobResult, Plan, Progress, Step

if TYPE_CHECKING:
    import psycopg

    from auroractl.ops.lgpd.erasure_log import Entry, ErasureLog

ACTION_WORDS = {"anonymise": "anonymised", "delete": "deleted"}


@dataclass(frozen=True)
class Action:
    """One statement of a subject's erasure, with what it does to which table."""

    table: str
    what: str  # anonymised | deleted | scrubbed (...)
    sql: str
    params: dict[str, Any]
    count_sql: str
    columns: tuple[str, ...] = ()  # the columns it changes (the receipt names them)
    scrub_of: str | None = None  # the table whose rows' entries / events this scrubs

    @classmethod
    def of(
        cls, table: str, what: str, template: str, ctx: dict[str, Any], params: Any, **kw: Any
    ) -> Action:
        """The statement and the one counting what it would change, from one template."""
        sql = templates.render(template, count=False, **ctx)
        return cls(table, what, sql, params, templates.render(template, count=True, **ctx), **kw)


@dataclass(frozen=True)
class Receipt:
    request_id: str | None
    subject_table: str
    subject_id: str
    status: str  # completed | already-forgotten | dry-run | failed
    requested_at: dt.datetime | None
    due_at: dt.datetime | None
    completed_at: dt.datetime | None
    tables: dict[str, dict[str, Any]]
    legal_holds: list[dict[str, Any]]
    operator: str = ""
    identifiers: dict[str, str] = field(default_factory=dict)  # column -> salted hash


@dataclass(frozen=True)
class Failure:
    subject_id: str
    message: str
    exit_code: int


@dataclass
class BatchResult:
    receipts: list[Receipt] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    duration_s: float = 0.0
    unlogged: list[Failure] = field(default_factory=list)  # erased, not in the erasure log
    logged: int = 0  # entries written to the erasure log by this run


@dataclass(frozen=True)
class LogSink:
    """Where a batch appends its erasures, and the salt their hashes are keyed with."""

    log: ErasureLog
    salt: bytes
    database: str


def operator(conn: psycopg.Connection) -> str:
    import getpass

    try:
        os_user = getpass.getuser()
    except Exception:
        os_user = "?"
    db_user = conn.execute("SELECT session_user").fetchone()[0]
    return f"{db_user} (os user {os_user})"


@functools.cache
def _sql(name: str) -> str:
    return templates.load(name)


def _sets(t: Target) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The SET entries of an anonymising UPDATE and their bind values (the same for every
    subject: pseudonyms and hashes are expressions of the row itself)."""
    sets, values = [], {}
    for i, tr in enumerate(t.erased):
        entry = {"column": tr.column, "kind": tr.kind, "ph": f"%(v{i})s", "prefix": f"%(p{i})s"}
        if tr.kind in ("fixed", "pseudonym"):
            values[f"v{i}"] = tr.value or ""
        if tr.kind in ("pseudonym", "hash"):
            values[f"p{i}"] = PSEUDONYM_PREFIX if tr.kind == "pseudonym" else HASH_PREFIX
        sets.append(entry)
    return sets, values


@functools.lru_cache(maxsize=8)
def _lock_sql(subject: TableInfo, key: str) -> str:
    return templates.render("lgpd/lock_subject.sql.j2", table=subject.qualified, key=key, ph=PH)


@functools.lru_cache(maxsize=32)
def _pks_sql(t: Target) -> str:
    return templates.render("lgpd/pks.sql.j2", **t.ctx())


def actions(em: ErasureMap, subject_id: Any) -> list[Action]:
    """The statements that erase one subject, in order (row changes, then scrubs)."""
    out = []
    for a in _rendered(em):
        params = dict(a.params)
        if "id" in params:
            params["id"] = subject_id
        out.append(replace(a, params=params))
    return out


def _row_action(t: Target) -> Action | None:
    """The statement that deletes or anonymises the subject's rows of one table."""
    if t.action == "delete":
        what, cols = "deleted", ()
        return Action.of(t.label, what, "lgpd/delete.sql.j2", t.ctx(), {"id": None}, columns=cols)
    if t.action != "anonymise":
        return None
    sets, values = _sets(t)
    cols = tuple(s["column"] for s in sets)
    ctx = t.ctx() | {"sets": sets}
    return Action.of(
        t.label, "anonymised", "lgpd/update.sql.j2", ctx, {"id": None, **values}, columns=cols
    )


def _scrubs(em: ErasureMap, t: Target) -> list[Action]:
    """The statements removing those rows' personal values from the audit log and from
    undelivered webhook events (matched by the rows' keys, gathered before any change)."""
    cols = list(t.scrub_columns)
    if not cols:
        return []
    out = []
    if (log := em.audit_log) is not None:
        out.append(
            Action.of(
                log.label,
                f"scrubbed (entries about {t.label})",
                "lgpd/scrub_audit.sql.j2",
                {"table": log.qualified, "ph": PH, "grouped": "row_pks" in log.columns},
                {"label": t.label, "cols": cols, "pks": "(row_pk of each row above)"},
                scrub_of=t.label,
            )
        )
    if (hooks := em.webhooks) is not None:
        pk = list(t.info.pk)
        out.append(
            Action.of(
                hooks.label,
                f"scrubbed (undelivered events about {t.label})",
                "lgpd/scrub_webhooks.sql.j2",
                {"table": hooks.qualified, "ph": PH, "composite": len(pk) > 1},
                {"schema": t.info.schema, "names": [t.info.name, *t.info.partitions],
                 "pkcols": pk if len(pk) > 1 else pk[0], "cols": cols,
                 "pks": "(row_pk of each row above)"},
                scrub_of=t.label,
            )
        )  # fmt: skip
    return out


@functools.lru_cache(maxsize=8)
def _rendered(em: ErasureMap) -> tuple[Action, ...]:
    """The statements rendered once per map; only their bind values change per subject."""
    rows = [a for t in em.targets if (a := _row_action(t)) is not None]
    scrubs = [a for t in em.targets if t.info.pk for a in _scrubs(em, t)]
    return (*rows, *scrubs)


def legal_holds(em: ErasureMap) -> list[dict[str, Any]]:
    """The personal columns the map keeps, with the legal basis it states (the receipt)."""
    return [{"table": t.label, "column": k.column, "basis": k.basis}
            for t in em.targets for k in t.kept]  # fmt: skip


def describe(em: ErasureMap, first: Any, n: int, command: str) -> Plan:
    """A Plan showing the statements for the first subject (what --dry-run and the
    confirmation prompt show, and what the ledger hashes)."""
    steps = [
        Step(a.sql, a.params, comment=f"{a.table}: {a.what}", txn="subject")
        for a in actions(em, first)
    ]
    who = f"{em.subject.label} {first}" if n == 1 else f"{n} subjects of {em.subject.label}"
    return Plan(command, f"forget {who} (one transaction per subject)", tuple(steps))


def _add(tables: dict[str, dict[str, Any]], a: Action, rows: int) -> None:
    entry = tables.setdefault(a.table, {"action": a.what, "rows": 0})
    if entry["action"] != a.what and a.what.startswith("scrubbed"):
        entry["action"] = "scrubbed"
    entry["rows"] += rows
    if a.columns and rows:
        entry["columns"] = sorted(set(entry.get("columns", [])) | set(a.columns))


def _row_pks(conn: psycopg.Connection, em: ErasureMap, subject_id: Any) -> dict[str, list[str]]:
    """The keys (as the audit log writes them) of every row the erasure reaches, changed
    now or not (older audit entries and events still hold their values)."""
    if em.audit_log is None and em.webhooks is None:
        return {}
    return {t.label: [r[0] for r in conn.execute(_pks_sql(t), {"id": subject_id})]
            for t in em.targets if t.info.pk and t.scrub_columns}  # fmt: skip


@functools.lru_cache(maxsize=8)
def _identifiers_sql(em: ErasureMap) -> str:
    key = em.subject_target.match.subject_key
    return templates.render(
        "lgpd/identifiers.sql.j2",
        table=em.subject.qualified, key=key, columns=list(em.identifiers), ph=PH,
    )  # fmt: skip


def identifier_values(
    conn: psycopg.Connection, em: ErasureMap, subject_id: Any
) -> dict[str, str | None] | None:
    """The subject's identifying values as text (None: no such row)."""
    if not em.identifiers:
        return {}
    row = conn.execute(_identifiers_sql(em), {"id": subject_id}).fetchone()
    return None if row is None else dict(zip(em.identifiers, row, strict=True))


def hashes(
    salt: bytes, before: dict[str, str | None], after: dict[str, str | None] | None
) -> dict[str, str]:
    """The salted hashes of the values the erasure removed (unchanged ones are left out:
    they are still there after any erasure and would prove nothing)."""
    return {
        c: elog.hash_value(salt, c, v)
        for c, v in before.items()
        if v is not None and (after is None or after.get(c) != v)
    }


def _run(
    conn: psycopg.Connection,
    em: ErasureMap,
    subject_id: Any,
    dry_run: bool,
    salt: bytes | None = None,
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Execute (or count) one subject's actions on the current transaction; with ``salt``,
    also the hashes of the identifying values they removed."""
    key = em.subject_target.match.subject_key
    if conn.execute(_lock_sql(em.subject, key), {"id": subject_id}).fetchone() is None:
        raise NotFound(f"{em.subject.label} {subject_id} does not exist: nothing changed")
    before = identifier_values(conn, em, subject_id) if salt and not dry_run else None
    tables: dict[str, dict[str, Any]] = {}
    pks = _row_pks(conn, em, subject_id)
    for a in actions(em, subject_id):
        params = dict(a.params)
        if a.scrub_of is not None:
            params["pks"] = pks.get(a.scrub_of, [])  # replaces the description
            if not params["pks"]:
                continue
        if dry_run:
            rows = conn.execute(a.count_sql, params).fetchone()[0]
        else:
            rows = conn.execute(a.sql, params).rowcount
        _add(tables, a, rows)
    if before is None or salt is None:
        return tables, {}
    return tables, hashes(salt, before, identifier_values(conn, em, subject_id))


def record(
    conn: psycopg.Connection,
    em: ErasureMap,
    sid: str,
    who: str,
    *,
    status: str = "completed",
    requested_at: dt.datetime | None = None,
    tables: dict[str, Any] | None = None,
    holds: list[dict[str, Any]] | None = None,
    error: str | None = None,
    identifiers: dict[str, str] | None = None,
    replay: Entry | None = None,
) -> tuple:
    """Write one erasure receipt; ``replay``: the erasure log's entry it re-applies (its
    receipt id and request time, marked re-applied)."""
    return conn.execute(
        _sql("lgpd/record.sql"),
        {
            "kind": "erasure",
            "subject_table": em.subject.label,
            "subject_id": sid,
            "status": status,
            "requested_at": replay.requested_at if replay else requested_at,
            "operator": who,
            "tables": json.dumps(tables or {}),
            "legal_holds": json.dumps(holds or []),
            "error": error,
            "request_id": replay.receipt_id if replay else None,
            "identifiers": None if identifiers is None else json.dumps(identifiers),
            "reapplied": replay is not None,
        },
    ).fetchone()


def forget_one(
    conn: psycopg.Connection,
    em: ErasureMap,
    subject_id: Any,
    who: str,
    requested_at: dt.datetime | None = None,
    dry_run: bool = False,
    *,
    salt: bytes | None = None,
    replay: Entry | None = None,
) -> Receipt:
    """Erase one subject in one transaction; NotFound (nothing changed) for an unknown id.
    ``salt``: hash the identifying values removed (the erasure log's salt). ``replay``: an
    erasure log entry re-applied (its receipt, even when nothing is left to change)."""
    from auroractl.ops.shared import locks

    relations = [t.label for t in em.targets]
    label, sid = em.subject.label, str(subject_id)
    with locks.naming_blockers(conn, *relations), conn.transaction():
        (tables, found), holds = _run(conn, em, subject_id, dry_run, salt), legal_holds(em)
        if dry_run:  # raising rolls the transaction back (counts only, but be sure)
            raise _Rollback(
                Receipt(None, label, sid, "dry-run", None, None, None, tables, holds, who)
            )
        if replay is None and sum(e["rows"] for e in tables.values()) == 0:
            prev = conn.execute(
                _sql("lgpd/previous.sql"), {"subject_table": label, "subject_id": sid}
            ).fetchone()
            if prev is not None:
                _, rid, req, due, done, _tables, _holds, ids = prev
                return Receipt(
                    rid, label, sid, "already-forgotten", req, due, done, {}, [], who, ids or {}
                )
        ids = replay.identifiers if replay is not None else found if salt else None
        row = record(conn, em, sid, who, requested_at=requested_at, tables=tables,
                     holds=holds, identifiers=ids, replay=replay)  # fmt: skip
    _, rid, req, due, done = row
    return Receipt(rid, label, sid, "completed", req, due, done, tables, holds, who, ids or {})


class _Rollback(Exception):
    def __init__(self, receipt: Receipt) -> None:
        super().__init__("dry-run")
        self.receipt = receipt


def record_failure(
    conn: psycopg.Connection,
    em: ErasureMap,
    subject_id: Any,
    who: str,
    error: str,
    requested_at: dt.datetime | None = None,
) -> None:
    """A failed erasure is a receipt too (status failed; the error's class, never its text,
    which may quote personal values)."""
    record(conn, em, str(subject_id), who, status="failed", requested_at=requested_at,
           error=error)  # fmt: skip


def forget(
    conn: psycopg.Connection,
    em: ErasureMap,
    raw_ids: Sequence[str],
    *,
    dry_run: bool = False,
    requested_at: dt.datetime | None = None,
    on_each: Callable[[int], None] = lambda n: None,
    log: ErasureLog | None = None,
) -> BatchResult:
    """Forget each subject in its own transaction; a failure never undoes the others.
    With ``log``, each erasure is appended to it once committed (its salt is read or made
    first: an unreachable log stops the batch before anything is erased)."""
    from auroractl.ops.shared.session import maintenance

    require_erasing(em)
    result = BatchResult()
    started = time.monotonic()
    sink = None
    if not dry_run:
        if log is not None:
            salt = log.salt(create=True)
            if not salt:
                raise Precondition(f"erasure log {log.uri}: it has no salt after creating one")
            sink = LogSink(log, salt, str(conn.info.dbname))
        state.ensure(conn)
    who = operator(conn)
    with maintenance(conn):
        for raw in raw_ids:
            _forget_raw(conn, em, raw, who, requested_at, dry_run, result, sink)
            on_each(1)
    result.duration_s = time.monotonic() - started
    return result


def entry_of(r: Receipt, database: str) -> Entry:
    """The erasure log's entry of a receipt."""
    when = r.completed_at or dt.datetime.now(dt.UTC)
    return elog.Entry(
        subject_table=r.subject_table,
        subject_id=r.subject_id,
        receipt_id=str(r.request_id),
        erased_at=when.astimezone(dt.UTC).isoformat(timespec="seconds"),
        requested_at=r.requested_at.astimezone(dt.UTC).isoformat() if r.requested_at else None,
        identifiers=dict(r.identifiers),
        database=database,
    )


def log_receipt(sink: LogSink, r: Receipt, result: BatchResult) -> None:
    """Append a committed erasure to the log (an entry already there is left as it is);
    a failure is counted, loudly: the database is erased, a restore would undo it."""
    try:
        if sink.log.append(entry_of(r, sink.database)):
            result.logged += 1
    except AuroraCtlError as exc:
        result.unlogged.append(Failure(r.subject_id, str(exc), EXIT_NOT_LOGGED))


def _forget_raw(
    conn: psycopg.Connection,
    em: ErasureMap,
    raw: str,
    who: str,
    requested_at: dt.datetime | None,
    dry_run: bool,
    result: BatchResult,
    sink: LogSink | None = None,
) -> None:
    """One subject: its receipt (then its log entry), or its failure (recorded as a failed
    receipt when the erasure was attempted)."""
    import psycopg

    try:
        sid = em.parse_id(raw)
    except AuroraCtlError as exc:
        result.failures.append(Failure(raw.strip(), str(exc), exc.exit_code))
        return
    try:
        salt = sink.salt if sink else None
        receipt = forget_one(conn, em, sid, who, requested_at, dry_run, salt=salt)
        result.receipts.append(receipt)
        if sink is not None:
            log_receipt(sink, receipt, result)
    except _Rollback as rb:
        result.receipts.append(rb.receipt)
    except NotFound as exc:
        result.failures.append(Failure(str(sid), str(exc), exc.exit_code))
    except AuroraCtlError as exc:
        result.failures.append(Failure(str(sid), str(exc), exc.exit_code))
        if not dry_run:
            record_failure(conn, em, sid, who, type(exc).__name__, requested_at)
    except psycopg.Error as exc:
        if conn.closed or conn.broken:
            raise
        code = getattr(exc, "sqlstate", None) or "?"
        what = f"database error [{code}] {type(exc).__name__}"
        result.failures.append(Failure(str(sid), what, 7))
        if not dry_run:
            record_failure(conn, em, sid, who, what, requested_at)


# ---------------------------------------------------------------- the job


@dataclass(frozen=True)
class ForgetReport:
    """What ``lgpd forget`` did: the receipts, the failures, and their counts."""

    receipts: tuple[Receipt, ...]
    failures: tuple[Failure, ...]
    ok: int
    failed: int
    duration_s: float
    unlogged: tuple[Failure, ...] = ()  # erased here, missing from the erasure log
    logged: int = 0

    @property
    def rows(self) -> int:
        return sum(e["rows"] for r in self.receipts for e in r.tables.values())


def report(result: BatchResult) -> ForgetReport:
    return ForgetReport(
        tuple(result.receipts),
        tuple(result.failures),
        len(result.receipts),
        len(result.failures),
        round(result.duration_s, 3),
        tuple(result.unlogged),
        result.logged,
    )


class SubjectFailed(AuroraCtlError):
    """The one subject of a request could not be forgotten (its own exit code)."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.exit_code = failure.exit_code


MAX_ESTIMATES = 20


def estimate(conn: psycopg.Connection, em: ErasureMap, raw_ids: Sequence[str]) -> tuple[str, ...]:
    """What forgetting would change, counted in rolled-back transactions (the notes of a
    --dry-run). The only subject unknown or malformed: that failure is the error."""
    result = forget(conn, em, raw_ids, dry_run=True)
    if len(raw_ids) == 1 and result.failures:
        raise SubjectFailed(result.failures[0])
    notes = []
    for r in result.receipts[:MAX_ESTIMATES]:
        changes = ", ".join(f"{t} {e['action']} {e['rows']}" for t, e in r.tables.items())
        notes.append(f"{r.subject_table} {r.subject_id}: {changes or 'nothing to change'}")
    if len(result.receipts) > MAX_ESTIMATES:
        more = report(BatchResult(result.receipts[MAX_ESTIMATES:]))
        notes.append(f"and {more.ok} more subject(s): {more.rows} row(s)")
    notes += [f"{f.subject_id}: {f.message}" for f in result.failures]
    return tuple(notes)


def forget_job(
    conn: psycopg.Connection,
    em: ErasureMap,
    raw_ids: Sequence[str],
    requested_at: dt.datetime | None = None,
    notes: tuple[str, ...] = (),
    log: ErasureLog | None = None,
) -> Job:
    """Forget ``raw_ids``, each subject its own transaction, failures counted (a request
    for one subject fails with that subject's error), each erasure appended to ``log``.
    The caller has checked the data map against the catalog (``map check``): a stale map
    would erase too little."""
    require_erasing(em)
    first = next((em.parse_id(r) for r in raw_ids if _valid(em, r)), 0)
    plan = describe(em, first, len(raw_ids), "lgpd forget")

    def run(progress: Progress) -> JobResult:
        progress.start(len(raw_ids))
        done = report(
            forget(conn, em, raw_ids, requested_at=requested_at, on_each=progress.advance,
                   log=log)
        )  # fmt: skip
        if len(raw_ids) == 1 and done.failures:
            raise SubjectFailed(done.failures[0])
        return JobResult(done.rows, done, failed=done.failed)

    return Job(plan.command, plan.summary, plan, run, notes=notes, unit="subjects")


def _valid(em: ErasureMap, raw: str) -> bool:
    try:
        em.parse_id(raw)
    except AuroraCtlError:
        return False
    return True
