"""The data map of one database: tenancy, data subjects, personal columns, the reference
graph and an erasure rule per column, declared once in a TOML file the DBA reviews.

``auroractl map propose`` writes the file from the catalog; every command that needs to
know which columns are personal, or what the tenant key is, loads it here (``require``)
and refuses when it is missing rather than assuming the demo schema.
"""

from __future__ import annotations

import functools
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auroractl.errors import InvalidInput, Precondition

DEFAULT_FILE = "auroractl-map.toml"
PROPOSE_COMMAND = "auroractl map propose"
VERSION = 1

CLASSES = (
    "name",
    "email",
    "phone",
    "national_id",
    "address",
    "birth_date",
    "photo",
    "free_text",
    "credential",
    "network_id",
    "ciphertext",
)
RULES = ("null", "fixed", "pseudonym", "hash", "delete_row", "keep")
TENANT_TYPES = ("integer", "bigint", "uuid", "text")
DIRECTIONS = ("in", "out")  # in: the table references the subject; out: the subject references it


@dataclass(frozen=True)
class TenantKey:
    column: str
    type: str  # integer | bigint | uuid | text
    setting: str  # the session setting that carries the current tenant (app.x)
    root: str | None  # schema.table of the tenants themselves, when there is one
    tables: tuple[str, ...] = ()  # the tables that carry the column


@dataclass(frozen=True)
class Subject:
    table: str  # schema.table
    key: tuple[str, ...]  # the columns that identify one subject (its primary key)
    default: bool = False  # the subject `lgpd forget ID` means when no --subject is given


@dataclass(frozen=True)
class Rule:
    kind: str  # one of RULES
    value: str | None = None  # fixed: the value written (as text, cast to the column's type)
    basis: str | None = None  # keep: the legal basis for keeping the value

    def describe(self) -> str:
        if self.kind == "fixed":
            return f"fixed {self.value!r}"
        if self.kind == "keep":
            return f"keep ({self.basis})"
        return self.kind


@dataclass(frozen=True)
class PersonalColumn:
    table: str
    column: str
    cls: str  # one of CLASSES
    rule: Rule
    of: str | None = None  # ciphertext: the column it is the ciphertext of


@dataclass(frozen=True)
class Reference:
    """A foreign key between a subject and another table, on the partitioned parent
    even when it is declared on each partition."""

    table: str
    columns: tuple[str, ...]
    references: str
    ref_columns: tuple[str, ...]
    subject: str
    direction: str  # in | out
    constraint: str = ""
    on_partitions: bool = False

    @property
    def edge(self) -> tuple[str, tuple[str, ...], str, tuple[str, ...]]:
        return (self.table, self.columns, self.references, self.ref_columns)


@dataclass(frozen=True)
class DataMap:
    tenants: tuple[TenantKey, ...] = ()
    subjects: tuple[Subject, ...] = ()
    columns: tuple[PersonalColumn, ...] = ()
    references: tuple[Reference, ...] = ()
    not_personal: tuple[str, ...] = ()  # "schema.table.column" reviewed as not personal
    path: str | None = field(default=None, compare=False)

    @property
    def tenant(self) -> TenantKey | None:
        """The main tenant key: the one carried by the most tables."""
        return max(self.tenants, key=lambda t: len(t.tables), default=None)

    def tables(self) -> tuple[str, ...]:
        return tuple(self._by_table)

    def columns_of(self, table: str) -> tuple[PersonalColumn, ...]:
        return self._by_table.get(table, ())

    def personal_by_table(self) -> dict[str, tuple[str, ...]]:
        """Column names per "schema.table": what audit redacts and payloads leave out."""
        return {t: tuple(c.column for c in cols) for t, cols in self._by_table.items()}

    def column(self, table: str, column: str) -> PersonalColumn | None:
        return self._index.get((table, column))

    # Built once: a map of a large schema is looked up column by column.
    @functools.cached_property
    def _by_table(self) -> dict[str, tuple[PersonalColumn, ...]]:
        out: dict[str, list[PersonalColumn]] = {}
        for c in self.columns:
            out.setdefault(c.table, []).append(c)
        return {t: tuple(cols) for t, cols in out.items()}

    @functools.cached_property
    def _index(self) -> dict[tuple[str, str], PersonalColumn]:
        return {(c.table, c.column): c for c in self.columns}

    def subject(self, table: str) -> Subject | None:
        return next((s for s in self.subjects if s.table == table), None)

    def default_subject(self) -> Subject | None:
        """The subject marked ``default = true``, else the only one, else None."""
        marked = [s for s in self.subjects if s.default]
        if marked:
            return marked[0]
        return self.subjects[0] if len(self.subjects) == 1 else None

    def references_of(self, subject: str) -> tuple[Reference, ...]:
        return tuple(r for r in self.references if r.subject == subject)


# -- where the file is -------------------------------------------------------------------


