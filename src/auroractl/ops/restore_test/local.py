"""Local backend (any PostgreSQL, the sandbox): ``pg_dump -Fd -j N`` of the target
database inside an exported snapshot, ``pg_restore -j N`` (data, then indexes and
constraints) into a scratch database ``auroractl_restore_test_<ts>`` on the same server,
verify, drop the scratch database.

The run reads first (tools, extensions this role cannot create, tables RLS would hide)
and refuses before it creates anything; then it acts, and drops what it made.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.db import MAINTENANCE_OPTION
from auroractl.errors import InvalidInput, Precondition
from auroractl.ops.restore_test.common import connection_kwargs, recorded, run_hook
from auroractl.ops.restore_test.model import (
    Aftercare,
    AfterRestore,
    Leftover,
    RestoreTestConfig,
    RestoreTestReport,
    Started,
    begin,
    expiry_comment,
    parse_expiry,
    utcnow,
    verdict,
)
from auroractl.ops.restore_test.verify import Check, Facts, collect
from auroractl.plan import Plan, Step

if TYPE_CHECKING:
    import psycopg

SCRATCH_PREFIX = "auroractl_restore_test_"
# Scratch databases made before the feature had one name; `cleanup` still removes them.
LEGACY_SCRATCH_PREFIXES = ("auroractl_drill_",)
SCRATCH_PREFIXES = (SCRATCH_PREFIX, *LEGACY_SCRATCH_PREFIXES)


@dataclass(frozen=True)
class LocalFacts:
    """What a local run reads from the source before it changes anything."""

    bindir: Path
    params: dict[str, Any] = field(repr=False)  # holds the password: never printed
    tolerated: frozenset[str]  # extensions this role cannot create in a new database
    extension_schemas: frozenset[str]  # schemas those extensions create
    skipped_data: tuple[tuple[str, str], ...]  # extension tables whose rows RLS hides

    @property
    def notes(self) -> tuple[str, ...]:
        out = []
        if self.tolerated:
            out.append(
                f"extensions not creatable by {self.params.get('user')}: "
                + ", ".join(sorted(self.tolerated))
            )
        if self.skipped_data:
            out.append(
                "rows of extension tables hidden by row-level security not restored: "
                + ", ".join(".".join(t) for t in self.skipped_data)
            )
        return tuple(out)


@dataclass(frozen=True)
class _Run:
    conn: psycopg.Connection
    cfg: RestoreTestConfig
    started: Started
    facts: LocalFacts
    keep: bool
    progress: Callable[[str], None]
    after: AfterRestore | None = None

    @property
    def scratch(self) -> str:
        return self.started.restored


def run_local(
    conn: psycopg.Connection,
    cfg: RestoreTestConfig,
    *,
    keep: bool = False,
    bindir: Path | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
    after_restore: AfterRestore | None = None,
) -> RestoreTestReport:
    """Dump, restore into a scratch database, verify (then ``after_restore`` on the copy:
    the erasure log re-applied), drop it; record the run."""
    requested_at = utcnow()
    started = begin("local", str(conn.info.dbname), scratch_name(requested_at), requested_at)

    def body() -> RestoreTestReport:
        facts = read_local(conn, bindir)
        return _local(_Run(conn, cfg, started, facts, keep, progress, after_restore))

    return recorded(conn, started, body)


def read_local(conn: psycopg.Connection, bindir: Path | None = None) -> LocalFacts:
    """The read step: tools present, what this role cannot restore or read."""
    from auroractl.sandbox import find_bindir

    bindir = bindir or find_bindir()
    for tool in ("pg_dump", "pg_restore"):
        if not (bindir / tool).is_file():
            raise Precondition(f"{tool} not found in {bindir}")
    params = connection_kwargs(conn)
    tolerated = untrusted_extensions(conn)
    return LocalFacts(
        bindir=bindir,
        params=params,
        tolerated=tolerated,
        extension_schemas=extension_schemas(conn, tolerated),
        skipped_data=tuple(_readable_or_raise(conn, params.get("user"))),
    )


def _local(run: _Run) -> RestoreTestReport:
    """The act step: scratch database, dump, restore, verify; always clean up."""
    workdir = Path(tempfile.mkdtemp(prefix="auroractl-restore-test-"))
    created = False
    try:
        run.progress(f"creating scratch database {run.scratch}")
        expires = run.started.requested_at + run.cfg.ttl
        create_scratch(run.conn, run.scratch, run.started.source, expires)
        created = True
        return _copy_and_verify(run, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if created and not run.keep:
            run.progress(f"dropping {run.scratch}")
            drop_scratch(run.conn, run.scratch)


def create_scratch(conn: psycopg.Connection, name: str, source: str, expires: dt.datetime) -> None:
    """The scratch database, its expiry in its comment (for `cleanup` after a kill)."""
    conn.execute(templates.render("restore_test/create_database.sql.j2", name=name))
    comment = expiry_comment(source, expires)
    conn.execute(
        templates.render("restore_test/comment_database.sql.j2", name=name, comment=comment)
    )


def _copy_and_verify(run: _Run, workdir: Path) -> RestoreTestReport:
    """pg_dump reads inside a snapshot we export, and the source side of the
    verification reads that very snapshot (counts compare exactly), in a thread while
    pg_restore runs: the source's facts cost no wall time."""
    import psycopg

    timings: dict[str, float] = {}
    with (
        psycopg.connect(**run.facts.params, autocommit=False) as snap,
        ThreadPoolExecutor(1, thread_name_prefix="restore-test-source") as pool,
    ):
        snap.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot_id, restore_point = snap.execute(
            "SELECT pg_export_snapshot(), clock_timestamp()"
        ).fetchone()
        try:
            timings["dump_s"] = _dump(run, workdir / "dump", snapshot_id)
            # after the dump, which it would slow down: the restore is the longer wait
            source_future = pool.submit(collect, snap, run.cfg.spec)
            restore_check = _timed_restore(run, workdir, timings)
            run.progress("verifying the restored copy")
            t = time.monotonic()
            copy_facts, care = _copy_facts(run)
            source_facts = source_future.result()
            timings["verify_s"] = time.monotonic() - t
        except BaseException:
            snap.cancel()  # a failed or interrupted run does not wait for the source's reads
            raise
        snap.rollback()
    return verdict(
        run.started,
        restore_from=f"pg_dump snapshot {snapshot_id}",
        restore_point=restore_point,
        source_facts=source_facts,
        copy_facts=copy_facts,
        spec=run.cfg.spec,
        timings=timings,
        extra_checks=(restore_check,),
        tolerated_extensions=run.facts.tolerated,
        notes=run.facts.notes,
        kept=run.keep,
        aftercare=care,
    )


