"""auroractl params on plain PostgreSQL: pg_settings, ALTER SYSTEM + pg_reload_conf()."""

from __future__ import annotations

import json

import pytest
from psycopg import sql

from tests.conftest import superuser

CHANGED = ("track_activity_query_size", "log_min_duration_statement")
WANTED = {"track_activity_query_size": "8192", "log_min_duration_statement": "2000"}


@pytest.fixture
def wanted(tmp_path):
    """Desired values that differ from the test cluster's (which has the seed's values)."""
    body = "\n".join(f"{k} = {v}" for k, v in WANTED.items())
    (tmp_path / "auroractl.toml").write_text(f"[params]\n{body}\n")
    return WANTED


@pytest.fixture
def restore_system(cluster):
    """ALTER SYSTEM rewrites the shared test cluster's postgresql.auto.conf: put back the
    values the cluster was started with."""
    before = file_settings(cluster, "postgres")
    yield
    with superuser(cluster) as su:
        for name in CHANGED:
            if name in before:
                su.execute(
                    sql.SQL("ALTER SYSTEM SET {} = {}").format(
                        sql.Identifier(name), sql.Literal(before[name])
                    )
                )
            else:
                su.execute(sql.SQL("ALTER SYSTEM RESET {}").format(sql.Identifier(name)))
        su.execute("SELECT pg_reload_conf()")


def file_settings(cluster, dbname):
    with superuser(cluster, dbname) as su:
        return dict(
            su.execute(
                "SELECT DISTINCT ON (name) name, setting FROM pg_file_settings"
                " WHERE sourcefile LIKE '%%postgresql.auto.conf' AND name = ANY(%s)"
                " ORDER BY name, seqno DESC",
                [list(CHANGED)],
            ).fetchall()
        )


def test_show_lists_the_seed_defaults_with_their_state(cli, dsn):
    result = cli("params", "show", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["where"] == "postgresql"
    by_name = {p["name"]: p for p in data["params"]}
    assert set(by_name) == {
        "shared_preload_libraries",
        "track_activity_query_size",
        "log_min_duration_statement",
    }
    # The test cluster is set up with the seed's values (the sandbox's settings);
    # desired libraries mean "includes", not "equals".
    assert all(p["in_sync"] for p in data["params"])
    assert by_name["track_activity_query_size"]["actual"] == "4096"
    assert by_name["track_activity_query_size"]["apply_type"] == "static"
    assert by_name["log_min_duration_statement"]["apply_type"] == "dynamic"
    assert cli("params", "diff").exit_code == 0


def test_diff_exits_1_and_lists_only_differences(cli, dsn, wanted):
    result = cli("params", "diff", "--format", "json")
    assert result.exit_code == 1
    rows = json.loads(result.stdout)["params"]
    assert {p["name"]: p["desired"] for p in rows} == wanted


def test_units_are_compared_not_strings(cli, dsn, tmp_path):
    (tmp_path / "auroractl.toml").write_text(
        '[params]\ntrack_activity_query_size = "4kB"\nlog_min_duration_statement = "1s"\n'
    )
    result = cli("params", "diff", "--format", "json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["params"] == []


def test_unknown_parameter_is_a_clear_error(cli, dsn, tmp_path):
    (tmp_path / "auroractl.toml").write_text("[params]\nno_such_setting = 1\n")
    result = cli("params", "show")
    assert result.exit_code == 2
    assert "unknown server parameter(s): no_such_setting" in result.stderr


def test_apply_as_non_superuser_is_a_clear_precondition_error(cli, dsn, cluster, dbname, wanted):
    before = file_settings(cluster, dbname)
    result = cli("params", "apply", "--yes")
    assert result.exit_code == 3
    assert "ALTER SYSTEM" in result.stderr and "superuser" in result.stderr
    assert "GRANT ALTER SYSTEM ON PARAMETER" in result.stderr
    assert file_settings(cluster, dbname) == before


def test_dry_run_shows_the_diff_only(cli, cluster, dbname, wanted):
    before = file_settings(cluster, dbname)
    su_dsn = cluster.conninfo(dbname, user="postgres")
    result = cli("--dsn", su_dsn, "params", "apply", "--dry-run", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)  # exactly one document: the plan
    assert doc["status"] == "dry-run"
    statements = [s["sql"] for s in doc["steps"]]
    assert all(any(name in sql for sql in statements) for name in CHANGED)
    assert any("pg_reload_conf" in sql for sql in statements)
    assert file_settings(cluster, dbname) == before


def test_apply_refuses_without_a_terminal(cli, cluster, dbname, wanted):
    before = file_settings(cluster, dbname)
    su_dsn = cluster.conninfo(dbname, user="postgres")
    result = cli("--dsn", su_dsn, "params", "apply")
    assert result.exit_code == 4 and "--yes" in result.stderr
    assert file_settings(cluster, dbname) == before


def test_apply_as_superuser_alters_system_and_flags_pending_restart(
    cli, cluster, dbname, wanted, restore_system
):
    su_dsn = cluster.conninfo(dbname, user="postgres")
    result = cli("--dsn", su_dsn, "params", "apply", "--yes", "--format", "json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["status"] == "applied"
    assert {c["name"] for c in out["result"]["changes"]} == set(CHANGED)
    assert out["result"]["pending_restart"] == ["track_activity_query_size"]
    assert file_settings(cluster, dbname) == wanted
    with superuser(cluster, dbname) as su:
        ledger = su.execute(
            "SELECT outcome, statements FROM auroractl.operations WHERE command = 'params apply'"
        ).fetchall()
    assert ledger == [("applied", 3)]  # two ALTER SYSTEM + pg_reload_conf()

    # Idempotent: the static change waits for a restart and counts as done.
    again = cli("--dsn", su_dsn, "params", "apply", "--yes", "--format", "json")
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["status"] == "nothing-to-do", again.stdout
    assert "track_activity_query_size" in json.loads(again.stdout)["result"]["pending_restart"]
    text = cli("--dsn", su_dsn, "params", "apply", "--yes")
    assert "pending a restart: track_activity_query_size" in text.stderr


def test_list_parameter_keeps_what_is_already_preloaded(cli, cluster, dbname, tmp_path):
    (tmp_path / "auroractl.toml").write_text(
        '[params]\nshared_preload_libraries = "pg_stat_statements,auto_explain"\n'
    )
    su_dsn = cluster.conninfo(dbname, user="postgres")
    result = cli("--dsn", su_dsn, "params", "apply", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "shared_preload_libraries" in result.stdout
    assert "auto_explain" in result.stdout
