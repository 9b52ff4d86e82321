"""How a new partition is named.

In this order: a template for the table in auroractl.toml; the convention its partitions
already follow (siblings ``x_p2022_07`` -> ``x_p2022_08``), read from their names and
bounds; a template for every table in auroractl.toml; the built-in default
(``<table>_<yyyy>``, ``<table>_<yyyy>_<mm>``, ``<table>_<yyyy>_<mm>_<dd>``,
``<table>_<key>_<id>``). A convention is literal text around the period's fields (or
the LIST value), so whatever separators and prefixes the siblings use are kept.

    [partition.names]                 # tables whose partitions show no convention
    month = "{table}_p{year}_{month}"
    [partition.names."shop.payments"] # this table, whatever its partitions show
    month = "{table}_{year}{month}"
"""

from __future__ import annotations

import datetime as dt
import string
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from auroractl.errors import InvalidInput, Precondition
from auroractl.ops.partition.model import Parent, PartitionInfo, day_of
from auroractl.ops.shared.catalog import sql_name

MAX_IDENTIFIER = 63
KINDS = ("year", "month", "day", "list")
# The fields a name of each kind must hold to be unique among its siblings.
FIELDS = {
    "year": ("year",),
    "month": ("year", "month"),
    "day": ("year", "month", "day"),
    "list": ("value",),
}
DEFAULTS = {
    "year": "{table}_{year}",
    "month": "{table}_{year}_{month}",
    "day": "{table}_{year}_{month}_{day}",
    "list": "{table}_{key}_{value}",
}
SOURCE_CONFIG = "auroractl.toml"


@dataclass(frozen=True)
class Convention:
    """A name as literal ``texts`` around ``fields``: texts[0] f0 texts[1] f1 ... texts[-1]."""

    texts: tuple[str, ...]
    fields: tuple[str, ...]
    source: str = "default"  # default | auroractl.toml | the sibling it was read from

    def render(self, values: Mapping[str, str]) -> str:
        out = self.texts[0]
        for f, text in zip(self.fields, self.texts[1:], strict=True):
            out += values[f] + text
        return out


@dataclass(frozen=True)
class Naming:
    """``[partition.names]`` of auroractl.toml: templates per kind, for every table and
    for named tables."""

    templates: Mapping[str, str] = field(default_factory=dict)
    tables: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def naming_from_config(section: Mapping[str, Any]) -> Naming:
    """The ``[partition]`` section's ``names``, checked: unknown kinds, placeholders
    other than {table} {key} {year} {month} {day} {value}, or a template missing a field
    its kind needs are InvalidInput."""
    names = section.get("names", {})
    if not isinstance(names, Mapping):
        raise InvalidInput("[partition] names must be a table of templates")
    common = {k: v for k, v in names.items() if not isinstance(v, Mapping)}
    tables = {k: dict(v) for k, v in names.items() if isinstance(v, Mapping)}
    for where, templates in [("[partition.names]", common)] + [
        (f'[partition.names."{t}"]', v) for t, v in tables.items()
    ]:
        for kind, template in templates.items():
            _parse(template, kind, where)
    return Naming(common, tables)


