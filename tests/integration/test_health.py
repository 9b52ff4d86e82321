"""auroractl health / top-queries against a real PostgreSQL: each problem made on purpose."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import psycopg
import pytest

from tests.conftest import superuser


def health(cli, *args: str) -> tuple[int, dict]:
    result = cli("health", "--format", "json", *args)
    report = json.loads(result.stdout)
    assert report["exit_code"] == result.exit_code
    return result.exit_code, report


def section(report: dict, name: str) -> dict:
    return next(s for s in report["sections"] if s["name"] == name)


def objects(sec: dict) -> dict[str, str]:
    return {f["object"]: f["status"] for f in sec["findings"]}


def configure(**values: float) -> None:
    """auroractl.toml in the test's cwd with a [health] table."""
    body = "\n".join(f"{k} = {v}" for k, v in values.items())
    Path("auroractl.toml").write_text(f"[health]\n{body}\n", encoding="utf-8")


@pytest.fixture
def clean(cli, dsn):
    """The demo DB with its current and next year's partitions (DEFAULT drained)."""
    result = cli("partition", "ensure", "--ahead", "1", "--yes")
    assert result.exit_code == 0, result.stderr
    return dsn


def test_clean_database_is_ok_with_a_fixed_number_of_round_trips(cli, clean):
    code, report = health(cli)
    assert code == 0
    assert report["status"] == "OK"
    statuses = {s["name"]: s["status"] for s in report["sections"]}
    assert set(statuses.values()) == {"OK"}, statuses
    for name in ("connections", "locks", "indexes", "sequences", "partitions"):
        assert section(report, name)["findings"] == []
    # One prelude + one query per catalog section (settings reuse the prelude).
    assert report["meta"]["round_trips"] == 11
    assert set(report) >= {"status", "exit_code", "checked_at", "target", "sections", "meta"}
    assert set(report["sections"][0]) >= {"name", "status", "summary", "findings", "thresholds"}
    assert "password" not in report["target"]


def test_only_runs_the_named_sections(cli, clean):
    code, report = health(cli, "--only", "connections,locks")
    assert code == 0
    assert [s["name"] for s in report["sections"]] == ["connections", "locks"]
    assert report["meta"]["round_trips"] == 3


def test_bad_only_and_bad_config_are_unknown_to_a_monitor(cli, dsn):
    result = cli("health", "--only", "connections,lockz")
    assert result.exit_code == 3  # Nagios' UNKNOWN: could not check, not CRIT
    assert "lockz" in result.stderr
    configure(no_such_threshold=1)
    result = cli("health")
    assert result.exit_code == 3
    assert "no_such_threshold" in result.stderr


def test_unused_index(cli, clean, conn):
    conn.execute("CREATE INDEX alunos_nome_unused_idx ON alunos (nome)")
    code, report = health(cli, "--only", "indexes")
    assert code == 0  # below the default 10 MB: not worth reporting
    configure(unused_index_min_mb=0)
    code, report = health(cli, "--only", "indexes")
    assert code == 1
    found = objects(section(report, "indexes"))
    assert found["public.alunos_nome_unused_idx"] == "WARN"
    # Unique and primary-key indexes are never "unused": they enforce constraints.
    assert "public.usuarios_email_key" not in found
    assert "public.alunos_pkey" not in found


def test_duplicate_index(cli, clean, conn):
    conn.execute("CREATE INDEX alunos_empresa_copy_idx ON alunos (empresa_id)")
    conn.execute("CREATE INDEX escolas_empresa_nome_idx ON escolas (empresa_id, nome)")
    code, report = health(cli, "--only", "indexes")
    assert code == 1
    sec = section(report, "indexes")
    dups = {
        f["object"]: f["details"]["covered_by"]
        for f in sec["findings"]
        if "covered_by" in f["details"]
    }
    # The identical copy (newer) is reported, not the original; a prefix is covered too.
    assert dups == {
        "public.alunos_empresa_copy_idx": "public.alunos_empresa_id_idx",
        "public.escolas_empresa_id_idx": "public.escolas_empresa_nome_idx",
    }