def path_for(
    section: dict[str, Any], override: str | None = None, base: Path | None = None
) -> Path:
    """``--map`` (relative to the working directory), else ``[map] file`` (relative to the
    directory of auroractl.toml), else ./auroractl-map.toml."""
    if override:
        return Path(override)
    configured = section.get("file")
    if configured is not None:
        if not isinstance(configured, str) or not configured:
            raise InvalidInput("[map] file must be a file name")
        p = Path(configured).expanduser()
        return p if p.is_absolute() or base is None else base / p
    return Path(DEFAULT_FILE)


def require(path: Path) -> DataMap:
    """The map, or Precondition naming the command that creates it."""
    if not path.is_file():
        raise Precondition(
            f"no data map at {path}: create it with `{PROPOSE_COMMAND}`, review it, "
            "and keep it with the code",
            hint=f"{PROPOSE_COMMAND} --map {path}",
        )
    return load(path)


# -- reading -------------------------------------------------------------------------------


def load(path: Path) -> DataMap:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"cannot read the data map {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{path}: not valid TOML ({exc})") from None
    return parse(data, str(path))


def parse(data: dict[str, Any], where: str = DEFAULT_FILE) -> DataMap:
    """A map from the decoded TOML; InvalidInput names the bad entry in one line."""

    def bad(entry: str, why: str) -> InvalidInput:
        return InvalidInput(f"{where}: {entry}: {why}")

    known = {"version", "tenant", "subject", "reference", "columns", "not_personal"}
    for key in data:
        if key not in known:
            raise bad(key, f"unknown section (known: {', '.join(sorted(known))})")
    version = data.get("version", VERSION)
    if version != VERSION:
        raise bad("version", f"{version!r} is not a map version this auroractl reads ({VERSION})")
    tenants = tuple(
        _tenant(t, f"tenant[{i}]", bad) for i, t in enumerate(_list(data, "tenant", bad))
    )
    subjects = tuple(
        _subject(s, f"subject[{i}]", bad) for i, s in enumerate(_list(data, "subject", bad))
    )
    references = tuple(
        _reference(r, f"reference[{i}]", bad) for i, r in enumerate(_list(data, "reference", bad))
    )
    columns = tuple(_columns(data.get("columns", {}), bad))
    np = data.get("not_personal", {})
    np_cols = np.get("columns", []) if isinstance(np, dict) else None
    if not isinstance(np_cols, list) or not all(isinstance(x, str) for x in np_cols):
        raise bad("not_personal.columns", 'must be a list of "schema.table.column" strings')
    if sum(s.default for s in subjects) > 1:
        raise bad("subject", "only one [[subject]] may be default = true")
    names = {s.table for s in subjects}
    for r in references:
        if r.subject not in names:
            raise bad(
                f"reference {r.constraint or r.table}",
                f"subject {r.subject!r} is not a [[subject]]",
            )
    return DataMap(tenants, subjects, columns, references, tuple(np_cols), where)


def _list(data: dict[str, Any], key: str, bad) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise bad(key, f"must be an array of tables ([[{key}]])")
    return value


def _str(entry: dict[str, Any], key: str, where: str, bad, required: bool = True) -> str | None:  # type: ignore[no-untyped-def]
    value = entry.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise bad(f"{where}.{key}", "missing" if value is None else "must be a non-empty string")
    return value


def _names(entry: dict[str, Any], key: str, where: str, bad) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    value = entry.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise bad(f"{where}.{key}", "must be a non-empty list of column names")
    return tuple(value)


def _table(value: str, entry: str, bad) -> str:  # type: ignore[no-untyped-def]
    if value.count(".") < 1:
        raise bad(entry, f"{value!r} must be schema.table")
    return value


def _tenant(t: dict[str, Any], where: str, bad) -> TenantKey:  # type: ignore[no-untyped-def]
    kind = _str(t, "type", where, bad)
    if kind not in TENANT_TYPES:
        raise bad(f"{where}.type", f"{kind!r} is not one of {', '.join(TENANT_TYPES)}")
    setting = _str(t, "setting", where, bad)
    assert setting is not None
    if "." not in setting or setting.startswith(".") or setting.endswith("."):
        raise bad(f"{where}.setting", f"{setting!r} must be a dotted name like app.tenant_id")
    root = _str(t, "root", where, bad, required=False)
    tables = t.get("tables", [])
    if not isinstance(tables, list) or not all(isinstance(x, str) for x in tables):
        raise bad(f"{where}.tables", "must be a list of schema.table names")
    return TenantKey(
        str(_str(t, "column", where, bad)),
        kind,
        setting,
        _table(root, f"{where}.root", bad) if root else None,
        tuple(_table(x, f"{where}.tables", bad) for x in tables),
    )


def _subject(s: dict[str, Any], where: str, bad) -> Subject:  # type: ignore[no-untyped-def]
    table = _table(str(_str(s, "table", where, bad)), f"{where}.table", bad)
    default = s.get("default", False)
    if not isinstance(default, bool):
        raise bad(f"{where}.default", "must be true or false")
    return Subject(table, _names(s, "key", where, bad), default)