def _parse(template: Any, kind: str, where: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A template's literal texts and fields ({table}, {key} stay as fields)."""
    if kind not in KINDS:
        raise InvalidInput(f"{where} {kind}: not one of {', '.join(KINDS)}")
    if not isinstance(template, str):
        raise InvalidInput(f"{where} {kind} must be a string like {DEFAULTS[kind]!r}")
    texts, fields = [""], []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise InvalidInput(f"{where} {kind} = {template!r}: {exc}") from None
    for literal, name, spec, conversion in parsed:
        texts[-1] += literal
        if name is None:
            continue
        if name not in ("table", "key", *FIELDS[kind]) or spec or conversion:
            raise InvalidInput(
                f"{where} {kind} = {template!r}: {{{name}}} is not one of "
                + ", ".join(f"{{{f}}}" for f in ("table", "key", *FIELDS[kind]))
            )
        fields.append(name)
        texts.append("")
    missing = [f for f in FIELDS[kind] if f not in fields]
    if missing:
        raise InvalidInput(
            f"{where} {kind} = {template!r} lacks {', '.join('{' + m + '}' for m in missing)}: "
            "the names of two partitions would collide"
        )
    return tuple(texts), tuple(fields)


def _from_template(template: str, kind: str, p: Parent, source: str) -> Convention:
    """A template with {table} and {key} filled in for ``p``."""
    texts, fields = _parse(template, kind, source)
    fixed = {"table": p.name, "key": p.key.removesuffix("_id")}
    out_texts, out_fields = [texts[0]], []
    for f, text in zip(fields, texts[1:], strict=True):
        if f in fixed:
            out_texts[-1] += fixed[f] + text
        else:
            out_fields.append(f)
            out_texts.append(text)
    return Convention(tuple(out_texts), tuple(out_fields), source)


def convention(p: Parent, kind: str, naming: Naming | None = None) -> Convention:
    """How ``p``'s new partitions of ``kind`` (year | month | day | list) are named."""
    naming = naming or Naming()
    own = _table_templates(p, naming)
    if kind in own:
        return _from_template(own[kind], kind, p, SOURCE_CONFIG)
    default = _from_template(DEFAULTS[kind], kind, p, "default")
    found = detect(p, kind)
    if found is not None and found.texts != default.texts:
        return found
    if found is None and kind in naming.templates:
        return _from_template(naming.templates[kind], kind, p, SOURCE_CONFIG)
    return default


def _table_templates(p: Parent, naming: Naming) -> Mapping[str, str]:
    for key in (f"{p.schema}.{p.name}", sql_name(p.schema, p.name)):
        if key in naming.tables:
            return naming.tables[key]
    return {}


def values_of(kind: str, lower: dt.date | None = None, value: Any = None) -> dict[str, str]:
    """The fields of a partition's name: its period's start, or its LIST value."""
    if kind == "list":
        return {"value": str(value)}
    assert lower is not None
    return {"year": f"{lower.year:04d}", "month": f"{lower.month:02d}", "day": f"{lower.day:02d}"}


def name_for(
    p: Parent, kind: str, naming: Naming | None, *, lower: dt.date | None = None, value: Any = None
) -> tuple[str, str | None]:
    """The new partition's name, and how it was chosen when not by the default. A name
    longer than PostgreSQL keeps (63 bytes) is a Precondition, never silently truncated."""
    conv = convention(p, kind, naming)
    name = conv.render(values_of(kind, lower, value))
    if not name or len(name.encode()) > MAX_IDENTIFIER:
        raise Precondition(
            f"the new partition's name {name!r} ({conv.source} naming) is longer than "
            f"{MAX_IDENTIFIER} bytes",
            hint="set a shorter template in auroractl.toml under [partition.names]",
        )
    if conv.source == "default":
        return name, None
    if conv.source == SOURCE_CONFIG:
        return name, "named by the template in auroractl.toml [partition.names]"
    return name, f"named like {conv.source}"


# ---------------------------------------------------------------- reading a convention


def detect(p: Parent, kind: str) -> Convention | None:
    """The convention the partitions' names follow: the reading of the newest partition's
    name that most of its siblings share; None when its name does not hold its own
    period (or value)."""
    samples = [(part, _fields_of(part, kind)) for part in _named(p, kind)]
    samples = [(part, tokens) for part, tokens in samples if tokens]
    if not samples:
        return None
    readings = [(part, set(_splits(part.relname, tokens))) for part, tokens in samples]
    newest, candidates = readings[-1]
    if not candidates:
        return None
    tally = Counter(c for _, found in readings for c in found)
    # Most siblings agreeing; then the period read as late in the name as it can be
    # ("t2026_2026_10": the table is t2026, the month 2026_10).
    best = max(sorted(candidates), key=lambda c: (tally[c], len(c[0])))
    return Convention(best, FIELDS[kind], newest.name)


def _named(p: Parent, kind: str) -> list[PartitionInfo]:
    """The partitions whose names can show the convention, oldest first."""
    if kind == "list":
        return sorted((x for x in p.partitions if x.kind == "list"), key=lambda x: x.oid)
    return [r for r in p.ranges if day_of(r.lower) is not None]


def _fields_of(part: PartitionInfo, kind: str) -> tuple[str, ...]:
    """The texts of the name's fields for this partition, in order."""
    if kind == "list":
        if len(part.values) != 1 or not isinstance(part.values[0], int):
            return ()
        return (str(part.values[0]),)
    values = values_of(kind, lower=day_of(part.lower))
    return tuple(values[f] for f in FIELDS[kind])


def _splits(name: str, tokens: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Every way to read ``name`` as text, tokens[0], text, tokens[1], ... text."""
    if not tokens:
        return [(name,)]
    out = []
    start = name.find(tokens[0])
    while start >= 0:
        head, rest = name[:start], name[start + len(tokens[0]) :]
        out += [(head, *tail) for tail in _splits(rest, tokens[1:])]
        start = name.find(tokens[0], start + 1)
    return out
