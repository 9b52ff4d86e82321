"""LGPD (Lei 13.709/2018): what erasing or exporting one data subject touches, resolved
from the database's data map (``ops.shared.datamap``) against the catalog.

The map names the data subjects, the personal columns of every table with an erasure rule
each (null, fixed value, pseudonym, hash, delete the row, keep with a legal basis) and the
references between subjects and other tables in both directions. Here that becomes an
``ErasureMap``: the subject's own row, the rows that reference it ("in") and the rows it
references ("out": its address), each with how its rows are matched to the subject and what
happens to them. The package: ``map`` shows the plan, ``forget`` erases a subject (Art. 18),
``export`` gives a subject their data and keeps the request register (Art. 19).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import InvalidInput, NotFound, Precondition
from auroractl.ops.shared import datamap as dm
from auroractl.ops.shared.catalog import SchemaNamed

if TYPE_CHECKING:
    import psycopg

PH = {n: f"%({n})s" for n in ("id", "label", "pks", "cols", "schema", "names", "pkcols", "limit")}
INTEGER_TYPES = ("smallint", "integer", "bigint")
# What a pseudonym rule writes: "erased-" and the row's own key (unique per row, no
# personal data, the same on a re-run); e-mail columns get a reserved .invalid domain.
PSEUDONYM_PREFIX = "erased-"
EMAIL_SUFFIX = "@erased.invalid"
HASH_PREFIX = "sha256:"
# The classes of the subject's own columns whose erased values the erasure log keeps a
# salted hash of: what would show that an erased person is back after a restore.
IDENTIFIER_CLASSES = ("name", "email", "phone", "national_id", "network_id", "address",
                      "birth_date")  # fmt: skip


@dataclass(frozen=True)
class LgpdConfig:
    """The ``[lgpd]`` section: which subject ``lgpd forget ID`` means by default, and where
    the erasure log is (``ops.lgpd.erasure_log``). Everything about personal data is in the
    data map."""

    subject: str | None = None
    erasure_log: str | None = None  # s3://bucket/prefix or a directory

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> LgpdConfig:
        moved = sorted({"tables", "retain", "domain"} & set(section))
        if moved:
            raise InvalidInput(
                f"[lgpd] {', '.join(moved)}: personal columns, erasure rules and legal holds "
                "are declared in the data map now (auroractl map propose, then review it)"
            )
        unknown = set(section) - {"subject", "sample_rows", "erasure_log"}
        if unknown:
            raise InvalidInput(f"[lgpd] has unknown keys: {', '.join(sorted(unknown))}")
        subject = section.get("subject")
        if subject is not None and (not isinstance(subject, str) or not subject.strip()):
            raise InvalidInput("[lgpd] subject must be a table name (schema.table)")
        log = section.get("erasure_log")
        if log is not None and (not isinstance(log, str) or not log.strip()):
            raise InvalidInput("[lgpd] erasure_log must be an s3://bucket/prefix or a directory")
        return cls(qualify(subject) if subject else None, log.strip() if log else None)


def qualify(name: str) -> str:
    name = name.strip()
    return name if "." in name else f"public.{name}"


def choose_subject(m: dm.DataMap, wanted: str | None) -> dm.Subject:
    """``--subject`` / ``[lgpd] subject``, else the map's default subject."""
    names = ", ".join(s.table for s in m.subjects) or "none"
    if wanted is not None:
        found = m.subject(qualify(wanted))
        if found is None:
            raise NotFound(
                f"{wanted} is not a data subject of the map {m.path} (subjects: {names})",
                hint="add it as a [[subject]] in the data map, or name one of those",
            )
        return found
    found = m.default_subject()
    if found is None:
        if not m.subjects:
            raise Precondition(
                f"the data map {m.path} names no data subject",
                hint="add a [[subject]] table = ... key = [...] to the data map",
            )
        raise InvalidInput(
            f"the data map has {len(m.subjects)} data subjects ({names}): "
            "name one with --subject, or mark one default = true in the map"
        )
    return found


# ---------------------------------------------------------------- treatments


