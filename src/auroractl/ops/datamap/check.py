"""Drift between the data map and the catalog: what the map misses, what it names that is
gone, rules the constraints would reject, references to a subject it does not list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from auroractl.ops.datamap import catalog as cat_ops
from auroractl.ops.datamap import classify, personal_columns, read_catalog, references_for
from auroractl.ops.datamap.catalog import Catalog
from auroractl.ops.shared import datamap as dm

if TYPE_CHECKING:
    import psycopg

KINDS = (
    "unmapped_column",  # looks personal, not in the map
    "unmapped_table",  # a table with personal-looking columns the map does not mention
    "missing_table",  # the map names a table that does not exist
    "missing_column",  # the map names a column that does not exist
    "rule_rejected",  # a constraint would reject the rule's write
    "unmapped_reference",  # a foreign key to or from a subject the map does not list
    "missing_reference",  # a listed reference that no longer exists
    "tenant_type",  # the tenant key's declared type is not the column's
)


@dataclass(frozen=True)
class Finding:
    kind: str
    table: str
    column: str
    detail: str


@dataclass(frozen=True)
class Report:
    map: str
    ok: bool
    findings: tuple[Finding, ...]


def check(
    conn: psycopg.Connection, m: dm.DataMap, sample_rows: int = cat_ops.SAMPLE_ROWS
) -> Report:
    cat = read_catalog(conn, sample_rows)
    findings = [*_missing(cat, m), *_unmapped(cat, m), *_references(cat, m), *_tenants(cat, m)]
    findings += _rules(conn, cat, m)
    return Report(m.path or dm.DEFAULT_FILE, not findings, tuple(findings))


def _missing(cat: Catalog, m: dm.DataMap) -> list[Finding]:
    tables = cat.tables()
    out: list[Finding] = []
    named = [(c.table, c.column, "a personal column") for c in m.columns]
    named += [(s.table, k, "the subject's key") for s in m.subjects for k in s.key]
    reported: set[str] = set()
    for table, column, what in named:
        if table not in tables:
            if table not in reported:
                out.append(Finding("missing_table", table, "", "in the map, not in the database"))
                reported.add(table)
        elif cat.column(table, column) is None:
            out.append(Finding("missing_column", table, column, f"{what} that no longer exists"))
    return out


def _unmapped(cat: Catalog, m: dm.DataMap) -> list[Finding]:
    reviewed = set(m.not_personal)
    mentioned = set(m.tables()) | {s.table for s in m.subjects} | reviewed
    out: list[Finding] = []
    by_table: dict[str, list[Finding]] = {}
    for (table, column), (cls, why, _of) in sorted(personal_columns(cat).items()):
        if m.column(table, column) is None and f"{table}.{column}" not in reviewed:
            by_table.setdefault(table, []).append(
                Finding("unmapped_column", table, column, f"looks like {cls} ({why})")
            )
    for table, cols in by_table.items():
        if table not in mentioned:
            out.append(Finding("unmapped_table", table, "", "has personal-looking columns"))
        out += cols
    return out


def _references(cat: Catalog, m: dm.DataMap) -> list[Finding]:
    subjects = {s.table for s in m.subjects}
    listed = {(r.subject, r.direction, r.edge) for r in m.references}
    actual = {
        (r.subject, r.direction, r.edge): r for r in references_for(cat.foreign_keys, subjects)
    }
    out = []
    for key, r in actual.items():
        if key not in listed:
            where = "referencing" if r.direction == "in" else "referenced by"
            out.append(Finding(
                "unmapped_reference", r.table, ", ".join(r.columns),
                f"{r.constraint}: {where} subject {r.subject} ({r.references}"
                f"({', '.join(r.ref_columns)})), not in the map",
            ))  # fmt: skip
    for r in m.references:
        if (r.subject, r.direction, r.edge) not in actual:
            out.append(Finding(
                "missing_reference", r.table, ", ".join(r.columns),
                f"{r.constraint or 'foreign key'} to {r.references} no longer exists",
            ))  # fmt: skip
    return out


def _tenants(cat: Catalog, m: dm.DataMap) -> list[Finding]:
    from auroractl.ops.datamap import TENANT_TYPES

    tables = cat.tables()
    out = []
    for t in m.tenants:
        if t.root and t.root not in tables:
            out.append(Finding("missing_table", t.root, "", "the tenant root does not exist"))
        for table in t.tables:
            col = cat.column(table, t.column)
            if table not in tables:
                out.append(Finding("missing_table", table, "", "carries the tenant key in the map"))
            elif col is None:
                out.append(Finding("missing_column", table, t.column, "the tenant key"))
            elif TENANT_TYPES.get(col.facts.type) != t.type:
                what = f"declared {t.type}, the column is {col.facts.type}"
                out.append(Finding("tenant_type", table, t.column, what))
    return out


def _rules(conn: psycopg.Connection, cat: Catalog, m: dm.DataMap) -> list[Finding]:
    out = []
    cases = []
    checks = None
    for c in m.columns:
        col = cat.column(c.table, c.column)
        if col is None:
            continue
        problem = classify.rule_problem(c.rule, col.facts, c.cls)
        if problem:
            out.append(Finding("rule_rejected", c.table, c.column, problem))
        elif col.facts.has_check and c.rule.kind in ("fixed", "pseudonym"):
            checks = cat_ops.checks(conn) if checks is None else checks
            value = classify.rule_value(c.rule, c.cls)
            for name, expr in checks.get((c.table, c.column), []):
                cases.append({"table": c.table, "column": c.column, "constraint": name,
                              "expression": expr, "type": col.facts.type,
                              "value": value})  # fmt: skip
    return out + _evaluate(conn, cases)


def _evaluate(conn: psycopg.Connection, cases: list[dict]) -> list[Finding]:  # type: ignore[type-arg]
    """Each CHECK against the value its rule writes, all in one statement."""
    import psycopg

    try:
        passed = cat_ops.check_values(conn, cases)
    except psycopg.errors.DataError as exc:
        first = str(exc).splitlines()[0]
        return [Finding("rule_rejected", c["table"], c["column"],
                        f"the rule's value cannot be tested against {c['constraint']}: {first}")
                for c in cases]  # fmt: skip
    rejected = [c for i, c in enumerate(cases) if not passed.get(i, True)]
    return [
        Finding("rule_rejected", c["table"], c["column"],
                f"CHECK {c['constraint']} rejects the value the rule writes")
        for c in rejected
    ]  # fmt: skip
