"""Versioned schema evolution: a directory of ``NNNN_name.sql.j2`` files + a ledger.

- The directory is always named (``--directory`` or ``[migrate] directory``): auroractl
  applies nothing to a database it was not told about. ``demo`` names the demo schema's
  migrations shipped with auroractl (``sql_templates/migrations/``), for the sandbox.
- Each directory is a series (``[migrate] series``; ``demo`` for the shipped ones, else
  ``default``): the ledger records and compares versions per series, so one directory's
  migrations never show as pending or changed for another.
- A migration is a Jinja template named ``NNNN_name.sql.j2`` (version = the number).
  It names existing tables as ``{{ t.usuarios | ident }}`` (resolved in the catalog, so
  migrations keep working after ``schema split``) and places new objects in
  ``{{ schema }}`` (``[migrate] schema``, default ``public``).
- Its checksum is the SHA-256 of the template file (line endings normalised): an applied
  migration whose file changed afterwards makes ``up`` refuse, naming the file.
- Each migration runs in one transaction together with its ledger row
  (``auroractl.schema_migrations``), so it is either applied and recorded or neither.
  A file whose first line is ``-- auroractl: autocommit`` (for ``CREATE INDEX
  CONCURRENTLY``) is split into statements that run one by one outside a transaction;
  its ledger row is written after the last one, so such a file must be safe to re-run
  (``IF NOT EXISTS``, dropping an INVALID leftover index first).

The engine (discovery, checksums, steps, the ledger rows) is ``ops.shared.migrations``,
which also installs auroractl's own tables (``ops.shared.state``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import InvalidInput, Precondition
from auroractl.ops.shared import migrations
from auroractl.ops.shared import state as auroractl_state
from auroractl.ops.shared.migrations import Applied, Migration, discover, split_statements
from auroractl.plan import Plan, Step

if TYPE_CHECKING:
    import datetime as dt

    import psycopg

__all__ = ["Applied", "Migration", "discover", "split_statements"]

LEDGER = migrations.Ledger("migrate/applied.sql", "migrate/record.sql")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_SERIES = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
DEMO = "demo"  # --directory demo: the demo's migrations shipped with auroractl
DEFAULT_SERIES = "default"


@dataclass(frozen=True)
class MigrateConfig:
    schema: str = "public"
    directory: str | None = None  # None: not configured, migrate refuses
    series: str | None = None  # None: demo for the demo's migrations, else default


@dataclass(frozen=True)
class MigrationStatus:
    version: int
    name: str
    state: str  # applied | pending | changed | missing
    checksum: str
    applied_at: dt.datetime | None = None
    duration_ms: int | None = None
    applied_by: str | None = None
    autocommit: bool = False
    file: str | None = None


def config(section: Mapping[str, Any]) -> MigrateConfig:
    """``[migrate]`` of auroractl.toml, validated."""
    unknown = set(section) - {"schema", "directory", "series"}
    if unknown:
        raise InvalidInput(f"[migrate] has unknown keys: {', '.join(sorted(unknown))}")
    cfg = MigrateConfig(**section)
    if not isinstance(cfg.schema, str) or not _NAME.match(cfg.schema):
        raise InvalidInput(f"[migrate] schema = {cfg.schema!r} is not a plain identifier")
    if cfg.directory is not None and not isinstance(cfg.directory, str):
        raise InvalidInput("[migrate] directory must be a path")
    check_series(cfg.series)
    return cfg


def check_series(series: str | None) -> None:
    if series is not None and (not isinstance(series, str) or not _SERIES.match(series)):
        raise InvalidInput(f"migration series {series!r}: use letters, digits, _ . -")


def demo_directory() -> Path:
    return templates.templates_dir() / "migrations"


def directory(cfg: MigrateConfig) -> Path:
    """The migrations directory; refuses when none was named."""
    if not cfg.directory:
        raise Precondition(
            "no migrations directory: pass --directory PATH or set [migrate] directory "
            f"in auroractl.toml (the demo schema's migrations: --directory {DEMO})"
        )
    path = demo_directory() if cfg.directory == DEMO else Path(cfg.directory).expanduser()
    if not path.is_dir():
        raise InvalidInput(f"migrations directory {path} does not exist")
    return path


def series(cfg: MigrateConfig) -> str:
    """The ledger series of ``cfg``'s directory."""
    if cfg.series:
        return cfg.series
    return DEMO if directory(cfg).resolve() == demo_directory().resolve() else DEFAULT_SERIES


