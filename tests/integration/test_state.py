"""auroractl's own tables as one versioned series: install, upgrade of the unversioned
tables with their rows, idempotence, an operator role without CREATE, concurrency."""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from auroractl import runner
from auroractl.errors import Precondition
from auroractl.ops import migrate
from auroractl.ops.shared import state
from auroractl.plan import Plan, Step
from tests.conftest import superuser

UNVERSIONED_SQL = (Path(__file__).parent / "state_unversioned.sql").read_text()
# The ledger columns the pipeline's core added on demand (absent in older databases).
_CORE_COLUMNS = re.compile(r"ALTER TABLE auroractl\.operations\s+ADD COLUMN.*?;", re.DOTALL)

TABLES = {
    "state_version",
    "operations",
    "schema_migrations",
    "schema_split",
    "restore_tests",
    "matview_refreshes",
    "migrations_partition",
    "migrations_partition_chunks",
    "lgpd_requests",
}
ROWS = {
    "operations": "INSERT INTO auroractl.operations (duration_ms, command, summary, sql_sha256, "
    "statements, outcome) VALUES (5, 'partition create', 'old', 'abc', 1, 'applied')",
    "schema_migrations": "INSERT INTO auroractl.schema_migrations (version, name, checksum, "
    "duration_ms) VALUES (1, 'first', 'c0ffee', 3)",
    "schema_split": "INSERT INTO auroractl.schema_split (kind, schema_name) "
    "VALUES ('schema', 'academico')",
    "drills": "INSERT INTO auroractl.drills (started_at, backend, source, outcome) "
    "VALUES (now(), 'local', 'app', 'passed')",
    "matview_refreshes": "INSERT INTO auroractl.matview_refreshes (matview, started_at, "
    "duration_ms, row_count, concurrent) VALUES ('public.mv', now(), 10, 7, true)",
    "migrations_partition": "INSERT INTO auroractl.migrations_partition (schema_name, "
    "table_name, twin_name, retired_name, strategy, by_period, key_column, pk, twin_pk, "
    "columns) VALUES ('public', 'contratos', 'tw', 'old', 'range', 'year', 'data_inicio', "
    "'{id}', '{id,data_inicio}', '{id,data_inicio}')",
    "migrations_partition_chunks": "INSERT INTO auroractl.migrations_partition_chunks "
    "(schema_name, table_name, chunk) VALUES ('public', 'contratos', 0)",
    "lgpd_requests": "INSERT INTO auroractl.lgpd_requests (kind, subject_table, subject_id, "
    "status, due_at, operator) VALUES ('erasure', 'public.usuarios', '42', 'completed', "
    "now(), 'dba')",
}


def _tables(conn) -> set[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'auroractl' AND c.relkind = 'r'"
    )
    return {r[0] for r in rows}


def _versions(conn) -> list[int]:
    return [r[0] for r in conn.execute("SELECT version FROM auroractl.state_version ORDER BY 1")]


def _noop() -> Plan:
    return Plan("test noop", "a change that changes nothing", (Step("SELECT 1"),))


def test_init_installs_then_does_nothing(cli, conn):
    latest = state.latest()
    res = cli("init", "--status", "--format", "json")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout) == {
        "installed": 0,
        "latest": latest,
        "pending": [m.file for m in state.series()],
        "unversioned": False,
        "may_install": True,
        "current": False,
    }
    # Readers of an absent state: nothing recorded yet, and nothing created.
    res = cli("history", "--format", "json")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout) == []
    assert conn.execute("SELECT to_regclass('auroractl.state_version')").fetchone() == (None,)

    res = cli("init", "--dry-run")
    assert res.exit_code == 0, res.stderr
    assert "CREATE TABLE IF NOT EXISTS auroractl.operations" in res.stdout
    assert cli("init").exit_code == 4  # no TTY, no --yes
    assert conn.execute("SELECT to_regclass('auroractl.state_version')").fetchone() == (None,)

    res = cli("init", "--yes", "--format", "json")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["status"] == "applied"
    assert _tables(conn) >= TABLES
    assert "drills" not in _tables(conn)
    assert _versions(conn) == list(range(1, latest + 1))
    # init's own ledger row, with the columns of version 2.
    assert conn.execute(
        "SELECT command, kind, outcome FROM auroractl.operations ORDER BY id"
    ).fetchall() == [("init", "sql", "applied")]

    # Idempotent: nothing to do, nothing written to the version table.
    applied = conn.execute("SELECT * FROM auroractl.state_version ORDER BY 1").fetchall()
    res = cli("init", "--yes", "--format", "json")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["status"] == "nothing-to-do"
    with psycopg.connect(conn.info.dsn, autocommit=True) as other:
        state.ensure(other)
        state.ensure(other)
    assert conn.execute("SELECT * FROM auroractl.state_version ORDER BY 1").fetchall() == applied
    res = cli("init", "--status")
    assert res.exit_code == 0, res.stderr
    assert f"version {latest} (latest)" in res.stdout


