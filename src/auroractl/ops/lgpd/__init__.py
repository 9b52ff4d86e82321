"""LGPD (Lei 13.709/2018): the personal-data map, its check, and catalog resolution.

The map says, per table, which columns hold personal data and what erasure does to
each (``null``, ``fixed:VALUE``, ``pseudonym:TEMPLATE`` with ``{id}`` and ``{domain}``,
``keep``), or that the table's rows are deleted (``delete``). Tables listed in
``retain`` are under a legal hold (Art. 16): their rows are kept and only their link to
the person is cut. Tables referencing the subject table are found from the catalog
(pg_constraint), never from a hard-coded list. The package: this module
holds the map and its resolution against the catalog; ``map`` shows and checks it,
``forget`` erases a subject (Art. 18), ``export`` gives a subject their data and keeps
the request register (Art. 19).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import InvalidInput, NotFound, Precondition
from auroractl.ops.shared.catalog import SchemaNamed

if TYPE_CHECKING:
    import psycopg

PH = {
    n: f"%({n})s"
    for n in ("id", "label", "pks", "cols", "schema", "names", "key", "secret", "limit")
}
DEFAULT_DOMAIN = "anonimizado.invalid"
DEFAULT_SUBJECT = "public.usuarios"
DEFAULT_RETAIN = ("public.contratos",)
DEFAULT_TABLES: dict[str, Any] = {
    "public.usuarios": {
        "nome": "pseudonym:anonimo_{id}",
        "email": "pseudonym:anonimo_{id}@{domain}",
        "telefone": "null",
        "documento_identidade": "null",
        "documento_identidade_encrypted": "null",
        "endereco": "null",
        "foto_perfil": "null",
        "dispositivos_autorizados": "null",
    },
    "public.ai_preferences": "delete",
    # Other data subjects of the demo schema (erased by their own process, mapped here
    # so that the map documents them and `map --check` knows they are handled).
    "public.alunos": {
        "nome": "pseudonym:anonimo_{id}",
        "data_nascimento": "null",
        "documento_identidade": "null",
        "email": "null",
    },
    "public.professores": {
        "nome": "pseudonym:anonimo_{id}",
        "email": "null",
        "documento_identidade": "null",
    },
}
INTEGER_TYPES = ("smallint", "integer", "bigint")


def qualify(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput("empty table name in [lgpd]")
    return name if "." in name else f"public.{name}"


# ---------------------------------------------------------------- the map


@dataclass(frozen=True)
class Treatment:
    column: str
    kind: str  # null | fixed | pseudonym | keep
    template: str | None = None

    @classmethod
    def parse(cls, table: str, column: str, spec: Any) -> Treatment:
        if not isinstance(spec, str):
            raise InvalidInput(f"[lgpd.tables] {table}.{column}: expected a string")
        kind, _, arg = spec.partition(":")
        if kind in ("null", "keep") and not arg:
            return cls(column, kind)
        if kind in ("fixed", "pseudonym") and _:
            if kind == "pseudonym" and "{id}" not in arg:
                raise InvalidInput(
                    f"[lgpd.tables] {table}.{column}: a pseudonym needs {{id}} "
                    "(one per subject), e.g. pseudonym:anonimo_{id}@{domain}"
                )
            try:
                arg.format(id=1, domain="x")
            except (KeyError, IndexError, ValueError):
                raise InvalidInput(
                    f"[lgpd.tables] {table}.{column}: only {{id}} and {{domain}} may be used"
                ) from None
            return cls(column, kind, arg)
        raise InvalidInput(
            f"[lgpd.tables] {table}.{column}: {spec!r} is not one of null, keep, "
            "fixed:VALUE, pseudonym:TEMPLATE"
        )

    @property
    def erases(self) -> bool:
        return self.kind != "keep"

    def value(self, subject_id: Any, domain: str) -> str | None:
        if self.kind in ("fixed", "pseudonym"):
            return (self.template or "").format(id=subject_id, domain=domain)
        return None

    def describe(self) -> str:
        return {
            "null": "set NULL",
            "keep": "kept (not personal)",
            "fixed": f"replace with {self.template!r}",
            "pseudonym": f"pseudonym {self.template}",
        }[self.kind]


@dataclass(frozen=True)
class TableRule:
    table: str
    delete: bool = False
    columns: tuple[Treatment, ...] = ()

    def treatment(self, column: str) -> Treatment | None:
        return next((t for t in self.columns if t.column == column), None)


@dataclass(frozen=True)
class LgpdConfig:
    subject: str = DEFAULT_SUBJECT
    domain: str = DEFAULT_DOMAIN
    retain: tuple[str, ...] = DEFAULT_RETAIN
    rules: tuple[TableRule, ...] = ()  # empty: the defaults (DEFAULT_TABLES)
    sample_rows: int = 200

    def __post_init__(self) -> None:
        if not self.rules:
            rules = tuple(self._rule(n, s) for n, s in DEFAULT_TABLES.items())
            object.__setattr__(self, "rules", rules)

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> LgpdConfig:
        known = {"subject", "domain", "retain", "tables", "sample_rows"}
        unknown = set(section) - known
        if unknown:
            raise InvalidInput(f"[lgpd] has unknown keys: {', '.join(sorted(unknown))}")
        subject = qualify(str(section.get("subject", DEFAULT_SUBJECT)))
        domain = section.get("domain", DEFAULT_DOMAIN)
        if not isinstance(domain, str) or not re.fullmatch(r"[A-Za-z0-9.-]+", domain):
            raise InvalidInput("[lgpd] domain must be a domain name like anonimizado.invalid")
        retain = section.get("retain", list(DEFAULT_RETAIN))
        if not isinstance(retain, list | tuple) or not all(isinstance(r, str) for r in retain):
            raise InvalidInput("[lgpd] retain must be a list of table names")
        sample = section.get("sample_rows", 200)
        if not isinstance(sample, int) or not 1 <= sample <= 100_000:
            raise InvalidInput("[lgpd] sample_rows must be an integer from 1 to 100000")
        tables = dict(DEFAULT_TABLES)
        overrides = section.get("tables", {})
        if not isinstance(overrides, dict):
            raise InvalidInput("[lgpd] tables must be a table of table names")
        for name, spec in overrides.items():
            tables[qualify(name)] = spec
        rules = tuple(cls._rule(name, spec) for name, spec in tables.items())
        return cls(subject, domain, tuple(qualify(r) for r in retain), rules, sample)

    @staticmethod
    def _rule(table: str, spec: Any) -> TableRule:
        if spec == "delete":
            return TableRule(table, delete=True)
        if not isinstance(spec, dict):
            raise InvalidInput(
                f'[lgpd.tables] {table}: expected "delete" or a table of column = treatment'
            )
        return TableRule(
            table, columns=tuple(Treatment.parse(table, c, s) for c, s in spec.items())
        )

    def rule(self, table: str) -> TableRule | None:
        return next((r for r in self.rules if r.table == table), None)

    def held(self, table: str) -> bool:
        return table in self.retain


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

    def not_null(self, column: str) -> bool:
        return dict(zip(self.columns, self.notnull, strict=True)).get(column, False)


def table_info(conn: psycopg.Connection, table: str) -> TableInfo | None:
    """The table's catalog facts, or None when it does not exist."""
    import psycopg

    try:
        row = conn.execute("SELECT to_regclass(%s)::oid::int8", [table]).fetchone()
    except (psycopg.errors.InvalidName, psycopg.errors.DataError):
        return None
    if not row or row[0] is None:
        return None
    return info_by_oid(conn, row[0])


