"""The data map feature: propose it from the catalog, check it for drift, show it.

The model and the file format are in ``ops.shared.datamap`` (every consumer reads the
map there); this feature reads the catalog (``catalog``) and classifies (``classify``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from auroractl.errors import InvalidInput
from auroractl.ops.datamap import catalog as cat_ops
from auroractl.ops.datamap import classify
from auroractl.ops.datamap.catalog import Catalog, Column, ForeignKey
from auroractl.ops.shared import datamap as dm

if TYPE_CHECKING:
    import psycopg

TENANT_COLUMNS = frozenset(
    [
        "tenant_id",
        "tenant",
        "tenant_code",
        "tenant_key",
        "tenant_uuid",
        "empresa_id",
        "org_id",
        "organization_id",
        "organisation_id",
        "company_id",
        "workspace_id",
    ]
)
TENANT_TYPES = {
    "integer": "integer",
    "bigint": "bigint",
    "uuid": "uuid",
    "text": "text",
    "character varying": "text",
}
IDENTIFYING = frozenset({"name", "email", "national_id"})
REVIEW_BASIS = "REVIEW: no erasure its NOT NULL, UNIQUE or width allows; state the legal basis"
HEADER = (
    "auroractl data map: which columns hold personal data, the data subjects, the tenant key,",
    "and how each personal column is erased. Proposed by `auroractl map propose` from the",
    "catalog: review every entry, then keep it with the code. `auroractl map check` fails",
    "when the database drifts from it.",
)


@dataclass(frozen=True)
class Proposal:
    map: dm.DataMap
    reasons: dict[tuple[str, str], str]  # (table, column) -> why it was classified
    text: str  # the file


# -- which columns are personal -----------------------------------------------------------


def _key_columns(columns: tuple[Column, ...], fks: tuple[ForeignKey, ...]) -> set[tuple[str, str]]:
    keys = {(c.table, k) for c in columns for k in c.table_key}
    keys |= {(fk.table, col) for fk in fks for col in fk.columns}
    keys |= {(c.table, c.name) for c in columns if c.name in TENANT_COLUMNS}
    return keys


def classify_column(c: Column, siblings: list[str]) -> tuple[str, str, str | None] | None:
    """(class, reason, ciphertext-of) from what the catalog says, before any sampling."""
    base = classify.cipher_base(c.name, siblings)
    if c.encrypt_target:
        return "ciphertext", "ciphertext kept by `encrypt backfill`", base or c.name
    if c.facts.type == "bytea" and base:
        return "ciphertext", f"bytea named like the ciphertext of {base}", base
    cls = classify.by_name(c.name, c.table)
    if cls and classify.plausible(cls, c.facts.type):
        return cls, "column name", None
    cls = classify.by_comment(c.comment)
    if cls and classify.plausible(cls, c.facts.type):
        return cls, "column comment", None
    if c.facts.type in ("inet", "cidr", "macaddr", "macaddr8"):
        return "network_id", f"type {c.facts.type}", None
    return None


def _named(cat_columns: tuple[Column, ...], fks: tuple[ForeignKey, ...]):  # type: ignore[no-untyped-def]
    """Columns classified without sampling, and the text columns left to sample."""
    keys = _key_columns(cat_columns, fks)
    siblings: dict[str, list[str]] = {}
    for c in cat_columns:
        siblings.setdefault(c.table, []).append(c.name)
    found: dict[tuple[str, str], tuple[str, str, str | None]] = {}
    unsure: dict[str, list[str]] = {}
    for c in cat_columns:
        if (c.table, c.name) in keys:
            continue
        hit = classify_column(c, siblings[c.table])
        if hit:
            found[(c.table, c.name)] = hit
        elif c.textual:
            unsure.setdefault(c.table, []).append(c.name)
    return found, unsure


def personal_columns(cat: Catalog) -> dict[tuple[str, str], tuple[str, str, str | None]]:
    found, _ = _named(cat.columns, cat.foreign_keys)
    for key, values in cat.samples.items():
        if key in found:
            continue
        hit = classify.by_values(values)
        if hit:
            found[key] = (hit[0], hit[1], None)
    return found


def read_catalog(conn: psycopg.Connection, sample_rows: int = cat_ops.SAMPLE_ROWS) -> Catalog:
    """The catalog in three round trips; only the text columns no name explains are sampled."""
    if sample_rows < 0:
        raise InvalidInput("--sample-rows must be 0 or more")
    return cat_ops.read(conn, lambda cols, fks: _named(cols, fks)[1], sample_rows)


# -- subjects, references, tenancy -----------------------------------------------------------


def _subjects(cat: Catalog, found: dict) -> tuple[dm.Subject, ...]:  # type: ignore[type-arg]
    tables = cat.tables()
    identifying = {t for (t, _), (cls, *_) in found.items() if cls in IDENTIFYING}
    candidates = {t for t in identifying if classify.table_is_people(t) and tables[t][0].table_key}
    if not candidates:  # no table named like people: the one with the most identifying data
        counts = Counter(t for (t, _), v in found.items() if v[0] in IDENTIFYING)
        counts = Counter({t: n for t, n in counts.items() if tables[t][0].table_key})
        best = max(counts.values(), default=0)
        candidates = {t for t, n in counts.items() if n == best and n >= 2}
    # A table that references another candidate (accounts -> people) depends on it.
    dependents = {fk.table for fk in cat.foreign_keys
                  if fk.table in candidates and fk.references in candidates
                  and fk.references != fk.table}  # fmt: skip
    return tuple(dm.Subject(t, tables[t][0].table_key) for t in sorted(candidates - dependents))


def references_for(fks: tuple[ForeignKey, ...], subjects: set[str]) -> tuple[dm.Reference, ...]:
    out = []
    for fk in fks:
        for subject, direction in ((fk.references, "in"), (fk.table, "out")):
            if subject in subjects and not (direction == "out" and fk.references == subject):
                out.append(
                    dm.Reference(
                        fk.table,
                        fk.columns,
                        fk.references,
                        fk.ref_columns,
                        subject,
                        direction,
                        fk.name,
                        fk.on_partitions,
                    )
                )
    return tuple(out)


def _tenants(cat: Catalog, prefix: str) -> tuple[dm.TenantKey, ...]:
    groups: dict[tuple[str, str], list[str]] = {}
    for c in cat.columns:
        kind = TENANT_TYPES.get(c.facts.type)
        if c.name in TENANT_COLUMNS and kind:
            groups.setdefault((c.name, kind), []).append(c.table)
    single = [fk for fk in cat.foreign_keys if len(fk.columns) == 1]
    out = []
    for (column, kind), tables in sorted(groups.items()):
        carriers = set(tables)
        roots = Counter(fk.references for fk in single
                        if fk.columns[0] == column and fk.table in carriers)  # fmt: skip
        root = roots.most_common(1)[0][0] if roots else None
        carried = tuple(t for t in tables if t != root)
        out.append(dm.TenantKey(column, kind, f"{prefix}{column}", root, carried))
    return tuple(out)


# -- the proposal ---------------------------------------------------------------------------


Rejected = frozenset[tuple[str, str, dm.Rule]]


def propose_map(
    cat: Catalog, rejected: Rejected = frozenset(), setting_prefix: str = "app.current_"
) -> Proposal:
    """The map the catalog suggests (pure: the catalog is read, and the rules its CHECKs
    reject are known)."""
    found = personal_columns(cat)
    subjects = _subjects(cat, found)
    subject_tables = {s.table for s in subjects}
    columns = []
    for (table, name), (cls, _why, of) in sorted(found.items()):
        col = cat.column(table, name)
        assert col is not None
        rules = classify.candidates(cls, col.facts)
        rule = next(r for r in rules if (table, name, r) not in rejected)
        if rule.kind == "delete_row" and table not in subject_tables:
            # Deleting a row that is not the subject's (a tenant's CNPJ) is not an erasure
            # to propose: the DBA states why it is kept, or changes the schema.
            rule = dm.Rule("keep", basis=REVIEW_BASIS)
        columns.append(dm.PersonalColumn(table, name, cls, rule, of))
    refs = references_for(cat.foreign_keys, {s.table for s in subjects})
    m = dm.DataMap(_tenants(cat, setting_prefix), subjects, tuple(columns), refs)
    reasons = {k: v[1] for k, v in found.items()}
    return Proposal(m, reasons, dm.dumps(m, HEADER))


def rejected_rules(conn: psycopg.Connection, cat: Catalog) -> Rejected:
    """The candidate rules of personal columns with a CHECK that the CHECK rejects: two
    round trips (the constraints, then every candidate value in one statement)."""
    found = personal_columns(cat)
    pending = []
    for (table, name), (cls, *_) in found.items():
        col = cat.column(table, name)
        if col is not None and col.facts.has_check:
            pending.append((table, name, cls, col))
    if not pending:
        return frozenset()
    checks = cat_ops.checks(conn)
    cases = [
        {"table": t, "column": c, "constraint": con, "expression": expr,
         "type": col.facts.type, "value": classify.rule_value(rule, cls), "rule": rule}
        for t, c, cls, col in pending
        for rule in classify.candidates(cls, col.facts) if rule.kind in ("fixed", "pseudonym")
        for con, expr in checks.get((t, c), [])
    ]  # fmt: skip
    passed = cat_ops.check_values(conn, cases)
    return frozenset(
        (x["table"], x["column"], x["rule"]) for i, x in enumerate(cases) if not passed.get(i, True)
    )


def propose(conn: psycopg.Connection, sample_rows: int = cat_ops.SAMPLE_ROWS) -> Proposal:
    """Three round trips to read the catalog, two more when personal columns have CHECKs."""
    cat = read_catalog(conn, sample_rows)
    return propose_map(cat, rejected_rules(conn, cat))


@dataclass(frozen=True)
class Written:
    path: str
    written: bool  # False under --dry-run
    tables: int
    columns: int
    subjects: tuple[str, ...]
    references: int
    tenants: tuple[str, ...]
    entries: tuple[dict[str, str], ...] = field(default=())
    content: str | None = None  # the file, under --dry-run


def ensure_writable(path: Path, *, dry_run: bool, force: bool) -> None:
    """A reviewed map is never overwritten without ``force`` (checked before connecting)."""
    from auroractl.errors import Refused

    if path.exists() and not force and not dry_run:
        raise Refused(
            f"{path} exists (a reviewed map is not overwritten): use --force to replace it, "
            "or `auroractl map check` to compare it with the database",
        )


def write(proposal: Proposal, path: Path, *, dry_run: bool, force: bool) -> Written:
    """Write the proposal (a local file) and say what it holds."""
    ensure_writable(path, dry_run=dry_run, force=force)
    if not dry_run:
        try:
            path.write_text(proposal.text, encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"cannot write {path}: {exc.strerror}") from None
    m = proposal.map
    entries = tuple(
        {"table": c.table, "column": c.column, "class": c.cls, "rule": c.rule.describe(),
         "why": proposal.reasons.get((c.table, c.column), "")}
        for c in m.columns
    )  # fmt: skip
    return Written(
        str(path), not dry_run, len(m.tables()), len(m.columns),
        tuple(s.table for s in m.subjects), len(m.references),
        tuple(f"{t.column} ({t.type})" for t in m.tenants), entries,
        proposal.text if dry_run else None,
    )  # fmt: skip