@dataclass(frozen=True)
class Treatment:
    """What erasure writes into one column (keep: nothing)."""

    column: str
    kind: str  # null | fixed | pseudonym | hash | keep
    value: str | None = None  # fixed: the value; pseudonym: the suffix
    basis: str | None = None  # keep: the legal basis

    @classmethod
    def of(cls, c: dm.PersonalColumn) -> Treatment:
        if c.rule.kind == "pseudonym":
            return cls(c.column, "pseudonym", EMAIL_SUFFIX if c.cls == "email" else "")
        return cls(c.column, c.rule.kind, c.rule.value, c.rule.basis)

    @property
    def erases(self) -> bool:
        return self.kind != "keep"

    def describe(self) -> str:
        return {
            "null": "set NULL",
            "keep": f"kept ({self.basis})",
            "fixed": f"replace with {self.value!r}",
            "pseudonym": f"pseudonym {PSEUDONYM_PREFIX}<key>{self.value or ''}",
            "hash": f"{HASH_PREFIX}<sha-256 of the value>",
        }[self.kind]


# ---------------------------------------------------------------- catalog


@dataclass(frozen=True)
class TableInfo(SchemaNamed):
    oid: int
    schema: str
    name: str
    relkind: str
    pk: tuple[str, ...]
    columns: tuple[str, ...]
    types: tuple[str, ...]
    notnull: tuple[bool, ...]
    partitions: tuple[str, ...]

    def type_of(self, column: str) -> str | None:
        return dict(zip(self.columns, self.types, strict=True)).get(column)


def table_info(conn: psycopg.Connection, table: str) -> TableInfo | None:
    """The catalog facts of a map table ("schema.table", unquoted), or None."""
    schema, _, name = table.partition(".")
    row = conn.execute(
        templates.load("lgpd/table_oid.sql"), {"schema": schema, "name": name}
    ).fetchone()
    return None if row is None else info_by_oid(conn, row[0])


def info_by_oid(conn: psycopg.Connection, oid: int) -> TableInfo:
    schema, name, relkind, pk, cols, types, notnull, parts = conn.execute(
        templates.load("lgpd/table_info.sql"), {"oid": oid}
    ).fetchone()
    return TableInfo(
        oid, schema, name, relkind, tuple(pk), tuple(cols), tuple(types), tuple(notnull),
        tuple(parts),
    )  # fmt: skip


# ---------------------------------------------------------------- the erasure map


@dataclass(frozen=True)
class Match:
    """How a table's rows belong to the subject: its key equals the subject's id (direct),
    or its columns equal some columns of the subject's row (a multi-column key, a reference
    to another key, or a row the subject references). ``exclusive``: only rows no other
    subject references (an address two people share is not erased with one of them)."""

    cols: tuple[str, ...]
    subject: tuple[str, str]
    subject_cols: tuple[str, ...]
    subject_key: str
    exclusive: bool = False

    @property
    def direct(self) -> bool:
        return len(self.cols) == 1 and self.subject_cols == (self.subject_key,)

    def describe(self) -> str:
        ours, theirs = ", ".join(self.cols), ", ".join(self.subject_cols)
        return f"({ours}) = subject ({theirs})" + (" not shared" if self.exclusive else "")


@dataclass(frozen=True)
class Target:
    """One table erasure touches: the subject's own row, rows referencing it ("in"), or
    rows it references ("out")."""

    info: TableInfo
    match: Match
    role: str  # subject | in | out
    action: str  # anonymise | delete | keep
    treatments: tuple[Treatment, ...] = ()
    ciphertext: tuple[str, ...] = ()  # bytea columns the map says hold ciphertext

    @property
    def label(self) -> str:
        return self.info.label

    @property
    def erased(self) -> tuple[Treatment, ...]:
        return tuple(t for t in self.treatments if t.erases)

    @property
    def kept(self) -> tuple[Treatment, ...]:
        return tuple(t for t in self.treatments if not t.erases)

    @property
    def scrub_columns(self) -> tuple[str, ...]:
        """Columns whose values leave the audit log and webhook payloads of these rows."""
        if self.action == "delete":
            keep = set(self.info.pk) | set(self.match.cols)
            return tuple(c for c in self.info.columns if c not in keep)
        return tuple(t.column for t in self.erased)

    def ctx(self) -> dict[str, Any]:
        """The template context every lgpd statement about these rows shares."""
        return {"table": self.info.qualified, "match": self.match, "pk": list(self.info.pk),
                "ph": PH}  # fmt: skip


@dataclass(frozen=True)
class ErasureMap:
    subject: TableInfo
    targets: tuple[Target, ...]  # in, out, then the subject last
    audit_log: TableInfo | None
    webhooks: TableInfo | None
    key_type: str = "text"
    identifiers: tuple[str, ...] = ()  # the subject's columns the erasure log hashes

    @property
    def subject_target(self) -> Target:
        return self.targets[-1]

    def parse_id(self, raw: str) -> Any:
        """The subject id as the key's type wants it; InvalidInput names a malformed one."""
        return parse_key(self.key_type, raw, self.subject.label)


