"""The local sandbox: a PostgreSQL cluster with the demo schema and deterministic data,
and the demo's data map in the sandbox's directory (the sandbox is a database like any
other: it has its own map)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from auroractl import templates
from auroractl.config import Settings
from auroractl.errors import InvalidInput
from auroractl.ops.shared import datamap as dm
from auroractl.sandbox import ADMIN_ROLE, DBNAME, SUPERUSER, LocalCluster, default_dir

if TYPE_CHECKING:
    import psycopg

# Reads a database's catalog into the map it suggests (``ops.datamap.propose``; the
# command passes it in, features do not import each other).
Proposer = Callable[["psycopg.Connection"], dm.DataMap]

# Row counts at --scale 1.
BASE_ROWS = {
    "empresas": 50,
    "escolas": 1_000,
    "alunos": 200_000,
    "professores": 20_000,
    "usuarios": 250_000,
    "ai_preferences": 25_000,
    "contratos": 100_000,
    "contratos_default": 500,  # this year's contracts, waiting in DEFAULT for their partition
}
DEMO_TABLES = (
    "empresas",
    "escolas",
    "alunos",
    "professores",
    "usuarios",
    "ai_preferences",
    "contratos",
)
MAP_FILE = dm.DEFAULT_FILE
DEFAULT_SUBJECT = "public.usuarios"  # what `lgpd forget ID` means on the demo
MAP_HEADER = (
    "The sandbox's data map, proposed from the demo's catalog by `auroractl sandbox up`",
    f"({DEFAULT_SUBJECT} the default subject). Edits are kept by `sandbox up`;",
    "`sandbox reset` reloads the demo and writes this file again.",
)


@dataclass(frozen=True)
class SandboxStatus:
    directory: str
    port: int
    initialized: bool
    running: bool
    dsn: str
    server_version: str | None = None
    loaded_seconds: float | None = None
    rows: dict[str, int] | None = None
    data_map: str | None = None  # the sandbox's map file, once written


def cluster(settings: Settings) -> LocalCluster:
    return LocalCluster(default_dir(settings.sandbox_dir), settings.sandbox_port)


def row_counts(scale: float, today: dt.date | None = None) -> dict[str, int]:
    if not 0 < scale <= 100:
        raise InvalidInput(f"--scale {scale} is out of range (0 < scale <= 100)")
    counts = {k: max(1, round(v * scale)) for k, v in BASE_ROWS.items()}
    counts["escolas"] = max(counts["escolas"], counts["empresas"])
    today = today or dt.date.today()
    counts["current_year"] = today.year
    counts["days_elapsed"] = max(1, (today - dt.date(today.year, 1, 1)).days)
    return counts


def map_path(settings: Settings) -> Path:
    """The sandbox's data map: in its own directory, gone with ``down --purge``."""
    return default_dir(settings.sandbox_dir) / MAP_FILE


def write_map(conn: psycopg.Connection, path: Path, propose: Proposer) -> None:
    """Propose the demo's map from the catalog, mark the default subject, write it."""
    m = propose(conn)
    subjects = tuple(replace(s, default=s.table == DEFAULT_SUBJECT) for s in m.subjects)
    try:
        path.write_text(dm.dumps(replace(m, subjects=subjects), MAP_HEADER), encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot write the sandbox's data map {path}: {exc.strerror}") from None


def superuser_connect(c: LocalCluster, dbname: str = "postgres") -> psycopg.Connection:
    import psycopg

    return psycopg.connect(
        c.conninfo(dbname=dbname, user=SUPERUSER), autocommit=True, application_name="auroractl"
    )


def bootstrap(c: LocalCluster, dbname: str = DBNAME) -> bool:
    """Roles, the application database (owned by the admin role) and extensions.

    Returns True when the database was created now.
    """
    from psycopg import sql

    with superuser_connect(c) as conn:
        existing = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles")}
        conn.execute(templates.render("sandbox/roles.sql.j2", existing=existing, admin=ADMIN_ROLE))
        created = (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
            is None
        )
        if created:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(dbname), sql.Identifier(ADMIN_ROLE)
                )
            )
    with superuser_connect(c, dbname) as conn:
        conn.execute(templates.load("sandbox/extensions.sql"))
        cron_db = conn.execute("SELECT current_setting('cron.database_name', true)").fetchone()[0]
        if cron_db == dbname:  # pg_cron is preloaded and lives here, as on Aurora
            conn.execute(templates.render("sandbox/cron.sql.j2", admin=ADMIN_ROLE))
    return created


