"""restore-test, local backend, end to end against a real PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import psycopg
import pytest
from psycopg import sql

from auroractl.sandbox import ADMIN_ROLE
from tests.conftest import superuser

HOOK = "AURORACTL_RESTORE_TEST_HOOK_SQL"

CONFIG = """
[restore_test]
jobs = 2
critical_tables = ["usuarios", "public.contratos"]
freshness_columns = ["usuarios.criado_em", "public.contratos.criado_em"]

[[restore_test.canary]]
name = "one empresa"
sql = "SELECT count(*) FROM empresas"
expect = 1

[[restore_test.canary]]
name = "contratos total"
sql = "SELECT sum(valor_total) FROM contratos"
"""


@pytest.fixture
def configured(tmp_path, monkeypatch):
    path = tmp_path / "auroractl.toml"
    path.write_text(CONFIG)
    monkeypatch.setenv("AURORACTL_CONFIG", str(path))
    return path


def scratch_databases(cluster) -> list[str]:
    with superuser(cluster) as c:
        rows = c.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'auroractl\\_restore\\_test\\_%'"
            " OR datname LIKE 'auroractl\\_drill\\_%' ORDER BY 1"
        ).fetchall()
    return [r[0] for r in rows]


def history(cli) -> list[tuple[str, str]]:
    result = cli("restore-test", "history", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return [(h["outcome"], h["backend"]) for h in json.loads(result.stdout)]


def cleanup_rows(conn) -> list[tuple[str, str]]:
    if conn.execute("SELECT to_regclass('auroractl.operations')").fetchone()[0] is None:
        return []  # nothing recorded yet
    return conn.execute(
        "SELECT summary, outcome FROM auroractl.operations "
        "WHERE command = 'restore-test cleanup' ORDER BY id"
    ).fetchall()


def test_passing_restore_test_reports_checks_and_records_history(
    cli, conn, cluster, configured, tmp_path
):
    report = tmp_path / "restore-test.md"
    result = cli("restore-test", "--format", "json", "--report", str(report))
    assert result.exit_code == 0, result.stderr + result.stdout
    data = json.loads(result.stdout)
    assert data["outcome"] == "passed"
    assert data["backend"] == "local"
    names = {c["name"]: c["status"] for c in data["checks"]}
    assert names["rows: public.alunos"] == "pass"
    assert names["checksum: public.usuarios"] == "pass"
    assert names["canary: one empresa"] == "pass"
    assert names["canary: contratos total"] == "pass"
    assert names["structure: indexes"] == "pass"
    assert names["restore: pg_restore"] == "pass"
    assert set(data["timings"]) == {"dump_s", "restore_s", "verify_s"}
    assert data["rpo_s"] is not None and data["newest_data"] is not None
    assert data["id"] is not None
    # The scratch database is gone, the source has one history row and nothing else new.
    assert scratch_databases(cluster) == []
    assert history(cli) == [("passed", "local")]
    assert "# Restore test: PASSED" in report.read_text()


def test_tampered_copy_fails_verification(cli, conn, cluster, configured, monkeypatch):
    monkeypatch.setenv(
        HOOK,
        "DELETE FROM ai_preferences WHERE id % 50 = 0; "
        "UPDATE usuarios SET email = 'tampered@example.com' WHERE id = 7; "
        "DROP INDEX IF EXISTS alunos_empresa_id_idx",
    )
    before = conn.execute("SELECT count(*) FROM ai_preferences").fetchone()[0]
    result = cli("restore-test", "--format", "json")
    assert result.exit_code == 1, result.stderr
    data = json.loads(result.stdout)
    status = {c["name"]: c["status"] for c in data["checks"]}
    assert data["outcome"] == "failed"
    assert status["rows: public.ai_preferences"] == "fail"
    assert status["structure: indexes"] == "fail"
    assert status["checksum: public.usuarios"] == "fail"
    assert status["rows: public.usuarios"] == "pass"  # same count, different content
    # The source was not touched, the copy was dropped anyway.
    assert conn.execute("SELECT count(*) FROM ai_preferences").fetchone()[0] == before
    assert scratch_databases(cluster) == []
    assert history(cli) == [("failed", "local")]


def test_schema_change_in_copy_is_caught(cli, cluster, conn, configured, monkeypatch):
    monkeypatch.setenv(HOOK, "ALTER TABLE escolas DROP COLUMN nome")
    result = cli("restore-test", "--format", "json")
    assert result.exit_code == 1
    status = {c["name"]: c["status"] for c in json.loads(result.stdout)["checks"]}
    assert status["structure: tables"] == "fail"


def test_second_restore_test_is_refused_while_one_holds_the_lock(cli, dsn, configured):
    from auroractl.ops.restore_test import LOCK_KEY

    with psycopg.connect(dsn, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        result = cli("restore-test")
    assert result.exit_code == 2
    assert "another restore test is running" in result.stderr


def test_keep_leaves_the_copy_and_cleanup_respects_expiry(cli, cluster, dsn, configured):
    result = cli("restore-test", "--keep", "--format", "json")
    assert result.exit_code == 0, result.stderr
    kept = json.loads(result.stdout)["restored"]
    assert scratch_databases(cluster) == [kept]
    # Not expired yet (default ttl 6h): cleanup keeps it.
    out = cli("restore-test", "cleanup", "--yes", "--format", "json")
    assert out.exit_code == 0
    data = json.loads(out.stdout)
    assert data["status"] == "nothing-to-do"
    assert [(r["name"], r["action"]) for r in data["result"]] == [(kept, "kept (not expired)")]
    assert scratch_databases(cluster) == [kept]
    with superuser(cluster) as c:
        c.execute(f'DROP DATABASE "{kept}"')


def scratch(cluster, name: str, expires_at: str) -> None:
    """A scratch database as a run leaves it (owned by the target's role)."""
    with superuser(cluster) as c:
        c.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(ADMIN_ROLE)
            )
        )
        c.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name),
                sql.Literal(f"auroractl restore test; expires-at={expires_at}"),
            )
        )