def test_invalid_index(cli, clean, conn):
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(
            "CREATE UNIQUE INDEX CONCURRENTLY escolas_empresa_uniq ON escolas (empresa_id)"
        )
    code, report = health(cli, "--only", "indexes")
    assert code == 1
    sec = section(report, "indexes")
    assert objects(sec)["public.escolas_empresa_uniq"] == "WARN"
    assert "INVALID" in next(
        f["message"] for f in sec["findings"] if f["object"] == "public.escolas_empresa_uniq"
    )


def test_foreign_key_without_index(cli, clean, conn):
    conn.execute("DROP INDEX alunos_escola_id_idx")
    code, report = health(cli, "--only", "indexes")
    assert code == 1
    finding = section(report, "indexes")["findings"][0]
    assert finding["object"] == "public.alunos"
    assert finding["details"]["columns"] == "escola_id"


def test_sequence_near_overflow(cli, clean, conn):
    conn.execute("SELECT setval('alunos_id_seq', (2147483647 * 0.90)::int8)")
    code, report = health(cli, "--only", "sequences")
    assert code == 1
    assert objects(section(report, "sequences")) == {"public.alunos_id_seq": "WARN"}
    conn.execute("SELECT setval('alunos_id_seq', (2147483647 * 0.96)::int8)")
    code, report = health(cli, "--only", "sequences")
    assert code == 2
    assert report["status"] == "CRIT"
    finding = section(report, "sequences")["findings"][0]
    assert finding["details"]["column_type"] == "integer"  # bounded by the column, not bigint


def test_idle_in_transaction(cli, clean, dsn):
    with psycopg.connect(dsn) as idle:
        idle.execute("SELECT 1")  # psycopg opened a transaction: now idle in it
        pid = idle.info.backend_pid
        code, _ = health(cli, "--only", "connections")
        assert code == 0  # younger than the 5 min default
        configure(idle_in_transaction_warn_seconds=0)
        code, report = health(cli, "--only", "connections")
        assert code == 1
        assert objects(section(report, "connections")) == {f"pid {pid}": "WARN"}
        configure(idle_in_transaction_warn_seconds=0, idle_in_transaction_crit_seconds=0)
        code, report = health(cli, "--only", "connections")
        assert code == 2
        idle.rollback()


def test_blocked_query_shows_the_chain(cli, clean, dsn, conn):
    holder = psycopg.connect(dsn)
    holder.execute("UPDATE escolas SET nome = nome WHERE id = 1")
    waiter_pid: list[int] = []

    def wait_for_lock() -> None:
        with psycopg.connect(dsn, autocommit=True) as w:
            waiter_pid.append(w.info.backend_pid)
            w.execute("UPDATE escolas SET nome = nome || '' WHERE id = 1")

    thread = threading.Thread(target=wait_for_lock, daemon=True)
    thread.start()
    try:
        for _ in range(200):  # until the waiter really waits on the lock
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            ).fetchone()
            if row[0]:
                break
            time.sleep(0.05)
        configure(lock_wait_warn_seconds=0)
        code, report = health(cli, "--only", "locks")
        assert code == 1
        sec = section(report, "locks")
        assert objects(sec) == {f"pid {waiter_pid[0]}": "WARN"}
        chains = sec["data"]["blocking_chains"]
        assert [c["pid"] for c in chains] == [holder.info.backend_pid]
        assert [b["pid"] for b in chains[0]["blocks"]] == waiter_pid
        result = cli("health", "--only", "locks")  # table output shows the tree too
        assert result.exit_code == 1
    finally:
        holder.rollback()
        holder.close()
        thread.join(timeout=30)


def test_partition_missing_next_year(cli, dsn):
    # The demo database has no partition for the current year: rows wait in DEFAULT.
    code, report = health(cli, "--only", "partitions")
    assert code == 1
    messages = " ".join(f["message"] for f in section(report, "partitions")["findings"])
    assert "current year" in messages and "DEFAULT" in messages
    year = int(report["checked_at"][:4])
    assert cli("partition", "create", "contratos", "--year", str(year), "--yes").exit_code == 0
    code, report = health(cli, "--only", "partitions")
    assert code == 1
    findings = section(report, "partitions")["findings"]
    assert [f["details"]["period_start"] for f in findings] == [f"{year + 1}-01-01"]
    assert "next year" in findings[0]["message"]