def load_demo(conn: psycopg.Connection, scale: float) -> float:
    """Create the demo schema and data in ``conn``'s database; returns seconds taken."""
    counts = row_counts(scale)
    started = time.monotonic()
    with conn.transaction():
        conn.execute(templates.load("sandbox/schema.sql"))
        conn.execute(templates.render("sandbox/data.sql.j2", **counts))
        conn.execute(templates.load("sandbox/constraints.sql"))
    conn.execute("ANALYZE")
    return time.monotonic() - started


def has_demo(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT to_regclass('public.empresas') IS NOT NULL").fetchone()[0]


def up(settings: Settings, scale: float = 1.0, propose: Proposer | None = None) -> SandboxStatus:
    """Create (if needed) and start the sandbox, and load the demo data once.

    With ``propose``, the sandbox's data map is written when the demo was loaded now or
    when there is none: a map the user edited survives `up`, not a reload of the demo.
    """
    row_counts(scale)  # validate before touching anything
    c = cluster(settings)
    c.check_port()
    c.init()
    c.start()
    bootstrap(c)
    import psycopg

    path = map_path(settings)
    with psycopg.connect(c.conninfo(), autocommit=True) as conn:
        seconds = None if has_demo(conn) else load_demo(conn, scale)
        if propose is not None and (seconds is not None or not path.exists()):
            write_map(conn, path, propose)
    return status(settings, loaded_seconds=seconds)


def reset(settings: Settings, scale: float = 1.0, propose: Proposer | None = None) -> SandboxStatus:
    """Drop and recreate the demo database."""
    from psycopg import sql

    row_counts(scale)
    c = cluster(settings)
    c.check_port()
    c.init()
    c.start()
    with superuser_connect(c) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DBNAME))
        )
    return up(settings, scale, propose)  # the demo is loaded again: so is its map


def down(settings: Settings, purge: bool = False) -> SandboxStatus:
    c = cluster(settings)
    if purge:
        c.destroy()
    else:
        c.stop()
    return status(settings)


def status(settings: Settings, loaded_seconds: float | None = None) -> SandboxStatus:
    import psycopg

    c = cluster(settings)
    running = c.is_running()
    version, rows = None, None
    mapped = map_path(settings)
    if running:
        try:
            with psycopg.connect(c.conninfo(), autocommit=True, connect_timeout=5) as conn:
                version = conn.execute("SHOW server_version").fetchone()[0]
                if has_demo(conn):
                    rows = {
                        t: conn.execute(
                            templates.render("sandbox/count.sql.j2", table=t)
                        ).fetchone()[0]
                        for t in DEMO_TABLES
                    }
        except psycopg.Error:
            pass
    return SandboxStatus(
        str(c.root),
        c.port,
        c.initialized,
        running,
        c.conninfo(),
        version,
        None if loaded_seconds is None else round(loaded_seconds, 2),
        rows,
        str(mapped) if mapped.is_file() else None,
    )


def reset_job(settings: Settings, scale: float = 1.0, propose: Proposer | None = None):  # type: ignore[no-untyped-def]
    """`sandbox reset` as a change: drop the demo database and load it again (and write
    its data map again, with ``propose``)."""
    from psycopg import sql

    from auroractl.plan import Job, JobResult, Plan, Step

    counts = row_counts(scale)  # validate before anything is asked or changed
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DBNAME))
    also = f", write its data map to {map_path(settings)}" if propose else ""
    preview = Plan(
        "sandbox reset",
        f"drop the sandbox database {DBNAME} and load the demo data at scale {scale:g}{also}",
        (Step(drop.as_string(None), comment="as the sandbox superuser"),),
    )

    def run(progress) -> JobResult:  # type: ignore[no-untyped-def]
        progress.start(1)
        done = reset(settings, scale, propose)
        progress.advance(1)
        return JobResult(rows=sum(counts.values()), payload=done)

    return Job(preview.command, preview.summary, preview, run, unit="databases")


def purge_job(settings: Settings):  # type: ignore[no-untyped-def]
    """`sandbox down --purge` as a change: stop the server and delete its data directory."""
    from auroractl.plan import Job, JobResult, Plan

    where = cluster(settings).root
    preview = Plan("sandbox down --purge", f"stop the sandbox and delete {where}")

    def run(progress) -> JobResult:  # type: ignore[no-untyped-def]
        return JobResult(rows=0, payload=down(settings, purge=True))

    return Job(preview.command, preview.summary, preview, run, unit="directories")