class Tables(dict):
    """``t`` in a migration: table name -> (schema, name); names a missing one clearly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.used: list[str] = []

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        if key not in self.used:
            self.used.append(key)
        return value

    def __missing__(self, key: str) -> Any:
        raise Precondition(f'table "{key}" does not exist (named as t.{key})')


def context(conn: psycopg.Connection, cfg: MigrateConfig) -> dict[str, Any]:
    rows = conn.execute(templates.load("migrate/tables.sql"), {"schema": cfg.schema}).fetchall()
    return {"schema": cfg.schema, "t": Tables({name: (nsp, name) for name, nsp in rows})}


def render(path: Path, migration: Migration, ctx: Mapping[str, Any]) -> str:
    """Render one migration file (same filters as every other template)."""
    import jinja2

    env = templates.environment().overlay(loader=jinja2.FileSystemLoader(str(path)))
    try:
        return env.get_template(migration.file).render(**ctx).strip()
    except Precondition as exc:
        raise Precondition(f"migration {migration.file}: {exc}") from None
    except jinja2.TemplateError as exc:
        raise InvalidInput(f"migration {migration.file}: {exc}") from None


def applied(conn: psycopg.Connection, cfg: MigrateConfig) -> list[Applied]:
    """Applied migrations of ``cfg``'s series; none when auroractl never recorded anything
    here."""
    if not auroractl_state.readable(conn):
        return []
    return migrations.applied(conn, LEDGER, {"series": series(cfg)})


def status(conn: psycopg.Connection, cfg: MigrateConfig) -> list[MigrationStatus]:
    """Every migration, applied or not, and applied ones whose file changed or is gone."""
    files = {m.version: m for m in discover(directory(cfg))}
    done = {a.version: a for a in applied(conn, cfg)}
    out = []
    for version in sorted(set(files) | set(done)):
        m, a = files.get(version), done.get(version)
        if a is None:
            assert m is not None
            out.append(
                MigrationStatus(
                    version, m.name, "pending", m.checksum, autocommit=m.autocommit, file=m.file
                )
            )
            continue
        state = "missing" if m is None else "applied" if m.checksum == a.checksum else "changed"
        out.append(
            MigrationStatus(
                version,
                a.name,
                state,
                a.checksum,
                a.applied_at,
                a.duration_ms,
                a.applied_by,
                a.autocommit,
                m.file if m else None,
            )
        )
    return out


def check(rows: list[MigrationStatus], cfg: MigrateConfig) -> None:
    """Refuse to go on when an applied migration's file changed or disappeared."""
    where = directory(cfg)
    for r in rows:
        if r.state == "changed":
            raise Precondition(
                f"applied migration {r.file} has changed since it was applied "
                f"(checksum {r.checksum[:12]} in the ledger): refusing to migrate",
                hint=f"restore {where / str(r.file)} as applied and put the change in a new "
                "migration",
            )
        if r.state == "missing":
            raise Precondition(
                f"applied migration {r.version:04d}_{r.name} is missing from {where} "
                f"(series {series(cfg)}): refusing to migrate"
            )


def plan(conn: psycopg.Connection, cfg: MigrateConfig, to: int | None = None) -> Plan:
    """The pending migrations (up to version ``to``) as one plan: a transaction per
    migration with its ledger row, or one autocommit step per statement."""
    path = directory(cfg)
    rows = status(conn, cfg)
    check(rows, cfg)
    files = {m.version: m for m in discover(path)}
    if to is not None and to not in files:
        raise InvalidInput(
            f"--to {to}: no migration has that version "
            f"(known: {', '.join(str(v) for v in sorted(files)) or 'none'})"
        )
    last_applied = max((r.version for r in rows if r.state == "applied"), default=0)
    pending = [
        files[r.version] for r in rows if r.state == "pending" and (to is None or r.version <= to)
    ]
    if not pending:
        upto = f" up to {to:04d}" if to is not None else ""
        return Plan("migrate up", f"database is up to date{upto}: no pending migration")
    ctx = context(conn, cfg)
    # The ledger is one of auroractl's own tables: installed (or upgraded) first, in the
    # same plan, so that a refused or dry run changes nothing.
    steps: list[Step] = list(auroractl_state.plan_steps(conn))
    notes = []
    tables: Tables = ctx["t"]
    for m in pending:
        if m.version < last_applied:
            notes.append(f"{m.file} is older than applied version {last_applied}: out of order")
        tables.used.clear()
        sql = render(path, m, ctx)
        locks = tuple(".".join(tables[u]) for u in tables.used)
        steps += migrations.steps(m, sql, LEDGER, locks, extra={"series": series(cfg)})
    first, last = pending[0], pending[-1]
    what = f"{first.version:04d}" + (f"..{last.version:04d}" if last is not first else "")
    return Plan(
        "migrate up",
        f"apply {len(pending)} migration(s) {what}: {', '.join(m.name for m in pending)}",
        tuple(steps),
        tuple(notes),
    )


def try_lock(conn: psycopg.Connection) -> None:
    """One ``migrate up`` at a time per database."""
    if not conn.execute(templates.load("migrate/try_lock.sql")).fetchone()[0]:
        raise Precondition("another `auroractl migrate up` is running on this database")


def unlock(conn: psycopg.Connection) -> None:
    conn.execute(templates.load("migrate/unlock.sql"))
