"""Verification of a restored copy against its source: the checks of a restore test.

``collect`` reads the same facts from a database (structure fingerprint, row counts,
checksums of critical tables, canary query results, newest timestamps); ``compare``
turns a source's and a copy's facts into a list of ``Check`` results. Both backends
(local pg_dump/pg_restore and Aurora snapshot/PITR restores) use them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import InvalidInput

if TYPE_CHECKING:
    import psycopg

    from auroractl.ops.shared.datamap import DataMap

STRUCTURE_KINDS = (
    "schema",
    "table",
    "index",
    "constraint",
    "function",
    "trigger",
    "policy",
    "extension",
)


@dataclass(frozen=True)
class Canary:
    name: str
    sql: str
    expect: str | None = None  # None: the copy must return what the source returns


@dataclass(frozen=True)
class Spec:
    """What to verify, from the ``[restore_test]`` config section."""

    exact_tables: tuple[str, ...] | None = None  # None: every table must match exactly
    timestamp_columns: dict[str, str] = field(default_factory=dict)  # table -> column
    critical_tables: tuple[str, ...] = ()
    canaries: tuple[Canary, ...] = ()
    freshness_columns: tuple[str, ...] = ()  # "schema.table.column"

    @classmethod
    def from_config(cls, section: dict[str, Any], data_map: DataMap | None = None) -> Spec:
        """The spec of ``[restore_test]``; without ``critical_tables`` there, the data
        map's subjects and tenant roots are the critical tables (none without a map)."""

        def tables(key: str) -> tuple[str, ...]:
            value = section.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InvalidInput(f"[restore_test] {key} must be a list of table names")
            return tuple(qualify(v) for v in value)

        exact = tables("exact_tables") if "exact_tables" in section else None
        ts = section.get("timestamp_columns", {})
        if not isinstance(ts, dict):
            raise InvalidInput("[restore_test] timestamp_columns must be a table = column map")
        canaries = []
        for i, c in enumerate(section.get("canary", [])):
            if not isinstance(c, dict) or not isinstance(c.get("sql"), str):
                raise InvalidInput(f"[restore_test] canary #{i + 1} needs a sql = '...' query")
            expect = c.get("expect")
            canaries.append(
                Canary(
                    name=str(c.get("name", f"canary {i + 1}")),
                    sql=c["sql"],
                    expect=None if expect is None else _text(expect),
                )
            )
        fresh = section.get("freshness_columns", [])
        for col in fresh:
            if not isinstance(col, str) or len(col.split(".")) not in (2, 3):
                raise InvalidInput(
                    f"[restore_test] freshness column {col!r} must be table.column "
                    "or schema.table.column"
                )
        return cls(
            exact_tables=exact,
            timestamp_columns={qualify(k): str(v) for k, v in ts.items()},
            critical_tables=tables("critical_tables")
            if "critical_tables" in section
            else map_tables(data_map),
            canaries=tuple(canaries),
            freshness_columns=tuple(c if len(c.split(".")) == 3 else f"public.{c}" for c in fresh),
        )


@dataclass(frozen=True)
class Facts:
    structure: dict[str, tuple[str, ...]]
    counts: dict[str, int]
    checksums: dict[str, str]
    canaries: dict[str, str | None]
    newest: dict[str, dt.datetime | None]


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # pass | fail | warn
    detail: str = ""


def map_tables(m: DataMap | None) -> tuple[str, ...]:
    """The tables a data map says matter most: its data subjects, then the tenants."""
    if m is None:
        return ()
    names = [s.table for s in m.subjects] + [t.root for t in m.tenants if t.root]
    return tuple(dict.fromkeys(names))


def qualify(name: str) -> str:
    parts = name.split(".")
    if len(parts) == 1:
        return f"public.{name}"
    if len(parts) != 2 or not all(parts):
        raise InvalidInput(f"table {name!r} must be name or schema.name")
    return name


