"""Restore drills: restore the target somewhere else, verify the copy, tear it down.

Two backends share the verification (``drill_verify``), the report and the history:

- local (any PostgreSQL, the sandbox): ``pg_dump -Fd -j N`` of the target database
  inside an exported snapshot, ``pg_restore -j N`` into a scratch database
  ``auroractl_drill_<ts>`` on the same server, verify, drop the scratch database.
- aurora (the target profile has ``cluster_id``): see ``ops/restore_test_aws.py``.

A drill never changes the source except for its own history row in
``auroractl.restore_tests``; a session advisory lock on the source keeps two drills from
overlapping.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.db import MAINTENANCE_OPTION
from auroractl.errors import InvalidInput, Precondition
from auroractl.ops.drill_verify import Check, Facts, Spec, collect, compare, newest
from auroractl.ops.shared import state

if TYPE_CHECKING:
    import psycopg

LOCK_KEY = 7_262_837_351_042_001  # pg_try_advisory_lock key shared by every drill
HOOK_ENV = "AURORACTL_DRILL_HOOK_SQL"  # testing aid: SQL run in the copy before verifying
SCRATCH_PREFIX = "auroractl_drill_"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|min|m|h|d)?\s*$")
_UNITS = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_duration(value: str | int | float, what: str) -> dt.timedelta:
    """``90``, ``30s``, ``15min``, ``6h``, ``2d`` -> timedelta."""
    m = _DURATION.match(str(value))
    if not m:
        raise InvalidInput(f"{what} {value!r} is not a duration like 30s, 15min, 6h or 2d")
    return dt.timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class DrillConfig:
    """``[restore_test]`` settings (command-line options override them)."""

    spec: Spec = field(default_factory=Spec)
    jobs: int = 2
    compression: int = 0  # pg_dump -Z: the dump is temporary, CPU is better spent elsewhere
    ttl: dt.timedelta = dt.timedelta(hours=6)
    timeout: dt.timedelta = dt.timedelta(hours=3)
    waiter_delay: int = 30
    min_acu: float = 0.5
    max_acu: float = 4.0
    db_subnet_group: str | None = None
    security_groups: tuple[str, ...] | None = None
    cluster_parameter_group: str | None = None
    restored_dsn: str | None = None  # testing aid: where the restored cluster is reached

    @classmethod
    def from_section(cls, section: dict[str, Any], **overrides: Any) -> DrillConfig:
        def num(key: str, default: float, lo: float, hi: float) -> float:
            value = section.get(key, default)
            if not isinstance(value, int | float) or not lo <= value <= hi:
                raise InvalidInput(f"[restore_test] {key} must be a number in {lo}..{hi}")
            return value

        sgs = section.get("security_groups")
        cfg = cls(
            spec=Spec.from_config(section),
            jobs=int(num("jobs", min(4, os.cpu_count() or 2), 1, 64)),
            compression=int(num("dump_compression", 0, 0, 9)),
            ttl=parse_duration(section.get("ttl", "6h"), "[restore_test] ttl"),
            timeout=parse_duration(section.get("timeout", "3h"), "[restore_test] timeout"),
            waiter_delay=int(num("waiter_delay", 30, 1, 600)),
            min_acu=float(num("min_acu", 0.5, 0, 256)),
            max_acu=float(num("max_acu", 4, 1, 256)),
            db_subnet_group=section.get("db_subnet_group"),
            security_groups=tuple(sgs) if sgs is not None else None,
            cluster_parameter_group=section.get("cluster_parameter_group"),
            restored_dsn=os.environ.get("AURORACTL_DRILL_RESTORED_DSN")
            or section.get("restored_dsn"),
        )
        if cfg.min_acu > cfg.max_acu:
            raise InvalidInput("[restore_test] min_acu must not exceed max_acu")
        return replace(cfg, **{k: v for k, v in overrides.items() if v is not None})


@dataclass(frozen=True)
class DrillReport:
    outcome: str  # passed | failed | error
    backend: str  # local | aurora
    source: str
    restored: str
    restore_from: str  # pg_dump snapshot | snapshot <id> | pitr <time>
    requested_at: dt.datetime
    restore_point: dt.datetime | None
    verified_at: dt.datetime | None
    newest_data: dt.datetime | None
    rto_s: float
    rpo_s: float | None
    timings: dict[str, float]
    checks: tuple[Check, ...]
    kept: bool = False
    torn_down: bool = False
    error: str | None = None
    notes: tuple[str, ...] = ()
    id: int | None = None

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]


@dataclass(frozen=True)
class DrillRow:
    id: int
    started_at: dt.datetime
    finished_at: dt.datetime
    backend: str
    source: str
    restored: str | None
    outcome: str
    rto_s: float | None
    rpo_s: float | None
    checks_failed: int
    error: str | None


@dataclass(frozen=True)
class Leftover:
    kind: str  # database | cluster
    name: str
    expires_at: dt.datetime | None
    expired: bool
    action: str  # dropped | would drop | kept (not expired) | kept (no expiry) | error: ...


# -- lock, ledger -------------------------------------------------------------------


@contextlib.contextmanager
def drill_lock(conn: psycopg.Connection) -> Iterator[None]:
    """A session advisory lock on the source: two drills never overlap."""
    if not conn.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY]).fetchone()[0]:
        raise Precondition(
            "another restore drill is running against this database (advisory lock held)"
        )
    try:
        yield
    finally:
        if not conn.closed and not conn.broken:
            with contextlib.suppress(Exception):
                conn.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


def ensure_ledger(conn: psycopg.Connection) -> None:
    state.ensure(conn)


def record(conn: psycopg.Connection, report: DrillReport) -> int | None:
    """Append the drill to ``auroractl.restore_tests``; returns its id."""
    import getpass
    import socket

    from psycopg.types.json import Jsonb

    from auroractl.output import to_jsonable

    try:
        os_user = getpass.getuser()
    except Exception:
        os_user = None
    ensure_ledger(conn)
    row = conn.execute(
        templates.load("restore_test/record.sql"),
        {
            "started_at": report.requested_at,
            "backend": report.backend,
            "source": report.source,
            "restored": report.restored,
            "outcome": report.outcome,
            "rto_s": report.rto_s,
            "rpo_s": report.rpo_s,
            "checks_failed": len(report.failed_checks),
            "error": report.error,
            "os_user": os_user,
            "client_host": socket.gethostname(),
            "report": Jsonb(to_jsonable(report)),
        },
    ).fetchone()
    return row[0] if row else None


def history(conn: psycopg.Connection, limit: int = 20) -> list[DrillRow]:
    if limit < 1:
        raise InvalidInput(f"--limit {limit} must be at least 1")
    if not state.readable(conn):
        return []
    rows = conn.execute(templates.load("restore_test/history.sql"), {"limit": limit}).fetchall()
    return [DrillRow(*r) for r in rows]


def error_report(
    backend: str,
    source: str,
    restored: str,
    requested_at: dt.datetime,
    started: float,
    exc: BaseException,
) -> DrillReport:
    return DrillReport(
        outcome="error",
        backend=backend,
        source=source,
        restored=restored,
        restore_from="",
        requested_at=requested_at,
        restore_point=None,
        verified_at=None,
        newest_data=None,
        rto_s=round(time.monotonic() - started, 3),
        rpo_s=None,
        timings={},
        checks=(),
        error=" ".join(str(exc).split())[:500] or type(exc).__name__,
    )


def finish(
    *,
    backend: str,
    source: str,
    restored: str,
    restore_from: str,
    requested_at: dt.datetime,
    started: float,
    restore_point: dt.datetime | None,
    source_facts: Facts,
    copy_facts: Facts,
    cfg: DrillConfig,
    timings: dict[str, float],
    extra_checks: tuple[Check, ...] = (),
    tolerated_extensions: frozenset[str] = frozenset(),
    notes: tuple[str, ...] = (),
    kept: bool = False,
) -> DrillReport:
    """Compare the facts and compute RTO/RPO: the drill's verdict."""
    checks = (*extra_checks, *compare(source_facts, copy_facts, cfg.spec, tolerated_extensions))
    verified_at = utcnow()
    newest_data = newest(copy_facts)
    point = newest_data or restore_point
    return DrillReport(
        outcome="failed" if any(c.status == "fail" for c in checks) else "passed",
        backend=backend,
        source=source,
        restored=restored,
        restore_from=restore_from,
        requested_at=requested_at,
        restore_point=restore_point,
        verified_at=verified_at,
        newest_data=newest_data,
        rto_s=round(time.monotonic() - started, 3),
        rpo_s=round(max(0.0, (requested_at - point).total_seconds()), 3) if point else None,
        timings={k: round(v, 3) for k, v in timings.items()},
        checks=checks,
        kept=kept,
        notes=notes,
    )