def _reference(r: dict[str, Any], where: str, bad) -> Reference:  # type: ignore[no-untyped-def]
    direction = _str(r, "direction", where, bad)
    if direction not in DIRECTIONS:
        raise bad(f"{where}.direction", f"{direction!r} is not in or out")
    cols, ref_cols = _names(r, "columns", where, bad), _names(r, "ref_columns", where, bad)
    if len(cols) != len(ref_cols):
        raise bad(where, "columns and ref_columns differ in length")
    on_partitions = r.get("on_partitions", False)
    if not isinstance(on_partitions, bool):
        raise bad(f"{where}.on_partitions", "must be true or false")
    return Reference(
        _table(str(_str(r, "table", where, bad)), f"{where}.table", bad),
        cols,
        _table(str(_str(r, "references", where, bad)), f"{where}.references", bad),
        ref_cols,
        _table(str(_str(r, "subject", where, bad)), f"{where}.subject", bad),
        str(direction),
        _str(r, "constraint", where, bad, required=False) or "",
        on_partitions,
    )


def _columns(section: Any, bad) -> list[PersonalColumn]:  # type: ignore[no-untyped-def]
    if not isinstance(section, dict):
        raise bad("columns", 'must be tables of columns ([columns."schema.table"])')
    out = []
    for table, cols in section.items():
        _table(table, f'columns."{table}"', bad)
        if not isinstance(cols, dict):
            raise bad(f'columns."{table}"', "must map column names to { class, rule }")
        for column, body in cols.items():
            out.append(_column(table, column, body, f'columns."{table}".{column}', bad))
    return out


def _column(table: str, column: str, body: Any, where: str, bad) -> PersonalColumn:  # type: ignore[no-untyped-def]
    if not isinstance(body, dict):
        raise bad(where, 'must be { class = "...", rule = "..." }')
    unknown = set(body) - {"class", "rule", "value", "basis", "of"}
    if unknown:
        raise bad(where, f"unknown key {sorted(unknown)[0]!r}")
    cls = _str(body, "class", where, bad)
    if cls not in CLASSES:
        raise bad(f"{where}.class", f"{cls!r} is not one of {', '.join(CLASSES)}")
    kind = _str(body, "rule", where, bad)
    if kind not in RULES:
        raise bad(f"{where}.rule", f"{kind!r} is not one of {', '.join(RULES)}")
    value = body.get("value")
    if value is not None and not isinstance(value, str):
        raise bad(f"{where}.value", "must be a string (cast to the column's type)")
    if kind == "fixed" and value is None:
        raise bad(f"{where}.value", "a fixed rule needs the value it writes")
    basis = _str(body, "basis", where, bad, required=False)
    if kind == "keep" and not basis:
        raise bad(f"{where}.basis", "a keep rule needs the legal basis for keeping the value")
    of = _str(body, "of", where, bad, required=False)
    if cls == "ciphertext" and not of:
        raise bad(f"{where}.of", "a ciphertext column names the column it is the ciphertext of")
    return PersonalColumn(table, column, str(cls), Rule(str(kind), value, basis), of)


# -- writing -------------------------------------------------------------------------------


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def _qlist(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(_q(v) for v in values) + "]"


def dumps(m: DataMap, header: tuple[str, ...] = ()) -> str:
    """The map as TOML, in a stable order so that a re-proposal diffs cleanly."""
    out = [f"# {line}" if line else "#" for line in header]
    out += [f"version = {VERSION}", ""]
    for t in m.tenants:
        out += ["[[tenant]]", f"column = {_q(t.column)}", f"type = {_q(t.type)}"]
        out += [f"setting = {_q(t.setting)}"]
        out += [f"root = {_q(t.root)}"] if t.root else []
        out += [f"tables = {_qlist(t.tables)}", ""]
    for s in m.subjects:
        out += ["[[subject]]", f"table = {_q(s.table)}", f"key = {_qlist(s.key)}"]
        out += ["default = true", ""] if s.default else [""]
    for r in m.references:
        out += ["[[reference]]", f"subject = {_q(r.subject)}", f"direction = {_q(r.direction)}"]
        out += [f"table = {_q(r.table)}", f"columns = {_qlist(r.columns)}"]
        out += [f"references = {_q(r.references)}", f"ref_columns = {_qlist(r.ref_columns)}"]
        out += [f"constraint = {_q(r.constraint)}"] if r.constraint else []
        out += ["on_partitions = true"] if r.on_partitions else []
        out.append("")
    for table in m.tables():
        out.append(f"[columns.{_q(table)}]")
        for c in m.columns_of(table):
            parts = [f"class = {_q(c.cls)}"] + ([f"of = {_q(c.of)}"] if c.of else [])
            parts.append(f"rule = {_q(c.rule.kind)}")
            parts += [f"value = {_q(c.rule.value)}"] if c.rule.value is not None else []
            parts += [f"basis = {_q(c.rule.basis)}"] if c.rule.basis else []
            out.append(f"{_q(c.column)} = {{ {', '.join(parts)} }}")
        out.append("")
    out += ["[not_personal]", f"columns = {_qlist(m.not_personal)}", ""]
    return "\n".join(out)


def as_dict(m: DataMap) -> dict[str, Any]:
    """The map as plain data (for `map show --format json`)."""
    return tomllib.loads(dumps(m)) | {"path": m.path}
