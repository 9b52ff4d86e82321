"""The encryption key never reaches the server log, pg_stat_statements, pg_stat_activity,
the ledger or auroractl's output, under each logging setting that logs statements,
their parameters or their plans.

Each case sets its logging as the superuser (ALTER DATABASE for the test's database;
ALTER SYSTEM and a reload for what applies before a session knows its database), runs
backfill, status, rotate, status, lgpd export (with the right and a wrong key) and
finalize, and greps the part of the server log written meanwhile. Each case also checks
that its setting did log our statements, so a setting that logged nothing cannot pass.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql

from auroractl import db
from auroractl.config import Settings, Target
from auroractl.errors import Precondition
from auroractl.ops.shared import keys
from tests.conftest import superuser
from tests.integration.conftest import write_map

NAMES = ("usuarios", "--column", "documento_identidade")
KEY_SQL = "current_setting('auroractl.encryption_key'"


@dataclass(frozen=True)
class Logging:
    name: str
    database: dict[str, str]  # ALTER DATABASE ... SET
    system: dict[str, str]  # ALTER SYSTEM SET, reloaded (reset afterwards)
    shows: tuple[str, ...]  # what the log must then hold (the setting is in effect)


AUTO_EXPLAIN = {
    "session_preload_libraries": "auto_explain",
    "auto_explain.log_min_duration": "0",
    "auto_explain.log_analyze": "on",
    "auto_explain.log_verbose": "on",
    "auto_explain.log_nested_statements": "on",
    "auto_explain.log_settings": "on",
}
CASES = [
    Logging("log_min_duration_statement=0", {"log_min_duration_statement": "0"}, {},
            ("duration:", KEY_SQL)),
    Logging("log_statement=all", {"log_statement": "all"}, {}, ("statement: ", KEY_SQL)),
    # PostgreSQL 16+ also logs parameters here (auto_explain.log_parameter_max_length):
    # added below when the server has it
    Logging("auto_explain (analyze, verbose, nested, settings)", AUTO_EXPLAIN, {},
            ("Query Text:", "current_setting('auroractl.encryption_key'::text)")),
    Logging("log_min_error_statement=debug5, log_min_messages=debug5, verbose errors",
            {"log_error_verbosity": "verbose"},
            {"log_min_error_statement": "debug5", "log_min_messages": "debug5"},
            ("Wrong key or corrupt data", "STATEMENT:")),
    Logging("debug_print_parse, debug_print_rewritten, debug_print_plan",
            {"debug_print_parse": "on", "debug_print_rewritten": "on", "debug_print_plan": "on"},
            {}, ("LOG:  plan:", "{FUNCEXPR")),
    Logging("log_connections, log_disconnections", {},
            {"log_connections": "on", "log_disconnections": "on"},
            ("connection authorized: user=aurora_admin", "disconnection:")),
]  # fmt: skip


class Watcher(threading.Thread):
    """Every query text pg_stat_activity shows while the commands run."""

    def __init__(self, conninfo: str) -> None:
        super().__init__(daemon=True)
        self.conninfo = conninfo
        self.seen: set[str] = set()
        self.halt = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            while not self.halt.wait(0.005):
                rows = conn.execute(
                    "SELECT query FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
                )
                self.seen.update(r[0] for r in rows if r[0])


@pytest.fixture
def logging_case(request, cluster, dbname, dsn) -> Iterator[Logging]:
    case: Logging = request.param
    database = dict(case.database)
    with superuser(cluster, dbname) as su:
        version = su.execute("SHOW server_version_num").fetchone()[0]
        if case.database is AUTO_EXPLAIN:
            su.execute("LOAD 'auto_explain'")  # its settings are known only once loaded
            if int(version) >= 160000:
                database["auto_explain.log_parameter_max_length"] = "-1"
        for name, value in database.items():
            su.execute(
                sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                    sql.Identifier(dbname), sql.Identifier(*name.split(".")), sql.Literal(value)
                )
            )
        for name, value in case.system.items():
            su.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), value))
        su.execute("SELECT pg_reload_conf()")
        try:
            yield case
        finally:
            for name in case.system:
                su.execute(sql.SQL("ALTER SYSTEM RESET {}").format(sql.Identifier(name)))
            su.execute("SELECT pg_reload_conf()")


def _run_everything(cli, dsn, monkeypatch, key: str, new_key: str) -> str:
    """backfill, status, rotate, status, export (right key, then a wrong one), finalize;
    returns all they printed."""
    printed = []

    def ok(*args: str, code: int = 0) -> None:
        result = cli(*args)
        printed.append(result.stdout + result.stderr)
        assert result.exit_code == code, (args, result.stderr)

    monkeypatch.setenv("AURORACTL_ENCRYPTION_KEY", key)
    ok("encrypt", "backfill", *NAMES, "--batch-size", "500", "--jobs", "2", "--yes")
    ok("encrypt", "status", *NAMES, "--format", "json")
    monkeypatch.setenv("AURORACTL_NEW_ENCRYPTION_KEY", new_key)
    ok("encrypt", "rotate", *NAMES, "--batch-size", "700", "--yes")
    monkeypatch.setenv("AURORACTL_ENCRYPTION_KEY", new_key)
    ok("encrypt", "status", *NAMES, "--format", "json")
    write_map(dsn, "public.usuarios")  # the map now has the ciphertext column
    ok("lgpd", "export", "8", "--format", "json")
    assert '"decrypted": "' in printed[-1]  # opened with the key
    monkeypatch.setenv("AURORACTL_ENCRYPTION_KEY", key)  # the old key: decrypt errors
    ok("lgpd", "export", "8", "--format", "json")
    assert "could not decrypt" in printed[-1]
    monkeypatch.setenv("AURORACTL_ENCRYPTION_KEY", new_key)
    ok("encrypt", "finalize", *NAMES, "--yes")
    return "\n".join(printed)


def _counts(su: psycopg.Connection, text: str, needles: tuple[str, ...]) -> dict[str, int]:
    statements = " ".join(r[0] for r in su.execute("SELECT query FROM pg_stat_statements"))
    ledger = str(su.execute("SELECT * FROM auroractl.operations").fetchall())
    return {
        where: sum(haystack.count(n) for n in needles)
        for where, haystack in (
            ("server log", text),
            ("pg_stat_statements", statements),
            ("auroractl.operations", ledger),
        )
    }


@pytest.mark.parametrize("logging_case", CASES, ids=[c.name for c in CASES], indirect=True)
def test_the_key_is_in_no_log_view_or_ledger(
    logging_case, cli, cluster, dsn, dbname, conn, monkeypatch
):
    key = "k-" + secrets.token_urlsafe(24)
    new_key = "n-" + secrets.token_urlsafe(24)
    start = cluster.logfile.stat().st_size
    watcher = Watcher(dsn)
    watcher.start()
    try:
        printed = _run_everything(cli, dsn, monkeypatch, key, new_key)
    finally:
        watcher.halt.set()
        watcher.join(timeout=30)
    with open(cluster.logfile, "rb") as fh:
        fh.seek(start)
        log = fh.read().decode("utf-8", errors="replace")
    needles = (key, new_key)
    with superuser(cluster, dbname) as su:
        counts = _counts(su, log, needles)
        ran = su.execute("SELECT count(*) FROM auroractl.operations").fetchone()[0]
        tracked = su.execute(
            "SELECT count(*) FROM pg_stat_statements WHERE query LIKE '%%pgp_sym_encrypt%%'"
        ).fetchone()[0]
    counts["pg_stat_activity"] = sum(q.count(n) for q in watcher.seen for n in needles)
    counts["auroractl's output"] = sum(printed.count(n) for n in needles)
    print(f"{logging_case.name}: {counts}")  # the figures the report quotes (pytest -s)
    assert counts == dict.fromkeys(counts, 0)
    for shown in logging_case.shows:
        assert shown in log, f"{logging_case.name} did not log {shown!r}"
    assert ran == 3 and tracked > 0  # backfill, rotate, finalize; pgcrypto calls tracked


def _target(dsn: str) -> Target:
    return Target(source="--dsn", conninfo=dsn)


def test_a_keyed_session_shows_the_key_nowhere_else(dsn, conn):
    key = "s3cret key\\with spaces 'and' \"quotes\"=="
    with db.connect(_target(dsn), Settings(), secrets=keys.settings(key)) as keyed:
        assert keyed.execute("SELECT current_setting(%s)", [keys.KEY]).fetchone()[0] == key
        visible = keyed.execute(
            "SELECT count(*) FROM pg_settings WHERE name LIKE 'auroractl.%%' OR setting = %s",
            [key],
        ).fetchone()[0]
        assert visible == 0  # a custom setting is in no pg_settings row (nor SHOW ALL)
        other = conn.execute("SELECT current_setting(%s, true)", [keys.KEY]).fetchone()[0]
        assert other is None  # no other session reads it
        activity = conn.execute("SELECT string_agg(query, ' ') FROM pg_stat_activity")
        assert key not in (activity.fetchone()[0] or "")


def test_a_key_the_session_did_not_get_as_sent_is_refused(cluster, dsn, conn):
    # the check on arrival: a session without the setting (as behind a pooler that drops
    # libpq options) ...
    with pytest.raises(Precondition, match=r"did not receive auroractl\.encryption_key"):
        db._check_secrets(conn, keys.settings("a-key-that-never-arrived"))
    # ... and a non-ASCII key a LATIN1 database would read as other characters
    name = f"latin1_{secrets.token_hex(4)}"
    with superuser(cluster) as su:
        su.execute(
            sql.SQL(
                "CREATE DATABASE {} ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' "
                "TEMPLATE template0"
            ).format(sql.Identifier(name))
        )
    try:
        latin1 = _target(cluster.conninfo(name))
        with pytest.raises(Precondition, match=r"altered \(server_encoding LATIN1"):
            db.connect(latin1, Settings(), secrets=keys.settings("chave-çãé-0123456789"))
        with db.connect(latin1, Settings(), secrets=keys.settings("ascii-key-0123456789")) as c:
            assert c.execute("SELECT current_setting(%s)", [keys.KEY]).fetchone()[0]
    finally:
        with superuser(cluster) as su:
            su.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_status_and_export_say_so_without_a_keyed_session(dsn, conn, cli, monkeypatch):
    """A library caller that forgot the key gets one line, not a NULL ciphertext."""
    from auroractl.ops import encrypt

    monkeypatch.setenv("AURORACTL_ENCRYPTION_KEY", "k-" + secrets.token_urlsafe(24))
    assert cli("encrypt", "backfill", *NAMES, "--yes").exit_code == 0
    t = encrypt.resolve(conn, "usuarios", "documento_identidade", None)
    with pytest.raises(Precondition, match=r"has no auroractl\.encryption_key"):
        encrypt.status(conn, t, None)
    st = json.loads(cli("encrypt", "status", *NAMES, "--format", "json").stdout)
    assert st["both"] > 0 and st["mismatch"] == 0