def test_first_writer_installs_automatically(conn):
    outcome = runner.apply(conn, _noop(), runner.Options(yes=True))
    assert outcome.ledger_id is not None
    assert _versions(conn) == list(range(1, state.latest() + 1))
    assert state.status(conn).current


@pytest.mark.parametrize("core_columns", [False, True], ids=["before-core", "with-core-columns"])
def test_upgrade_keeps_the_rows_of_the_unversioned_tables(cli, conn, core_columns):
    script = UNVERSIONED_SQL if core_columns else _CORE_COLUMNS.sub("", UNVERSIONED_SQL)
    conn.execute(script)
    for insert in ROWS.values():
        conn.execute(insert)
    before = {t: conn.execute(f"SELECT * FROM auroractl.{t} ORDER BY 1").fetchall() for t in ROWS}
    # A row of the demo's shipped migration 0002 (its version and checksum): series demo.
    conn.execute(
        "INSERT INTO auroractl.schema_migrations (version, name, checksum, duration_ms) "
        "VALUES (2, 'usuarios_preferencias_notificacao', %s, 1)",
        [next(m.checksum for m in migrate.discover(migrate.demo_directory()) if m.version == 2)],
    )

    st = state.status(conn)
    assert (st.installed, st.unversioned, st.current) == (0, True, False)
    res = cli("init", "--status")
    assert "unversioned tables found" in res.stdout

    state.ensure(conn)
    assert state.status(conn).current
    assert _tables(conn) >= TABLES
    assert "drills" not in _tables(conn)
    for table, rows in before.items():
        name = "restore_tests" if table == "drills" else table
        got = conn.execute(f"SELECT * FROM auroractl.{name} ORDER BY 1").fetchall()
        if table == "operations":  # version 2 adds kind, rows, resources, region
            extra = [] if core_columns else [("sql", None, None, None)]
            assert [g[: len(rows[0])] for g in got] == rows
            if extra:
                assert [g[len(rows[0]) :] for g in got] == extra
        elif table == "migrations_partition":  # version 4 adds fk_moves
            assert [g[: len(rows[0])] for g in got] == rows
            assert [g[len(rows[0]) :] for g in got] == [([],)] * len(rows)
        elif table == "lgpd_requests":  # version 5 adds identifiers, reapplied_at
            assert [g[: len(rows[0])] for g in got] == rows
            assert [g[len(rows[0]) :] for g in got] == [(None, None)] * len(rows)
        elif table == "schema_migrations":  # version 3 adds the series
            assert [g[: len(rows[0])] for g in got[:1]] == rows
            assert [(g[0], g[-1]) for g in got] == [(1, "default"), (2, "demo")]
        else:
            assert got == rows, table
    # The renamed table keeps its identity sequence and its constraints' new names.
    new_id = conn.execute(
        "INSERT INTO auroractl.restore_tests (started_at, backend, source, outcome) "
        "VALUES (now(), 'local', 'app', 'failed') RETURNING id"
    ).fetchone()[0]
    assert new_id == 2
    names = {
        r[0]
        for r in conn.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'auroractl.restore_tests'::regclass"
        )
    }
    assert names == {"restore_tests_pkey", "restore_tests_outcome_check"}
    res = cli("restore-test", "history", "--format", "json")
    assert res.exit_code == 0, res.stderr
    assert [r["outcome"] for r in json.loads(res.stdout)] == ["failed", "passed"]
    res = cli("history", "--format", "json")
    assert [r["summary"] for r in json.loads(res.stdout)] == ["old"]