def test_missing_pg_stat_statements_is_could_not_check(cli, clean, cluster, dbname):
    with superuser(cluster, dbname) as su:
        su.execute("DROP EXTENSION pg_stat_statements")
    code, report = health(cli)
    assert code == 3
    assert report["status"] == "UNKNOWN"
    top = section(report, "top_queries")
    assert top["status"] == "UNKNOWN"
    assert "CREATE EXTENSION pg_stat_statements" in top["findings"][0]["message"]
    assert "parameter group" in top["findings"][0]["message"]
    assert section(report, "indexes")["status"] == "OK"  # the others still ran
    result = cli("top-queries")
    assert result.exit_code == 3
    assert "pg_stat_statements" in result.stderr


def test_top_queries(cli, clean, conn):
    for _ in range(5):
        conn.execute("SELECT count(*) FROM alunos WHERE escola_id = %s", [1])
    result = cli("top-queries", "--by", "calls", "--limit", "3", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert 1 <= len(rows) <= 3
    assert rows == sorted(rows, key=lambda r: -r["calls"])
    assert set(rows[0]) >= {
        "calls",
        "total_ms",
        "mean_ms",
        "pct_total",
        "rows_per_call",
        "hit_pct",
        "temp_blks_written",
        "query",
    }
    assert any("FROM alunos WHERE escola_id = $1" in r["query"] for r in rows)
    # Never resets: the counters only grow.
    again = json.loads(cli("top-queries", "--by", "calls", "--format", "json").stdout)
    assert max(r["calls"] for r in again) >= rows[0]["calls"]
    assert cli("top-queries", "--by", "slowest").exit_code == 2


def test_html_report_is_self_contained(cli, clean, tmp_path):
    out = tmp_path / "health.html"
    result = cli("health", "--report", str(out))
    assert result.exit_code == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert 'id="indexes"' in text and "<style>" in text
    assert (
        "src=" not in text
        and "href=" not in text
        and "http" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )


def test_unreachable_database_is_exit_3(cli):
    result = cli("--dsn", "host=127.0.0.1 port=1 connect_timeout=2", "health", "--format", "json")
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert report["status"] == "UNKNOWN"
    assert "could not check" in report["sections"][0]["summary"]


def test_terminal_gets_panels(cli, dsn, monkeypatch):
    from auroractl import output

    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "160")
    output._console.cache_clear()
    try:
        result = cli("health", "--only", "partitions,sequences,top_queries")
    finally:
        output._console.cache_clear()
    assert result.exit_code == 1
    assert "╭" in result.stdout  # rich panels, one per section
    assert "Partitions" in result.stdout and "Sequences and integer keys" in result.stdout
    assert "by total time" in result.stdout


def test_settings_against_the_recommendations(cli, clean, cluster, dbname):
    code, report = health(cli, "--only", "settings")
    assert code == 0  # the sandbox is set up as recommended
    with superuser(cluster, dbname) as su:
        su.execute(f'ALTER DATABASE "{dbname}" SET log_min_duration_statement = -1')
    code, report = health(cli, "--only", "settings")
    assert code == 1
    assert objects(section(report, "settings")) == {"log_min_duration_statement": "WARN"}


def test_csv_lists_findings(cli, dsn):
    result = cli("health", "--only", "partitions", "--format", "csv")
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "section,status,object,finding"
    assert all(line.startswith("partitions,WARN,public.contratos,") for line in lines[1:])


def test_wraparound_and_cache_thresholds_come_from_the_config(cli, clean, conn, dbname):
    conn.execute("SELECT count(*) FROM alunos").fetchone()
    configure(xid_age_warn_pct=0, cache_min_blocks=0, cache_hit_warn_pct=101, cache_hit_crit_pct=0)
    code, report = health(cli, "--only", "vacuum,cache")
    assert code == 1
    vacuum = section(report, "vacuum")
    assert vacuum["status"] == "WARN" and dbname in objects(vacuum)
    assert vacuum["thresholds"]["xid_age_warn_pct"] == 0
    assert section(report, "cache")["status"] == "WARN"
    configure(xid_age_warn_pct=0, xid_age_crit_pct=0)
    code, report = health(cli, "--only", "vacuum")
    assert code == 2
