"""The personal-data map as a report, and its check: columns that look personal
(by name, or by sampled values) but are not in the map."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auroractl import templates
from auroractl.ops.lgpd import PH, ErasureMap, LgpdConfig, TableRule, resolve, table_info
from auroractl.ops.shared.objects import CIPHERTEXT_SUFFIX

if TYPE_CHECKING:
    import psycopg

NAME_TOKENS = frozenset(
    {"cpf", "rg", "email", "telefone", "celular", "phone", "nascimento", "endereco", "cep"}
    | {"documento", "passaporte", "cnh", "mail"}
)
VALUE_PATTERNS = {
    "e-mail": re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),
    "CPF": re.compile(r"(?<!\d)\d{3}\.\d{3}\.\d{3}-\d{2}(?!\d)|(?<![\d.])\d{11}(?![\d.])"),
    "phone": re.compile(r"(?<![\d.])(\+55\s?)?\(?\d{2}\)?\s?9?\d{4}[-\s]\d{4}(?![\d.])"),
}


@dataclass(frozen=True)
class MapEntry:
    table: str
    column: str
    role: str  # subject | reference | other
    treatment: str
    present: bool


def describe_map(conn: psycopg.Connection, cfg: LgpdConfig) -> list[MapEntry]:
    em = resolve(conn, cfg)
    out: list[MapEntry] = []
    seen: set[str] = set()
    for t in em.targets:
        seen.add(t.label)
        if t.action == "delete":
            out.append(MapEntry(t.label, "*", t.role, f"delete rows where {t.key} = subject", True))
        elif t.action == "hold":
            how = f"legal hold: keep rows, set {t.key} NULL"
            out.append(
                MapEntry(t.label, t.key, t.role, how + (f" ({t.note})" if t.note else ""), True)
            )
        elif t.action == "unmapped":
            out.append(
                MapEntry(t.label, t.key, t.role, f"UNMAPPED reference {t.note}".strip(), True)
            )
        else:
            rule = cfg.rule(t.label) or TableRule(t.label)
            for tr in rule.columns:
                out.append(
                    MapEntry(t.label, tr.column, t.role, tr.describe(), tr.column in t.info.columns)
                )
    for name in cfg.retain:
        if name not in seen:
            info = table_info(conn, name)
            if info is not None:
                out.append(
                    MapEntry(name, "*", "other", "legal hold (no link to the subject)", True)
                )
                seen.add(name)
    for rule in cfg.rules:
        if rule.table in seen:
            continue
        info = table_info(conn, rule.table)
        if rule.delete:
            out.append(MapEntry(rule.table, "*", "other", "delete rows", info is not None))
        for tr in rule.columns:
            present = info is not None and tr.column in info.columns
            out.append(MapEntry(rule.table, tr.column, "other", tr.describe(), present))
    if em.audit_log is not None:
        out.append(
            MapEntry(
                em.audit_log.label,
                "old_values, new_values",
                "other",
                "personal values of the subject's rows removed",
                True,
            )
        )
    if em.webhooks is not None:
        out.append(
            MapEntry(
                em.webhooks.label,
                "payload.row",
                "other",
                "personal values removed from undelivered events",
                True,
            )
        )
    return out


@dataclass(frozen=True)
class Finding:
    table: str
    column: str
    reason: str


def _mapped(cfg: LgpdConfig, table: str, column: str) -> bool:
    if cfg.held(table):
        return True
    rule = cfg.rule(table)
    if rule is None:
        return False
    if rule.delete or rule.treatment(column) is not None:
        return True
    # the ciphertext twin of an erased column is erased with it (lgpd._present)
    base = column.removesuffix(CIPHERTEXT_SUFFIX)
    plain = rule.treatment(base) if base != column else None
    return plain is not None and plain.erases


def name_looks_personal(column: str) -> bool:
    tokens = set(re.split(r"[^a-z0-9]+", column.lower()))
    return bool(tokens & NAME_TOKENS)


def value_matches(values: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for label, rx in VALUE_PATTERNS.items():
        n = sum(1 for v in values if rx.search(v))
        if n:
            out[label] = n
    return out


def check(conn: psycopg.Connection, cfg: LgpdConfig, em: ErasureMap | None = None) -> list[Finding]:
    """Columns that look personal but are not in the map, and map entries that cannot work
    (``em``: the map already resolved from the catalog, to avoid reading it again)."""
    em = em or resolve(conn, cfg)
    findings: list[Finding] = []
    for t in em.targets:
        if t.action == "unmapped":
            findings.append(
                Finding(
                    t.label,
                    t.key,
                    f"references {em.subject.label} ({t.note}) but "
                    "is not in the map: map it under [lgpd.tables] or retain it",
                )
            )
        if t.action == "hold" and t.note:
            findings.append(Finding(t.label, t.key, t.note))
        for tr in t.treatments:
            if tr.kind == "null" and t.info.not_null(tr.column):
                findings.append(Finding(t.label, tr.column, "mapped to null but NOT NULL"))
    rows = conn.execute(templates.load("lgpd/candidate_columns.sql")).fetchall()
    skip = {x.label for x in (em.audit_log, em.webhooks) if x is not None}
    skip.add("public.webhook_subscriptions")
    for schema, name, column, _type, textual in rows:
        label = f"{schema}.{name}"
        if label in skip or _mapped(cfg, label, column):
            continue
        if name_looks_personal(column):
            findings.append(Finding(label, column, "the name looks personal"))
            continue
        if not textual:
            continue
        values = [
            r[0]
            for r in conn.execute(
                templates.render("lgpd/sample.sql.j2", table=(schema, name), column=column, ph=PH),
                {"limit": cfg.sample_rows},
            )
        ]
        hits = value_matches(values)
        threshold = max(1, math.ceil(0.1 * len(values)))
        strong = {k: n for k, n in hits.items() if n >= threshold}
        if strong:
            what = ", ".join(f"{n}/{len(values)} look like {k}" for k, n in strong.items())
            findings.append(Finding(label, column, f"sampled values: {what}"))
    return findings