def info_by_oid(conn: psycopg.Connection, oid: int) -> TableInfo:
    info = conn.execute(templates.load("lgpd/table_info.sql"), {"oid": oid}).fetchone()
    schema, name, relkind, pk, cols, types, notnull, parts = info
    return TableInfo(
        oid,
        schema,
        name,
        relkind,
        tuple(pk),
        tuple(cols),
        tuple(types),
        tuple(notnull),
        tuple(parts),
    )


@dataclass(frozen=True)
class Target:
    """One table erasure touches: the subject's own row, or rows referencing it."""

    info: TableInfo
    key: str  # the column compared with the subject's id
    role: str  # subject | reference
    action: str  # anonymise | delete | hold | unmapped
    treatments: tuple[Treatment, ...] = ()
    note: str = ""

    @property
    def label(self) -> str:
        return self.info.label

    @property
    def scrub_columns(self) -> tuple[str, ...]:
        """Columns whose values leave the audit log and webhook payloads of these rows."""
        if self.action == "delete":
            keep = set(self.info.pk) | {self.key}
            return tuple(c for c in self.info.columns if c not in keep)
        if self.action == "anonymise":
            return tuple(t.column for t in self.treatments if t.erases)
        return ()


@dataclass(frozen=True)
class ErasureMap:
    subject: TableInfo
    targets: tuple[Target, ...]  # references first, the subject last
    audit_log: TableInfo | None
    webhooks: TableInfo | None

    @property
    def unmapped(self) -> tuple[Target, ...]:
        return tuple(t for t in self.targets if t.action == "unmapped")

    @property
    def key_is_integer(self) -> bool:
        return len(self.subject.pk) == 1 and self.subject.type_of(self.subject.pk[0]) in (
            INTEGER_TYPES
        )

    def parse_id(self, raw: str) -> Any:
        text = raw.strip()
        if self.key_is_integer:
            if not re.fullmatch(r"[0-9]{1,18}", text):
                raise InvalidInput(f"{text!r} is not a valid {self.subject.label} id (an integer)")
            return int(text)
        if not text:
            raise InvalidInput("empty subject id")
        return text


