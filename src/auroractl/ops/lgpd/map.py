"""What erasing one data subject does, table by table, as ``lgpd map`` shows it: the data
map's rules resolved against the catalog (whether the map still matches the catalog is
``map check``'s question)."""

from __future__ import annotations

from dataclasses import dataclass

from auroractl.ops.lgpd import ErasureMap

ROLES = {"subject": "the subject", "in": "references the subject", "out": "referenced by it"}


@dataclass(frozen=True)
class MapEntry:
    table: str
    column: str
    role: str  # subject | in | out | log
    treatment: str
    rows: str  # how the table's rows are matched to the subject


def describe_map(em: ErasureMap) -> list[MapEntry]:
    out: list[MapEntry] = []
    for t in em.targets:
        how = t.match.describe()
        if t.action == "delete":
            out.append(MapEntry(t.label, "*", t.role, "delete the rows", how))
        for tr in t.treatments if t.action != "delete" else ():
            out.append(MapEntry(t.label, tr.column, t.role, tr.describe(), how))
        if t.action == "keep" and not t.treatments:
            out.append(MapEntry(t.label, "", t.role, "no personal column: rows kept", how))
    if em.audit_log is not None:
        out.append(
            MapEntry(
                em.audit_log.label,
                "old_values, new_values",
                "log",
                "erased values removed from the entries about those rows",
                "(table_name, row_pk)",
            )
        )
    if em.webhooks is not None:
        out.append(
            MapEntry(
                em.webhooks.label,
                "payload.row",
                "log",
                "erased values removed from undelivered events",
                "(schema, table, key)",
            )
        )
    return out
