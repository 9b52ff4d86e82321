"""LGPD access / portability (Art. 18) and the request register (Art. 19: 15 days)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import InvalidInput, NotFound
from auroractl.ops.lgpd import PH, ErasureMap, Target
from auroractl.ops.lgpd_forget import operator
from auroractl.ops.shared import state

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


def _encrypted(t: Target) -> list[str]:
    return [
        c
        for c, ty in zip(t.info.columns, t.info.types, strict=True)
        if ty == "bytea" and c.endswith("_encrypted")
    ]


def export(
    conn: psycopg.Connection,
    em: ErasureMap,
    raw_id: str,
    key: str | None,
    requested_at: dt.datetime | None = None,
) -> Export:
    """Everything the database holds about one subject, as one JSON-ready document."""
    import psycopg

    from auroractl.ops.shared.session import maintenance

    sid = em.parse_id(raw_id)
    notes: list[str] = []
    data: dict[str, list[dict[str, Any]]] = {}
    audit: list[dict[str, Any]] = []
    decrypted = 0
    with maintenance(conn):
        for t in em.targets:
            if t.action == "unmapped" and t.role != "reference":
                continue
            sql = templates.render(
                "lgpd/rows.sql.j2", table=t.info.qualified, key=t.key, pk=list(t.info.pk), ph=PH
            )
            rows = [r[0] for r in conn.execute(sql, {"id": sid})]
            if t.role == "subject" and not rows:
                raise NotFound(f"{em.subject.label} {sid} does not exist")
            if not rows:
                continue
            for column in _encrypted(t):
                if not any(r.get(column) for r in rows):
                    continue
                if key is None:
                    for r in rows:
                        if r.get(column):
                            r[column] = {"encrypted": True, "decrypted": None}
                    notes.append(f"{t.label}.{column}: encrypted; no key available, not decrypted")
                    continue
                try:
                    clear = dict(
                        conn.execute(
                            templates.render(
                                "lgpd/decrypt.sql.j2",
                                table=t.info.qualified,
                                column=column,
                                key=t.key,
                                pk=list(t.info.pk),
                                ph=PH,
                            ),
                            {"secret": key, "id": sid},
                        ).fetchall()
                    )
                except psycopg.Error:
                    clear = {}
                    notes.append(f"{t.label}.{column}: could not decrypt (wrong key?)")
                for r in rows:
                    if r.get(column):
                        value = clear.get(_row_pk(r, t.info.pk))
                        r[column] = {"encrypted": True, "decrypted": value}
                        decrypted += value is not None
            data[t.label] = rows
            if em.audit_log is not None:
                pks = [_row_pk(r, t.info.pk) for r in rows]
                entries = conn.execute(
                    templates.render(
                        "lgpd/audit_entries.sql.j2", table=em.audit_log.qualified, ph=PH
                    ),
                    {"label": t.label, "pks": pks},
                ).fetchall()
                audit.extend(e[0] for e in entries)
        state.ensure(conn)
        row = conn.execute(
            templates.load("lgpd/record.sql"),
            {
                "kind": "access",
                "subject_table": em.subject.label,
                "subject_id": str(sid),
                "status": "completed",
                "requested_at": requested_at,
                "operator": operator(conn),
                "tables": json.dumps(
                    {k: {"action": "exported", "rows": len(v)} for k, v in data.items()}
                ),
                "legal_holds": "[]",
                "error": None,
            },
        ).fetchone()
    _, rid, req, due, done = row
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
    rows_total = sum(len(v) for v in data.values())
    return Export(document, rid, rows_total, len(audit), decrypted, tuple(notes))


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
) -> list[RequestRow]:
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"--status must be one of {', '.join(STATUSES)}")
    if not 1 <= limit <= 100_000:
        raise InvalidInput("--limit must be from 1 to 100000")
    if not state.readable(conn):
        return []
    rows = conn.execute(
        templates.load("lgpd/requests.sql"),
        {"status": status, "subject_id": subject_id, "limit": limit},
    ).fetchall()
    return [RequestRow(*r) for r in rows]