def run_hook(conn: psycopg.Connection) -> None:
    """Testing aid: ``AURORACTL_DRILL_HOOK_SQL`` runs in the restored copy before verifying."""
    sql = os.environ.get(HOOK_ENV)
    if sql:
        conn.execute(sql)


# -- local backend --------------------------------------------------------------------


def connection_kwargs(conn: psycopg.Connection) -> dict[str, Any]:
    """Parameters to open more connections like ``conn`` (password included, in memory)."""
    params: dict[str, Any] = dict(conn.info.get_parameters())
    if conn.info.password:
        params["password"] = conn.info.password
    return params


def child_env(params: dict[str, Any], dbname: str | None = None) -> dict[str, str]:
    """libpq environment for pg_dump/pg_restore: nothing secret ever goes into argv."""
    mapping = {
        "host": "PGHOST",
        "hostaddr": "PGHOSTADDR",
        "port": "PGPORT",
        "user": "PGUSER",
        "dbname": "PGDATABASE",
        "sslmode": "PGSSLMODE",
        "sslrootcert": "PGSSLROOTCERT",
        "password": "PGPASSWORD",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for key, var in mapping.items():
        if params.get(key):
            env[var] = str(params[key])
    if dbname:
        env["PGDATABASE"] = dbname
    env["PGAPPNAME"] = "auroractl-drill"
    # With --enable-row-security, the owner's maintenance policy (auroractl rls enable)
    # shows pg_dump every row of tables under FORCE ROW LEVEL SECURITY.
    env["PGOPTIONS"] = f"-c {MAINTENANCE_OPTION}"
    env["PGCONNECT_TIMEOUT"] = "10"
    return env


def scratch_name(requested_at: dt.datetime) -> str:
    return f"{SCRATCH_PREFIX}{requested_at:%Y%m%d%H%M%S}_{os.getpid()}"


def expiry_comment(source: str, expires_at: dt.datetime) -> str:
    return f"auroractl restore drill of {source}; expires-at={expires_at.isoformat()}"


def parse_expiry(comment: str | None) -> dt.datetime | None:
    m = re.search(r"expires-at=(\S+)", comment or "")
    if not m:
        return None
    try:
        value = dt.datetime.fromisoformat(m.group(1))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def untrusted_extensions(conn: psycopg.Connection) -> frozenset[str]:
    """Extensions of the source this role cannot create in a new database."""
    rows = conn.execute(
        "SELECT e.extname FROM pg_extension e "
        "JOIN pg_available_extension_versions v ON v.name = e.extname "
        "AND v.version = e.extversion "
        "WHERE v.superuser AND NOT v.trusted "
        "AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
    ).fetchall()
    return frozenset(r[0] for r in rows)


def _run(args: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise Precondition(f"cannot run {what}: {exc}") from None


def _stderr_summary(text: str, limit: int = 3) -> str:
    lines = [ln.strip() for ln in text.splitlines() if "error" in ln.lower()]
    return "; ".join(lines[:limit]) or " ".join(text.split())[:300]


def local_drill(
    conn: psycopg.Connection,
    cfg: DrillConfig,
    *,
    keep: bool = False,
    bindir: Path | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> DrillReport:
    """Dump, restore into a scratch database, verify, drop it; record the drill."""
    requested_at, started = utcnow(), time.monotonic()
    source = str(conn.info.dbname)
    scratch = scratch_name(requested_at)
    with drill_lock(conn):
        ensure_ledger(conn)
        try:
            report = _local(
                conn, cfg, source, scratch, requested_at, started, keep, bindir, progress
            )
        except BaseException as exc:
            with contextlib.suppress(Exception):
                record(conn, error_report("local", source, scratch, requested_at, started, exc))
            raise
        return replace(report, id=record(conn, report))


def _local(
    conn: psycopg.Connection,
    cfg: DrillConfig,
    source: str,
    scratch: str,
    requested_at: dt.datetime,
    started: float,
    keep: bool,
    bindir: Path | None,
    progress: Callable[[str], None],
) -> DrillReport:
    import psycopg

    from auroractl.sandbox import find_bindir

    bindir = bindir or find_bindir()
    for tool in ("pg_dump", "pg_restore"):
        if not (bindir / tool).is_file():
            raise Precondition(f"{tool} not found in {bindir}")
    params = connection_kwargs(conn)
    timings: dict[str, float] = {}
    tolerated = untrusted_extensions(conn)
    skipped_data = _readable_or_raise(conn, params.get("user"))
    workdir = Path(tempfile.mkdtemp(prefix="auroractl-drill-"))
    created = False
    try:
        progress(f"creating scratch database {scratch}")
        conn.execute(templates.render("restore_test/create_database.sql.j2", name=scratch))
        created = True
        expires = requested_at + cfg.ttl
        conn.execute(
            templates.render(
                "restore_test/comment_database.sql.j2",
                name=scratch,
                comment=expiry_comment(source, expires),
            )
        )
        # pg_dump reads inside a snapshot we export, and the source side of the
        # verification reads the very same snapshot: counts compare exactly.
        # pg_dump reads inside a snapshot we export, and the source side of the
        # verification reads the very same snapshot (counts compare exactly), in a
        # thread while pg_restore runs: the source's facts cost no wall time.
        with (
            psycopg.connect(**params, autocommit=False) as snap,
            ThreadPoolExecutor(1, thread_name_prefix="drill-source") as pool,
        ):
            snap.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            snapshot_id, restore_point = snap.execute(
                "SELECT pg_export_snapshot(), clock_timestamp()"
            ).fetchone()
            progress(f"pg_dump -j {cfg.jobs} of {source}")
            t = time.monotonic()
            dump_dir = workdir / "dump"
            done = _run(
                [
                    str(bindir / "pg_dump"),
                    "-Fd",
                    "-j",
                    str(cfg.jobs),
                    "-Z",
                    str(cfg.compression),
                    "--no-sync",
                    "--enable-row-security",
                    "-f",
                    str(dump_dir),
                    f"--snapshot={snapshot_id}",
                    *(f"--exclude-table-data={_pattern(t)}" for t in skipped_data),
                ],
                child_env(params),
                "pg_dump",
            )
            timings["dump_s"] = time.monotonic() - t
            if done.returncode != 0:
                raise Precondition(f"pg_dump failed: {_stderr_summary(done.stderr)}")
            source_future = pool.submit(collect, snap, cfg.spec)

            progress(f"pg_restore -j {cfg.jobs} into {scratch}")
            t = time.monotonic()
            toc = _run(
                [str(bindir / "pg_restore"), "-l", str(dump_dir)], child_env(params), "pg_restore"
            )
            if toc.returncode != 0:
                raise Precondition(f"pg_restore -l failed: {_stderr_summary(toc.stderr)}")
            listing = workdir / "toc.list"
            listing.write_text(
                _filter_toc(toc.stdout, tolerated, extension_schemas(conn, tolerated))
            )
            restored = _run(
                [
                    str(bindir / "pg_restore"),
                    "-j",
                    str(cfg.jobs),
                    "--no-owner",
                    "--enable-row-security",
                    "-L",
                    str(listing),
                    "-d",
                    scratch,
                    str(dump_dir),
                ],
                child_env(params, scratch),
                "pg_restore",
            )
            timings["restore_s"] = time.monotonic() - t
            restore_check = (
                Check("restore: pg_restore", "pass", f"-j {cfg.jobs}, no errors")
                if restored.returncode == 0
                else Check("restore: pg_restore", "fail", _stderr_summary(restored.stderr))
            )

            progress("verifying the restored copy")
            t = time.monotonic()
            with psycopg.connect(**{**params, "dbname": scratch}, autocommit=True) as copy:
                run_hook(copy)
                copy_facts = collect(copy, cfg.spec)
            source_facts = source_future.result()
            timings["verify_s"] = time.monotonic() - t
            snap.rollback()
        notes = tuple(
            n
            for n in (
                f"extensions not creatable by {params.get('user')}: {', '.join(sorted(tolerated))}"
                if tolerated
                else "",
                "rows of extension tables hidden by row-level security not restored: "
                + ", ".join(".".join(t) for t in skipped_data)
                if skipped_data
                else "",
            )
            if n
        )
        return finish(
            backend="local",
            source=source,
            restored=scratch,
            restore_from=f"pg_dump snapshot {snapshot_id}",
            requested_at=requested_at,
            started=started,
            restore_point=restore_point,
            source_facts=source_facts,
            copy_facts=copy_facts,
            cfg=cfg,
            timings=timings,
            extra_checks=(restore_check,),
            tolerated_extensions=tolerated,
            notes=notes,
            kept=keep,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if created and not keep:
            progress(f"dropping {scratch}")
            drop_scratch(conn, scratch)


def _readable_or_raise(conn: psycopg.Connection, user: object) -> list[tuple[str, str]]:
    """pg_dump cannot read tables whose rows RLS hides from this role. Extension
    configuration tables (e.g. pg_cron's cron.job) are left out of the dump's data;
    an application table is a precondition failure with a way out."""
    rows = conn.execute(templates.load("restore_test/rls_blocked.sql")).fetchall()
    app_tables = [f"{s}.{t}" for s, t, ext in rows if not ext]
    if app_tables:
        raise Precondition(
            f"row-level security hides rows of {', '.join(app_tables[:5])} from {user}: "
            "pg_dump cannot make a complete copy",
            hint="run the drill as a role with BYPASSRLS, or as the tables' owner "
            "without FORCE ROW LEVEL SECURITY",
        )
    return [(s, t) for s, t, ext in rows if ext]


def _pattern(table: tuple[str, str]) -> str:
    """A pg_dump table pattern matching exactly this schema.table."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in table)


def drop_scratch(conn: psycopg.Connection, name: str) -> None:
    if not name.startswith(SCRATCH_PREFIX):
        raise InvalidInput(f"{name} is not a drill scratch database")
    conn.execute(templates.render("restore_test/drop_database.sql.j2", name=name))


def extension_schemas(conn: psycopg.Connection, extensions: frozenset[str]) -> frozenset[str]:
    """Schemas created by (members of) these extensions, e.g. pg_cron's ``cron``."""
    if not extensions:
        return frozenset()
    rows = conn.execute(
        "SELECT n.nspname FROM pg_depend d "
        "JOIN pg_extension e ON e.oid = d.refobjid "
        "JOIN pg_namespace n ON n.oid = d.objid "
        "WHERE d.classid = 'pg_namespace'::regclass AND d.deptype = 'e' "
        "AND e.extname = ANY(%s)",
        [sorted(extensions)],
    ).fetchall()
    return frozenset(r[0] for r in rows)


def _filter_toc(
    listing: str, extensions: frozenset[str], schemas: frozenset[str] = frozenset()
) -> str:
    """Leave out extensions this role cannot create, anything in the schemas they
    create (grants, data) and comments on any extension (only their owner may set
    them); everything else is restored."""
    out = []
    for line in listing.splitlines():
        if not line.startswith(";"):
            if re.search(r"\bCOMMENT - EXTENSION ", line):
                continue
            m = re.search(r"\bEXTENSION - (\S+)", line)
            if m and m.group(1) in extensions:
                continue
            body = re.sub(r"^\d+; \d+ \d+ ", "", line)
            if any(re.search(rf"(^| ){re.escape(s)}( |$)", body) for s in schemas):
                continue
        out.append(line)
    return "\n".join(out) + "\n"


def local_leftovers(
    conn: psycopg.Connection, *, dry_run: bool = False, now: dt.datetime | None = None
) -> list[Leftover]:
    """Drop scratch databases whose expiry passed (left by a killed drill)."""
    now = now or utcnow()
    result = []
    for name, comment, _owner in conn.execute(templates.load("restore_test/leftovers.sql")):
        expires = parse_expiry(comment)
        expired = expires is not None and expires <= now
        if not expired:
            action = "kept (not expired)" if expires else "kept (no expiry in comment)"
        elif dry_run:
            action = "would drop"
        else:
            try:
                drop_scratch(conn, name)
                action = "dropped"
            except Exception as exc:
                action = f"error: {' '.join(str(exc).split())[:200]}"
        result.append(Leftover("database", name, expires, expired, action))
    return result