def _present(info: TableInfo, rule: TableRule) -> tuple[Treatment, ...]:
    """The rule's treatments of columns the table has, plus "null" for the ciphertext twin
    (`encrypt`) of every erased column that the rule does not treat itself."""
    from auroractl.ops.shared.objects import ciphertext_twins

    named = {t.column for t in rule.columns}
    erased = [t.column for t in rule.columns if t.erases]
    twins = [c for c in ciphertext_twins(erased, info.columns) if c not in named]
    present = tuple(t for t in rule.columns if t.column in info.columns)
    return present + tuple(Treatment(c, "null") for c in twins)


def resolve(conn: psycopg.Connection, cfg: LgpdConfig) -> ErasureMap:
    """The subject table, every table referencing it (catalog) and what erasure does."""
    subject = table_info(conn, cfg.subject)
    if subject is None:
        raise NotFound(f'subject table "{cfg.subject}" does not exist', hint="set [lgpd] subject")
    if len(subject.pk) != 1:
        raise InvalidInput(f"{subject.label} needs a single-column primary key to name subjects")
    targets: list[Target] = []
    for r in conn.execute(templates.load("lgpd/references.sql"), {"oid": subject.oid}):
        oid, _schema, _name, column, notnull, _deltype, conname, width = r
        info = info_by_oid(conn, oid)
        if info.oid == subject.oid:
            continue
        label = info.label
        if width != 1:
            targets.append(
                Target(info, column, "reference", "unmapped", note=f"{conname}: multi-column key")
            )
            continue
        rule = cfg.rule(label)
        if cfg.held(label):
            note = "" if not notnull else f"{column} is NOT NULL: the link cannot be cut"
            targets.append(Target(info, column, "reference", "hold", note=note))
        elif rule is not None and rule.delete:
            targets.append(Target(info, column, "reference", "delete"))
        elif rule is not None:
            targets.append(Target(info, column, "reference", "anonymise", _present(info, rule)))
        else:
            targets.append(Target(info, column, "reference", "unmapped", note=f"via {conname}"))
    rule = cfg.rule(subject.label) or TableRule(subject.label)
    if rule.delete:
        raise InvalidInput(
            f"[lgpd.tables] {subject.label}: the subject row is anonymised, not deleted"
        )
    targets.append(Target(subject, subject.pk[0], "subject", "anonymise", _present(subject, rule)))
    from auroractl.ops.shared.objects import AUDIT_LOG as LOG_LABEL

    return ErasureMap(
        subject,
        tuple(targets),
        table_info(conn, LOG_LABEL),
        table_info(conn, "webhook_events"),
    )


def require_mapped(em: ErasureMap) -> None:
    """Erasure refuses to run while a table referencing the subject is not in the map,
    or when the map would change nothing of the subject's own row."""
    subject = next(t for t in em.targets if t.role == "subject")
    if not subject.scrub_columns:
        raise Precondition(
            f"the personal-data map erases nothing of {em.subject.label}: "
            "an erasure would change nothing",
            hint="map its personal columns in [lgpd.tables] (see auroractl lgpd map --check)",
        )
    if em.unmapped:
        names = ", ".join(f"{t.label}.{t.key}" for t in em.unmapped)
        raise Precondition(
            f"{names} reference(s) {em.subject.label} but is not in the personal-data map",
            hint='add [lgpd.tables] NAME = "delete" or column treatments, or list it in '
            "[lgpd] retain (see auroractl lgpd map --check)",
        )
