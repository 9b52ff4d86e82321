"""The migration engine: numbered SQL files applied in order, each recorded in a ledger.

Two series run on it: the user's schema migrations (``auroractl migrate``, ledger
``auroractl.schema_migrations``) and auroractl's own tables (``ops.shared.state``,
ledger ``auroractl.state_version``). A migration's checksum is the SHA-256 of its file
(line endings normalised). A file whose first line is ``-- auroractl: autocommit`` is
split into statements that run one by one outside a transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import InvalidInput
from auroractl.plan import Step

if TYPE_CHECKING:
    import psycopg

AUTOCOMMIT_MARK = re.compile(r"^--\s*auroractl:\s*autocommit\s*$", re.IGNORECASE)
_TXN_CONTROL = re.compile(
    r"^\s*(BEGIN|COMMIT|ROLLBACK|START\s+TRANSACTION)\s*;", re.IGNORECASE | re.MULTILINE
)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    file: str
    checksum: str
    autocommit: bool


@dataclass(frozen=True)
class Applied:
    version: int
    name: str
    checksum: str
    applied_at: dt.datetime
    duration_ms: int
    applied_by: str
    autocommit: bool


def source(path: Path) -> str:
    return path.read_text(encoding="utf-8").replace("\r\n", "\n")


def discover(path: Path, suffix: str = ".sql.j2", glob: str | None = None) -> list[Migration]:
    """The migrations ``NNNN_name<suffix>`` in ``path`` (files matching ``glob``, default
    every ``*<suffix>``), by version; malformed names and duplicates are errors."""
    pattern = re.compile(r"^(\d{4,})_([a-z0-9][a-z0-9_]*)" + re.escape(suffix) + "$")
    found: dict[int, Migration] = {}
    for file in sorted(path.glob(glob or f"*{suffix}")):
        m = pattern.match(file.name)
        if not m:
            raise InvalidInput(
                f"migration file {file.name} is not named NNNN_name{suffix} "
                "(digits, underscore, lowercase name)"
            )
        version = int(m.group(1))
        if version in found:
            raise InvalidInput(
                f"migrations {found[version].file} and {file.name} have the same version"
            )
        text = source(file)
        found[version] = Migration(
            version,
            m.group(2),
            file.name,
            hashlib.sha256(text.encode()).hexdigest(),
            bool(AUTOCOMMIT_MARK.match(text.split("\n", 1)[0].strip())),
        )
    return [found[v] for v in sorted(found)]


@dataclass(frozen=True)
class Ledger:
    """Where a series records its applied migrations: the queries that read and write it
    (same columns for every series)."""

    applied: str  # template: SELECT version, name, checksum, applied_at, ... ORDER BY version
    record: str  # template: INSERT one row (version, name, checksum, autocommit)


def applied(
    conn: psycopg.Connection, ledger: Ledger, params: Mapping[str, Any] | None = None
) -> list[Applied]:
    """The ledger's rows, oldest first (the caller knows the ledger exists); ``params``
    are the ledger's own (e.g. the series)."""
    return [Applied(*row) for row in conn.execute(templates.load(ledger.applied), params)]


def steps(
    m: Migration,
    sql: str,
    ledger: Ledger,
    locks: tuple[str, ...] = (),
    txn: str = "",
    extra: Mapping[str, Any] | None = None,
) -> list[Step]:
    """One migration as plan steps: start, its SQL and its ledger row in one transaction
    (``txn``, default its own), or one autocommit step per statement, then the row
    (with the ledger's ``extra`` parameters, e.g. the series)."""
    start = templates.load("migrate/start.sql")
    record = templates.load(ledger.record)
    params = {
        **(extra or {}),
        "version": m.version,
        "name": m.name,
        "checksum": m.checksum,
        "autocommit": m.autocommit,
    }
    label = f"{m.version:04d}_{m.name}"
    if m.autocommit:
        if re.search(r"\bBEGIN\s+ATOMIC\b", sql, re.IGNORECASE):
            raise InvalidInput(
                f"migration {m.file}: BEGIN ATOMIC bodies cannot be split into "
                "autocommit statements; put them in a transactional migration"
            )
        statements = split_statements(sql)
        return [
            Step(start, autocommit=True, comment=f"{label}: start (autocommit)"),
            *(
                Step(s, autocommit=True, comment=f"{label} [{i}/{len(statements)}]", locks=locks)
                for i, s in enumerate(statements, 1)
            ),
            Step(record, params, autocommit=True, comment=f"{label}: record"),
        ]
    if _TXN_CONTROL.search(sql):
        raise InvalidInput(
            f"migration {m.file} controls transactions itself (BEGIN/COMMIT): "
            "auroractl runs it in one transaction; remove them"
        )
    txn = txn or label
    return [
        Step(start, comment=f"{label}: start", txn=txn),
        Step(sql, comment=label, locks=locks, txn=txn),
        Step(record, params, comment=f"{label}: record", txn=txn),
    ]


def split_statements(sql: str) -> list[str]:
    """Split SQL at semicolons outside quotes, comments and dollar quotes.

    Used for autocommit migrations, whose statements must run one by one."""
    out: list[str] = []
    start = i = 0
    n = len(sql)
    while i < n:
        c = sql[i]
        if sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if c in "'\"":
            i = _after_quoted(sql, i, c)
            continue
        if c == "$":
            m = re.match(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$", sql[i:])
            if m:
                tag = m.group(0)
                j = sql.find(tag, i + len(tag))
                i = n if j < 0 else j + len(tag)
                continue
        if c == ";":
            out.append(sql[start:i])
            start = i + 1
        i += 1
    out.append(sql[start:])
    return [s.strip() for s in out if _has_code(s)]


def _after_quoted(sql: str, i: int, quote: str) -> int:
    """The index after the quoted string or identifier opening at ``i`` (doubled quotes
    inside it are escapes)."""
    j = i + 1
    while True:
        j = sql.find(quote, j)
        if j < 0:
            return len(sql) + 1
        if sql.startswith(quote * 2, j):
            j += 2
            continue
        return j + 1


def _has_code(sql: str) -> bool:
    text = re.sub(r"/\*.*?\*/", "", sql, flags=re.DOTALL)
    return any(line.strip() and not line.strip().startswith("--") for line in text.splitlines())