def test_a_reader_of_unversioned_tables_upgrades_them_first(cli, conn):
    conn.execute(UNVERSIONED_SQL)
    conn.execute(ROWS["drills"])
    res = cli("restore-test", "history", "--format", "json")
    assert res.exit_code == 0, res.stderr
    assert [r["outcome"] for r in json.loads(res.stdout)] == ["passed"]
    assert state.status(conn).current


@pytest.fixture
def operator(cluster, dbname):
    """A login role with no CREATE anywhere (like an application's operator role)."""
    role = f"operator_{os.getpid()}"
    with superuser(cluster, dbname) as su:
        su.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    with psycopg.connect(cluster.conninfo(dbname, user=role), autocommit=True) as c:
        yield role, c
    with superuser(cluster, dbname) as su:
        su.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        su.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_an_operator_role_needs_init_once_then_writes(cli, conn, operator, monkeypatch):
    role, op = operator
    assert op.execute("SELECT has_database_privilege(current_database(), 'CREATE')").fetchone() == (
        False,
    )

    # Not installed: one line naming the command to run, for writers...
    with pytest.raises(Precondition) as exc:
        state.ensure(op)
    message = str(exc.value)
    assert "\n" not in message and "run `auroractl init`" in message
    # ...and for `auroractl init` itself run by this role (exit 3), with nothing created.
    monkeypatch.setenv("AURORACTL_DSN", op.info.dsn)
    res = cli("init", "--yes")
    assert res.exit_code == 3
    assert "run `auroractl init` as a role that may create them" in res.stderr
    # A reader of an absent state sees nothing recorded yet.
    res = cli("history", "--format", "json")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout) == []
    assert conn.execute("SELECT to_regclass('auroractl.state_version')").fetchone() == (None,)

    # Installed by the database owner, with the grants the README gives.
    state.ensure(conn)
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA auroractl TO {}").format(sql.Identifier(role)))
    conn.execute(
        sql.SQL("GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA auroractl TO {}").format(
            sql.Identifier(role)
        )
    )
    outcome = runner.apply(op, _noop(), runner.Options(yes=True))
    assert outcome.ledger_id is not None
    assert conn.execute(
        "SELECT db_user, command FROM auroractl.operations WHERE id = %s", [outcome.ledger_id]
    ).fetchone() == (role, "test noop")
    res = cli("history", "--format", "json")
    assert res.exit_code == 0, res.stderr
    assert [r["command"] for r in json.loads(res.stdout)] == ["test noop"]


def test_an_operator_role_is_refused_an_upgrade(conn, operator):
    role, op = operator
    conn.execute(UNVERSIONED_SQL)
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA auroractl TO {}").format(sql.Identifier(role)))
    with pytest.raises(Precondition) as exc:
        state.ensure(op)
    assert "need an upgrade (version 0 of" in str(exc.value)
    assert "run `auroractl init`" in str(exc.value)


def test_concurrent_ensure_installs_once(conn):
    """Two first writers at once: one installs, the other waits on the lock and finds the
    tables current."""
    holder = psycopg.connect(conn.info.dsn)  # not autocommit: holds the lock until commit
    holder.execute("SELECT pg_advisory_xact_lock(hashtext('auroractl state'))")
    errors: list[BaseException] = []

    def first_use() -> None:
        try:
            with psycopg.connect(conn.info.dsn, autocommit=True) as c:
                state.ensure(c)
                runner.apply(c, _noop(), runner.Options(yes=True))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=first_use) for _ in range(2)]
    for t in threads:
        t.start()
    waiting = 0
    for _ in range(2000):  # until both wait on the advisory lock
        waiting = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ).fetchone()[0]
        if waiting == 2 or errors:
            break
        threading.Event().wait(0.005)
    assert waiting == 2, errors
    holder.commit()
    holder.close()
    for t in threads:
        t.join()
    assert errors == []
    assert _versions(conn) == list(range(1, state.latest() + 1))
    assert conn.execute("SELECT count(*) FROM auroractl.operations").fetchone() == (2,)


def test_a_plan_made_before_another_session_installed_is_refused(conn):
    plan = state.plan(conn)
    with psycopg.connect(conn.info.dsn, autocommit=True) as other:
        state.ensure(other)
    with pytest.raises(psycopg.errors.RaiseException, match="upgraded by another session"):
        runner.apply(conn, plan, runner.Options(yes=True))
    assert _versions(conn) == list(range(1, state.latest() + 1))
