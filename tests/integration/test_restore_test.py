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

from tests.conftest import superuser

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
            "SELECT datname FROM pg_database WHERE datname LIKE 'auroractl\\_drill\\_%'"
        ).fetchall()
    return [r[0] for r in rows]


def test_passing_drill_reports_checks_and_records_history(cli, conn, cluster, configured, tmp_path):
    report = tmp_path / "drill.md"
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
    row = conn.execute("SELECT outcome, backend FROM auroractl.restore_tests").fetchall()
    assert row == [("passed", "local")]
    assert "# Restore drill: PASSED" in report.read_text()
    hist = cli("restore-test", "history", "--format", "json")
    assert hist.exit_code == 0
    assert [h["outcome"] for h in json.loads(hist.stdout)] == ["passed"]


def test_tampered_copy_fails_verification(cli, conn, cluster, configured, monkeypatch):
    monkeypatch.setenv(
        "AURORACTL_DRILL_HOOK_SQL",
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
    assert conn.execute("SELECT outcome FROM auroractl.restore_tests").fetchone()[0] == "failed"


def test_schema_change_in_copy_is_caught(cli, cluster, conn, configured, monkeypatch):
    monkeypatch.setenv("AURORACTL_DRILL_HOOK_SQL", "ALTER TABLE escolas DROP COLUMN nome")
    result = cli("restore-test", "--format", "json")
    assert result.exit_code == 1
    status = {c["name"]: c["status"] for c in json.loads(result.stdout)["checks"]}
    assert status["structure: tables"] == "fail"


def test_second_drill_is_refused_while_one_holds_the_lock(cli, dsn, configured):
    from auroractl.ops.restore_test import LOCK_KEY

    with psycopg.connect(dsn, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        result = cli("restore-test")
    assert result.exit_code == 2
    assert "another restore drill is running" in result.stderr


def test_keep_leaves_the_copy_and_cleanup_respects_expiry(cli, cluster, dsn, configured):
    result = cli("restore-test", "--keep", "--format", "json")
    assert result.exit_code == 0, result.stderr
    kept = json.loads(result.stdout)["restored"]
    assert scratch_databases(cluster) == [kept]
    # Not expired yet (default ttl 6h): cleanup keeps it.
    out = cli("restore-test", "cleanup", "--yes", "--format", "json")
    assert out.exit_code == 0
    assert json.loads(out.stdout)[0]["action"] == "kept (not expired)"
    assert scratch_databases(cluster) == [kept]
    with superuser(cluster) as c:
        c.execute(f'DROP DATABASE "{kept}"')


def test_cleanup_needs_yes_without_a_terminal(cli, dsn):
    result = cli("restore-test", "cleanup")
    assert result.exit_code == 4


def test_killed_drill_leaves_a_scratch_db_that_cleanup_removes(cli, cluster, dsn, configured):
    env = {
        **os.environ,
        "AURORACTL_DSN": dsn,
        "AURORACTL_DRILL_HOOK_SQL": "SELECT pg_sleep(60)",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "auroractl", "restore-test", "--ttl", "0s"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Wait until the drill sits in the hook inside its restored copy, then SIGKILL it.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with superuser(cluster) as c:
                busy = c.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'"
                    " AND datname LIKE 'auroractl\\_drill\\_%'"
                ).fetchone()[0]
            if busy or proc.poll() is not None:
                break
            time.sleep(0.2)
        assert busy, "the drill never reached its hook"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    left = scratch_databases(cluster)
    assert len(left) == 1
    preview = cli("restore-test", "cleanup", "--dry-run", "--format", "json")
    assert json.loads(preview.stdout)[0]["action"] == "would drop"
    assert scratch_databases(cluster) == left
    result = cli("restore-test", "cleanup", "--yes", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [
        {**json.loads(result.stdout)[0], "name": left[0], "action": "dropped"}
    ]
    assert scratch_databases(cluster) == []


def test_dry_run_does_nothing(cli, cluster, conn, configured):
    result = cli("restore-test", "--dry-run")
    assert result.exit_code == 0
    assert "pg_dump -Fd -j 2" in result.stdout
    assert scratch_databases(cluster) == []
    assert conn.execute("SELECT to_regclass('auroractl.restore_tests')").fetchone()[0] is None


def test_bad_input_is_a_usage_error(cli, dsn):
    assert cli("restore-test", "--ttl", "soon").exit_code == 2
    assert cli("restore-test", "--report", "drill.pdf").exit_code == 2
    result = cli("restore-test", "--snapshot", "x")
    assert result.exit_code == 2
    assert "Aurora target" in result.stderr


def test_rows_hidden_by_forced_rls_make_the_drill_refuse_with_a_hint(cli, cluster, dbname, dsn):
    with superuser(cluster, dbname) as su:
        su.execute("ALTER TABLE escolas ENABLE ROW LEVEL SECURITY")
        su.execute("ALTER TABLE escolas FORCE ROW LEVEL SECURITY")
    result = cli("restore-test")
    assert result.exit_code == 2
    assert "row-level security hides rows of public.escolas" in result.stderr
    assert "BYPASSRLS" in result.stderr
    assert scratch_databases(cluster) == []


def test_drill_copies_tables_under_auroractl_rls_in_full(cli, cluster, dbname, dsn, conn):
    """After `rls enable --all` (FORCE included), the owner's maintenance policy lets the
    drill dump and verify every row."""
    assert cli("rls", "enable", "--all", "--yes").exit_code == 0
    result = cli("restore-test", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert scratch_databases(cluster) == []