def _pair(name: str) -> tuple[str, str]:
    schema, _, table = qualify(name).partition(".")
    return schema, table


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def collect(conn: psycopg.Connection, spec: Spec, cutoff: dt.datetime | None = None) -> Facts:
    """Read the facts to compare. With ``cutoff``, tables that have a configured
    timestamp column are counted/checksummed only up to it (the snapshot time)."""
    import psycopg

    structure: dict[str, list[str]] = {k: [] for k in STRUCTURE_KINDS}
    for kind, item in conn.execute(templates.load("restore_test/structure.sql")):
        structure.setdefault(kind, []).append(item)
    counts: dict[str, int] = {}
    for schema, table in conn.execute(templates.load("restore_test/tables.sql")).fetchall():
        counts[f"{schema}.{table}"] = _count(conn, f"{schema}.{table}", spec, cutoff)
    for name in spec.exact_tables or ():
        if name not in counts:  # e.g. a partitioned parent
            counts[name] = _count(conn, name, spec, cutoff)
    checksums = {}
    for name in spec.critical_tables:
        column = spec.timestamp_columns.get(name) if cutoff else None
        sql = templates.render("restore_test/checksum.sql.j2", table=_pair(name), column=column)
        n, total = conn.execute(sql, {"cutoff": cutoff} if column else None).fetchone()
        checksums[name] = f"{n}:{total}"
    canaries: dict[str, str | None] = {}
    for c in spec.canaries:
        try:
            with conn.transaction():
                conn.execute("SET TRANSACTION READ ONLY")
                row = conn.execute(c.sql).fetchone()
            canaries[c.name] = _text(row[0]) if row else None
        except psycopg.Error as exc:  # a broken canary is a failed check, not a crash
            canaries[c.name] = f"error: {' '.join(str(exc).split())[:200]}"
    newest = {}
    for col in spec.freshness_columns:
        schema, table, column = col.split(".")
        sql = templates.render("restore_test/newest.sql.j2", table=(schema, table), column=column)
        try:
            newest[col] = conn.execute(sql).fetchone()[0]
        except psycopg.Error as exc:
            raise InvalidInput(
                f"freshness column {col}: {' '.join(str(exc).split())[:200]}"
            ) from None
    return Facts(
        structure={k: tuple(v) for k, v in structure.items()},
        counts=counts,
        checksums=checksums,
        canaries=canaries,
        newest=newest,
    )


def _count(conn: psycopg.Connection, name: str, spec: Spec, cutoff: dt.datetime | None) -> int:
    column = spec.timestamp_columns.get(name) if cutoff else None
    sql = templates.render("restore_test/count.sql.j2", table=_pair(name), column=column)
    return conn.execute(sql, {"cutoff": cutoff} if column else None).fetchone()[0]


def compare(
    source: Facts,
    copy: Facts,
    spec: Spec,
    tolerated_extensions: frozenset[str] = frozenset(),
) -> list[Check]:
    """One Check per structure kind, per table count, per checksum and per canary."""
    checks: list[Check] = []
    for kind in STRUCTURE_KINDS:
        src, dst = set(source.structure.get(kind, ())), set(copy.structure.get(kind, ()))
        missing, extra = sorted(src - dst), sorted(dst - src)
        if kind == "extension":
            skipped = [m for m in missing if m.split(" ")[0] in tolerated_extensions]
            missing = [m for m in missing if m not in skipped]
        else:
            skipped = []
        if missing or extra:
            detail = "; ".join(
                p
                for p in (
                    f"missing in copy: {', '.join(missing[:5])}" if missing else "",
                    f"only in copy: {', '.join(extra[:5])}" if extra else "",
                )
                if p
            )
            checks.append(Check(f"structure: {_plural(kind)}", "fail", detail))
        elif skipped:
            checks.append(
                Check(
                    f"structure: {_plural(kind)}",
                    "warn",
                    f"{len(src)} match except {', '.join(skipped)}: not creatable by this "
                    "role on this server (untrusted extension)",
                )
            )
        else:
            checks.append(Check(f"structure: {_plural(kind)}", "pass", f"{len(src)} identical"))
    exact = set(spec.exact_tables) if spec.exact_tables is not None else None
    for table in sorted(set(source.counts) | set(copy.counts)):
        a, b = source.counts.get(table), copy.counts.get(table)
        must = exact is None or table in exact
        column = spec.timestamp_columns.get(table)
        scope = f" (rows up to the restore point by {column})" if column else ""
        if a == b:
            checks.append(Check(f"rows: {table}", "pass", f"{a:,}{scope}"))
        else:
            detail = f"source {_n(a)}, copy {_n(b)}{scope}"
            checks.append(Check(f"rows: {table}", "fail" if must else "warn", detail))
    for table, digest in source.checksums.items():
        other = copy.checksums.get(table)
        ok = digest == other
        checks.append(
            Check(
                f"checksum: {table}",
                "pass" if ok else "fail",
                f"{digest.split(':')[0]} rows identical"
                if ok
                else f"row contents differ (source {digest}, copy {other})",
            )
        )
    for c in spec.canaries:
        got = copy.canaries.get(c.name)
        want = c.expect if c.expect is not None else source.canaries.get(c.name)
        ok = got == want and not (got or "").startswith("error:")
        checks.append(
            Check(f"canary: {c.name}", "pass" if ok else "fail", f"got {got!r}, expected {want!r}")
        )
    return checks


def _plural(kind: str) -> str:
    if kind.endswith("y"):
        return kind[:-1] + "ies"
    return kind + ("es" if kind.endswith("x") else "s")


def _n(value: int | None) -> str:
    return "absent" if value is None else f"{value:,}"


def newest(facts: Facts) -> dt.datetime | None:
    values = [v for v in facts.newest.values() if v is not None]
    return max(values) if values else None