def _timed_restore(run: _Run, workdir: Path, timings: dict[str, float]) -> Check:
    run.progress(f"pg_restore -j {run.cfg.jobs} into {run.scratch}")
    t = time.monotonic()
    check = _restore(run, workdir / "dump", workdir / "toc.list")
    timings["restore_s"] = time.monotonic() - t
    return check


def _dump(run: _Run, dump_dir: Path, snapshot_id: str) -> float:
    """pg_dump -Fd -j N of the exported snapshot; returns its duration."""
    f, cfg = run.facts, run.cfg
    run.progress(f"pg_dump -j {cfg.jobs} of {run.started.source}")
    t = time.monotonic()
    done = _tool(
        [
            str(f.bindir / "pg_dump"),
            *("-Fd", "-j", str(cfg.jobs), "-Z", str(cfg.compression)),
            "--no-sync",
            "--enable-row-security",
            *("-f", str(dump_dir)),
            f"--snapshot={snapshot_id}",
            *(f"--exclude-table-data={_pattern(t)}" for t in f.skipped_data),
        ],
        child_env(f.params),
        "pg_dump",
    )
    if done.returncode != 0:
        raise Precondition(f"pg_dump failed: {_stderr_summary(done.stderr)}")
    return time.monotonic() - t


# pg_restore -j N schedules by dependencies, and pg_dump makes a foreign key declared on a
# partitioned table depend on the parent's definition only, not on its partitions' data:
# the constraint can be added while partitions are still loading, and their COPY then
# checks every row through the RI trigger (7x slower on the sandbox's contratos). Two
# passes keep every constraint after all the data, as a serial restore does.
PASSES = (("--section=pre-data", "--section=data"), ("--section=post-data",))