def test_cleanup_without_yes_and_without_a_terminal_refuses_and_changes_nothing(cli, cluster, conn):
    name = "auroractl_restore_test_20200101000000_1"
    scratch(cluster, name, "2020-01-01T06:00:00+00:00")
    try:
        result = cli("restore-test", "cleanup", "--format", "json")
        assert result.exit_code == 4
        assert "--yes" in result.stderr
        assert scratch_databases(cluster) == [name]
        assert cleanup_rows(conn) == []
    finally:
        with superuser(cluster) as c:
            c.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def test_cleanup_removes_copies_made_under_the_earlier_name(cli, cluster, conn):
    """Scratch databases named auroractl_drill_* (earlier versions) are not orphaned."""
    legacy = "auroractl_drill_20200101000000_1"
    fresh = "auroractl_restore_test_20991231000000_2"
    scratch(cluster, legacy, "2020-01-01T06:00:00+00:00")
    scratch(cluster, fresh, "2099-12-31T06:00:00+00:00")
    try:
        preview = cli("restore-test", "cleanup", "--dry-run", "--format", "json")
        assert preview.exit_code == 0, preview.stderr
        plan = json.loads(preview.stdout)
        assert plan["status"] == "dry-run"
        assert [s["sql"] for s in plan["steps"]] == [
            f'DROP DATABASE IF EXISTS "{legacy}" WITH (FORCE)'
        ]
        assert plan["notes"] == [f"{fresh}: kept (not expired)"]
        result = cli("restore-test", "cleanup", "--yes", "--format", "json")
        assert result.exit_code == 0, result.stderr
        data = json.loads(result.stdout)
        assert data["status"] == "applied"
        assert {r["name"]: r["action"] for r in data["result"]} == {
            legacy: "dropped",
            fresh: "kept (not expired)",
        }
        assert scratch_databases(cluster) == [fresh]
        assert cleanup_rows(conn) == [
            ("drop 1 expired restore-test scratch database(s)", "applied")
        ]
    finally:
        with superuser(cluster) as c:
            for name in (legacy, fresh):
                c.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def test_killed_restore_test_leaves_a_scratch_db_that_cleanup_removes(
    cli, cluster, dsn, configured
):
    env = {
        **os.environ,
        "AURORACTL_DSN": dsn,
        HOOK: "SELECT pg_sleep(60)",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "auroractl", "restore-test", "--ttl", "0s"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Wait until the run sits in the hook inside its restored copy, then SIGKILL it.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with superuser(cluster) as c:
                busy = c.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'"
                    " AND datname LIKE 'auroractl\\_restore\\_test\\_%'"
                ).fetchone()[0]
            if busy or proc.poll() is not None:
                break
            time.sleep(0.2)
        assert busy, "the restore test never reached its hook"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    left = scratch_databases(cluster)
    assert len(left) == 1
    preview = cli("restore-test", "cleanup", "--dry-run", "--format", "json")
    assert [s["comment"].split(":")[0] for s in json.loads(preview.stdout)["steps"]] == left
    assert scratch_databases(cluster) == left
    result = cli("restore-test", "cleanup", "--yes", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert [(r["name"], r["action"]) for r in json.loads(result.stdout)["result"]] == [
        (left[0], "dropped")
    ]
    assert scratch_databases(cluster) == []


def test_dry_run_does_nothing(cli, cluster, conn, configured):
    result = cli("restore-test", "--dry-run")
    assert result.exit_code == 0
    assert "pg_dump -Fd -j 2" in result.stdout
    assert scratch_databases(cluster) == []
    assert history(cli) == []
    as_json = cli("restore-test", "--dry-run", "--format", "json")
    assert json.loads(as_json.stdout)["steps"][0].startswith("CREATE DATABASE")


def test_bad_input_is_a_usage_error(cli, dsn):
    assert cli("restore-test", "--ttl", "soon").exit_code == 2
    assert cli("restore-test", "--report", "restore-test.pdf").exit_code == 2
    result = cli("restore-test", "--snapshot", "x")
    assert result.exit_code == 2
    assert "Aurora target" in result.stderr
    as_json = cli("restore-test", "--snapshot", "x", "--format", "json")
    assert as_json.exit_code == 2
    error = json.loads(as_json.stdout)
    assert error["status"] == "error" and "Aurora target" in error["error"]


def test_could_not_run_is_one_json_error_document(cli, dsn, configured):
    from auroractl.ops.restore_test import LOCK_KEY

    with psycopg.connect(dsn, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        result = cli("restore-test", "--format", "json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)
    assert error["exit_code"] == 2 and "another restore test is running" in error["error"]


def test_rows_hidden_by_forced_rls_make_the_restore_test_refuse_with_a_hint(
    cli, cluster, dbname, dsn
):
    with superuser(cluster, dbname) as su:
        su.execute("ALTER TABLE escolas ENABLE ROW LEVEL SECURITY")
        su.execute("ALTER TABLE escolas FORCE ROW LEVEL SECURITY")
    result = cli("restore-test")
    assert result.exit_code == 2
    assert "row-level security hides rows of public.escolas" in result.stderr
    assert "BYPASSRLS" in result.stderr
    assert scratch_databases(cluster) == []


def test_restore_test_copies_tables_under_auroractl_rls_in_full(
    cli, cluster, dbname, dsn, conn, demo_map
):
    """After `rls enable --all` (FORCE included), the owner's maintenance policy lets the
    restore test dump and verify every row."""
    assert cli("rls", "enable", "--all", "--yes").exit_code == 0
    result = cli("restore-test", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert scratch_databases(cluster) == []


def test_history_before_any_run_is_empty(cli, cluster, dbname, dsn):
    with superuser(cluster, dbname) as su:
        su.execute("DROP SCHEMA IF EXISTS auroractl CASCADE")
    result = cli("restore-test", "history", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == []


def checksummed(result) -> dict[str, str]:
    """The checksum checks of a run's JSON report: table -> status."""
    checks = json.loads(result.stdout)["checks"]
    prefix = "checksum: "
    return {c["name"][len(prefix) :]: c["status"] for c in checks if c["name"].startswith(prefix)}


def map_tables(path) -> set[str]:
    from auroractl.ops.shared import datamap

    m = datamap.load(path)
    return {s.table for s in m.subjects} | {t.root for t in m.tenants if t.root}


def test_critical_tables_default_to_the_data_maps_subjects_and_tenant_roots(cli, cluster, demo_map):
    result = cli("restore-test", "--format", "json")
    assert result.exit_code == 0, result.stderr + result.stdout
    tables = checksummed(result)
    assert set(tables) == map_tables(demo_map)
    assert {"public.usuarios", "public.empresas"} <= set(tables)
    assert set(tables.values()) == {"pass"}
    assert scratch_databases(cluster) == []


def test_critical_tables_from_the_map_catch_a_changed_row_on_another_schema(
    cli, cluster, en_map, monkeypatch
):
    """The English schema: the subject and tenant root come from its map, not the demo's."""
    monkeypatch.setenv(
        HOOK,
        "UPDATE shop.people SET phone = 'tampered' WHERE id = (SELECT min(id) FROM shop.people)",
    )
    result = cli("restore-test", "--format", "json")
    assert result.exit_code == 1, result.stderr + result.stdout
    tables = checksummed(result)
    assert set(tables) == map_tables(en_map)
    assert tables["shop.people"] == "fail" and tables["shop.tenants"] == "pass"
    assert not any(t.startswith("public.") for t in tables)


def test_configured_critical_tables_win_over_the_map(cli, configured, demo_map):
    result = cli("restore-test", "--format", "json")
    assert result.exit_code == 0, result.stderr + result.stdout
    assert set(checksummed(result)) == {"public.usuarios", "public.contratos"}


def test_without_a_map_or_critical_tables_nothing_is_checksummed(cli, cluster, dsn):
    result = cli("restore-test", "--format", "json")
    assert result.exit_code == 0, result.stderr + result.stdout
    assert checksummed(result) == {}
