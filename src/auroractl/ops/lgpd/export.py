"""LGPD access / portability (Art. 18) and the request register (Art. 19: 15 days)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import InvalidInput, NotFound
from auroractl.ops.lgpd import PH, ErasureMap, Target
from auroractl.ops.lgpd.forget import operator
from auroractl.ops.shared import keys, state
from auroractl.ops.shared.objects import AUDIT_ENTRY_VALUES

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class Export:
    document: dict[str, Any]
    request_id: str
    rows: int
    audit_entries: int
    decrypted: int
    notes: tuple[str, ...]


def export(
    conn: psycopg.Connection,
    em: ErasureMap,
    raw_id: str,
    decrypt: bool,
    requested_at: dt.datetime | None = None,
    deliver: Callable[[dict[str, Any]], None] | None = None,
) -> Export:
    """Everything the database holds about one subject, as one JSON-ready document.

    ``decrypt``: ``conn`` was opened with the encryption key (``keys.settings``), and the
    map's ciphertext columns are decrypted with it.

    The access request is recorded in the same transaction as ``deliver(document)``
    (writing the file): a delivery that fails leaves no request recorded as completed."""
    from auroractl.ops.shared.session import maintenance

    sid = em.parse_id(raw_id)
    notes: list[str] = []
    data: dict[str, list[dict[str, Any]]] = {}
    audit: list[dict[str, Any]] = []
    decrypted = 0
    if decrypt:
        keys.require(conn)
    with maintenance(conn):
        for t in em.targets:
            # Every row the subject references is theirs to see, shared or not.
            ctx = t.ctx() | {"match": replace(t.match, exclusive=False)}
            sql = templates.render("lgpd/rows.sql.j2", **ctx)
            rows = [r[0] for r in conn.execute(sql, {"id": sid})]
            if t.role == "subject" and not rows:
                raise NotFound(f"{em.subject.label} {sid} does not exist")
            if not rows:
                continue
            for column in t.ciphertext:
                if any(r.get(column) for r in rows):
                    decrypted += _decrypt(conn, t, column, rows, sid, decrypt, notes)
            data[t.label] = rows
            audit.extend(_audit_entries(conn, em, t, rows))
        state.ensure(conn)  # before the transaction: it may install auroractl's tables
        with conn.transaction():
            _, rid, req, due, done = _record_access(conn, em, sid, data, requested_at)
            document = {
                "request": {
                    "request_id": rid,
                    "kind": "access (LGPD Art. 18)",
                    "requested_at": req,
                    "due_at": due,
                    "completed_at": done,
                },
                "subject": {"table": em.subject.label, "id": sid},
                "data": data,
                "audit_log": audit,
                "notes": notes,
            }
            if deliver is not None:
                deliver(document)
    rows_total = sum(len(v) for v in data.values())
    return Export(document, rid, rows_total, len(audit), decrypted, tuple(notes))


def _decrypt(
    conn: psycopg.Connection,
    t: Target,
    column: str,
    rows: list[dict[str, Any]],
    sid: Any,
    decrypt: bool,
    notes: list[str],
) -> int:
    """Replace each ciphertext of ``column`` in ``rows`` with {encrypted, decrypted}
    (None without the key or when it does not open); returns how many opened."""
    import psycopg

    clear: dict[str, str] = {}
    if not decrypt:
        notes.append(f"{t.label}.{column}: encrypted; no key available, not decrypted")
    else:
        ctx = t.ctx() | {"match": replace(t.match, exclusive=False), "key_setting": keys.KEY}
        sql = templates.render("lgpd/decrypt.sql.j2", column=column, **ctx)
        try:
            clear = dict(conn.execute(sql, {"id": sid}).fetchall())
        except psycopg.Error:
            notes.append(f"{t.label}.{column}: could not decrypt (wrong key?)")
    opened = 0
    for r in rows:
        if r.get(column):
            value = clear.get(_row_pk(r, t.info.pk))
            r[column] = {"encrypted": True, "decrypted": value}
            opened += value is not None
    return opened


def _audit_entries(
    conn: psycopg.Connection, em: ErasureMap, t: Target, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    if em.audit_log is None:
        return []
    pks = [_row_pk(r, t.info.pk) for r in rows]
    sql = templates.render(
        "lgpd/audit_entries.sql.j2",
        table=em.audit_log.qualified,
        ph=PH,
        grouped="row_pks" in em.audit_log.columns,
        entry=AUDIT_ENTRY_VALUES,
    )
    return [e[0] for e in conn.execute(sql, {"label": t.label, "pks": pks})]


def _record_access(
    conn: psycopg.Connection,
    em: ErasureMap,
    sid: Any,
    data: dict[str, list[dict[str, Any]]],
    requested_at: dt.datetime | None,
) -> tuple:
    """The access request in auroractl.lgpd_requests (tables and row counts, no data)."""
    tables = {k: {"action": "exported", "rows": len(v)} for k, v in data.items()}
    return conn.execute(
        templates.load("lgpd/record.sql"),
        {
            "kind": "access",
            "subject_table": em.subject.label,
            "subject_id": str(sid),
            "status": "completed",
            "requested_at": requested_at,
            "operator": operator(conn),
            "tables": json.dumps(tables),
            "legal_holds": "[]",
            "error": None,
            "request_id": None,
            "identifiers": None,
            "reapplied": False,
        },
    ).fetchone()


def _row_pk(row: dict[str, Any], pk: tuple[str, ...]) -> str:
    if len(pk) == 1:
        value = row.get(pk[0])
        return value if isinstance(value, str) else json.dumps(value)
    return json.dumps([row.get(c) for c in pk], separators=(", ", ": "))


@dataclass(frozen=True)
class RequestRow:
    id: int
    request_id: str
    kind: str
    subject_table: str
    subject_id: str
    status: str
    requested_at: dt.datetime
    due_at: dt.datetime
    completed_at: dt.datetime | None
    operator: str
    tables: dict[str, Any]
    legal_holds: list[Any]
    error: str | None
    overdue: bool


STATUSES = ("open", "completed", "failed")


def requests(
    conn: psycopg.Connection,
    status: str | None = None,
    subject_id: str | None = None,
    limit: int = 100,
    subjects: Mapping[str, str] | None = None,
) -> list[RequestRow]:
    """The register, newest first. ``subjects`` (table -> key column, from the data map)
    and the tables already in the register say what a subject id can be: one no subject
    table's key can hold ('abc' for integer keys) is InvalidInput, not an empty list."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"--status must be one of {', '.join(STATUSES)}")
    if not 1 <= limit <= 100_000:
        raise InvalidInput("--limit must be from 1 to 100000")
    if subject_id is not None and not subject_id.strip():
        raise InvalidInput("--subject: empty subject id")
    readable = state.readable(conn)
    ids = None if subject_id is None else _subject_ids(conn, subject_id, subjects or {}, readable)
    if not readable:
        return []
    rows = conn.execute(
        templates.load("lgpd/requests.sql"),
        {"status": status, "subject_ids": ids, "limit": limit},
    ).fetchall()
    return [RequestRow(*r) for r in rows]


def _subject_ids(
    conn: psycopg.Connection, raw: str, subjects: Mapping[str, str], readable: bool
) -> list[str]:
    """``raw`` as each known subject table's key keeps it ('007' is 7 for an integer key);
    InvalidInput when no known subject table's key can hold it."""
    from auroractl.ops.lgpd import parse_key, table_info

    keys = dict(subjects)
    if readable:
        for (table,) in conn.execute("SELECT DISTINCT subject_table FROM auroractl.lgpd_requests"):
            keys.setdefault(table, "")  # its primary key
    ids, errors = [], []
    for table, key in sorted(keys.items()):
        info = table_info(conn, table)
        column = key or (info.pk[0] if info is not None and len(info.pk) == 1 else "")
        key_type = (info.type_of(column) if info is not None else None) or "text"
        try:
            ids.append(str(parse_key(key_type, raw, table)))
        except InvalidInput as exc:
            errors.append(str(exc))
    if errors and not ids:
        raise InvalidInput(f"--subject {raw.strip()!r} can be no subject's id: {'; '.join(errors)}")
    return ids or [raw.strip()]