def _restore(run: _Run, dump_dir: Path, listing: Path) -> Check:
    """pg_restore -j N of everything this role can create, data first, then indexes and
    constraints (``PASSES``); its errors fail a check."""
    f, jobs = run.facts, run.cfg.jobs
    toc = _tool([str(f.bindir / "pg_restore"), "-l", str(dump_dir)], child_env(f.params), "")
    if toc.returncode != 0:
        raise Precondition(f"pg_restore -l failed: {_stderr_summary(toc.stderr)}")
    listing.write_text(filter_toc(toc.stdout, f.tolerated, f.extension_schemas))
    errors = []
    for sections in PASSES:
        restored = _tool(
            [
                str(f.bindir / "pg_restore"),
                *("-j", str(jobs), "--no-owner", "--enable-row-security", *sections),
                *("-L", str(listing), "-d", run.scratch, str(dump_dir)),
            ],
            child_env(f.params, run.scratch),
            "pg_restore",
        )
        if restored.returncode != 0:
            errors.append(_stderr_summary(restored.stderr))
    if not errors:
        return Check("restore: pg_restore", "pass", f"-j {jobs}, no errors")
    return Check("restore: pg_restore", "fail", "; ".join(errors))


def _copy_facts(run: _Run) -> tuple[Facts, Aftercare | None]:
    """The copy's facts as restored, then what ``after`` does to it (compared with the
    source first: re-applied erasures change rows the source still has)."""
    import psycopg

    with psycopg.connect(**{**run.facts.params, "dbname": run.scratch}, autocommit=True) as copy:
        run_hook(copy)
        facts = collect(copy, run.cfg.spec)
        if run.after is None:
            return facts, None
        run.progress("re-applying the erasure log on the copy")
        return facts, run.after(copy)


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
    env["PGAPPNAME"] = "auroractl-restore-test"
    # With --enable-row-security, the owner's maintenance policy (auroractl rls enable)
    # shows pg_dump every row of tables under FORCE ROW LEVEL SECURITY.
    env["PGOPTIONS"] = f"-c {MAINTENANCE_OPTION}"
    env["PGCONNECT_TIMEOUT"] = "10"
    return env


def scratch_name(requested_at: dt.datetime) -> str:
    return f"{SCRATCH_PREFIX}{requested_at:%Y%m%d%H%M%S}_{os.getpid()}"


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


def _tool(args: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise Precondition(f"cannot run {what or Path(args[0]).name}: {exc}") from None


def _stderr_summary(text: str, limit: int = 3) -> str:
    lines = [ln.strip() for ln in text.splitlines() if "error" in ln.lower()]
    return "; ".join(lines[:limit]) or " ".join(text.split())[:300]


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
            hint="run the restore test as a role with BYPASSRLS, or as the tables' owner "
            "without FORCE ROW LEVEL SECURITY",
        )
    return [(s, t) for s, t, ext in rows if ext]


def _pattern(table: tuple[str, str]) -> str:
    """A pg_dump table pattern matching exactly this schema.table."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in table)


def drop_sql(name: str) -> str:
    """DROP DATABASE of a scratch database (and of nothing else)."""
    if not name.startswith(SCRATCH_PREFIXES):
        raise InvalidInput(f"{name} is not a restore-test scratch database")
    return templates.render("restore_test/drop_database.sql.j2", name=name)


def drop_scratch(conn: psycopg.Connection, name: str) -> None:
    conn.execute(drop_sql(name))


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


def filter_toc(
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


# -- cleanup ---------------------------------------------------------------------------


def leftovers(conn: psycopg.Connection, now: dt.datetime | None = None) -> list[Leftover]:
    """Scratch databases on this server (either prefix) and whether their expiry passed."""
    now = now or utcnow()
    patterns = [p.replace("_", r"\_") + "%" for p in SCRATCH_PREFIXES]
    found = []
    for name, comment, _owner in conn.execute(
        templates.load("restore_test/leftovers.sql"), {"patterns": patterns}
    ):
        expires = parse_expiry(comment)
        expired = expires is not None and expires <= now
        if expired:
            action = "would drop"
        else:
            action = "kept (not expired)" if expires else "kept (no expiry in comment)"
        found.append(Leftover("database", name, expires, expired, action))
    return found


def plan_cleanup(found: list[Leftover]) -> Plan:
    """DROP DATABASE of each expired scratch database (each outside a transaction)."""
    expired = [f for f in found if f.expired]
    kept = [f for f in found if not f.expired]
    steps = tuple(
        Step(drop_sql(f.name), autocommit=True, comment=f"{f.name}: expired at {f.expires_at}")
        for f in expired
    )
    if expired:
        summary = f"drop {len(expired)} expired restore-test scratch database(s)"
    else:
        summary = "no expired restore-test copies" + (f" ({len(kept)} kept)" if kept else "")
    notes = tuple(f"{f.name}: {f.action}" for f in kept)
    return Plan("restore-test cleanup", summary, steps, notes)