def parse_key(key_type: str, raw: str, label: str) -> Any:
    """A subject id as a key of ``key_type`` wants it; InvalidInput names a malformed one."""
    text = raw.strip()
    if not text:
        raise InvalidInput("empty subject id")
    if key_type in INTEGER_TYPES:
        if not re.fullmatch(r"-?[0-9]{1,18}", text):
            raise InvalidInput(f"{text!r} is not a valid {label} id (an integer)")
        return int(text)
    if key_type == "uuid":
        try:
            return str(uuid.UUID(text))
        except ValueError:
            raise InvalidInput(f"{text!r} is not a valid {label} id (a uuid)") from None
    return text


def _require(conn: psycopg.Connection, table: str, what: str) -> TableInfo:
    info = table_info(conn, table)
    if info is None:
        raise Precondition(
            f"{what} {table} of the data map does not exist",
            hint="the map is stale: run auroractl map check",
        )
    return info


def _target(info: TableInfo, match: Match, role: str, m: dm.DataMap) -> Target:
    cols = [c for c in m.columns_of(f"{info.schema}.{info.name}") if c.column in info.columns]
    if any(c.rule.kind == "delete_row" for c in cols):
        if role == "out":
            raise InvalidInput(
                f"the data map deletes rows of {info.label}, which the subject references: "
                "their rows cannot go while the subject's row points at them "
                "(give its columns null, fixed or pseudonym rules)"
            )
        return Target(info, match, role, "delete")
    treatments = tuple(Treatment.of(c) for c in cols)
    cipher = tuple(c.column for c in cols if c.cls == "ciphertext")
    action = "anonymise" if any(t.erases for t in treatments) else "keep"
    return Target(info, match, role, action, treatments, cipher)


def _reference_target(
    conn: psycopg.Connection, r: dm.Reference, subject: TableInfo, m: dm.DataMap
) -> Target | None:
    """The rows one reference reaches; None for rows that are not this subject's data: a
    tenant root or another data subject (their own erasure handles them)."""
    other = r.table if r.direction == "in" else r.references
    if other in {t.root for t in m.tenants} or m.subject(other) is not None:
        return None
    info = _require(conn, other, "table")
    key = subject.pk[0]
    if r.direction == "in":
        match = Match(r.columns, subject.qualified, r.ref_columns, key)
    else:
        match = Match(r.ref_columns, subject.qualified, r.columns, key, exclusive=True)
    return _target(info, match, r.direction, m)


def resolve(conn: psycopg.Connection, m: dm.DataMap, s: dm.Subject) -> ErasureMap:
    """The subject table, the tables the map relates to it, and what erasure does."""
    from auroractl.ops.shared.objects import AUDIT_LOG

    subject = _require(conn, s.table, "subject table")
    if len(s.key) != 1:
        raise InvalidInput(f"{subject.label} needs a single-column key to name one subject")
    key = s.key[0]
    if key not in subject.columns:
        raise Precondition(f"{subject.label} has no column {key} (the map's subject key)")
    targets = [t for r in m.references_of(s.table)
               if (t := _reference_target(conn, r, subject, m)) is not None]  # fmt: skip
    targets.sort(key=lambda t: t.role)  # in before out
    own = _target(subject, Match((key,), subject.qualified, (key,), key), "subject", m)
    return ErasureMap(
        subject,
        (*targets, own),
        table_info(conn, AUDIT_LOG),
        table_info(conn, "public.webhook_events"),
        subject.type_of(key) or "text",
        _identifiers(m, s.table, subject, own),
    )


def _identifiers(m: dm.DataMap, table: str, info: TableInfo, own: Target) -> tuple[str, ...]:
    """The subject's identifying columns the erasure changes (all of them when it deletes
    the row; none kept under a legal basis, which would stay and look like a survivor)."""
    erased = {t.column for t in own.erased} if own.action == "anonymise" else None
    return tuple(
        c.column for c in m.columns_of(table)
        if c.cls in IDENTIFIER_CLASSES and c.column in info.columns
        and c.rule.kind != "keep" and (erased is None or c.column in erased)
    )  # fmt: skip


def require_erasing(em: ErasureMap) -> None:
    """Erasure refuses to run when the map would change nothing of the subject's own row."""
    own = em.subject_target
    if own.action == "keep":
        raise Precondition(
            f"the data map erases nothing of {em.subject.label}: an erasure would change nothing",
            hint="give its personal columns erasure rules in the data map (auroractl map check)",
        )
