"""Input that cannot name anything is said to be wrong (exit 2), in one line, and a
monitor's probe reads every failure to check as UNKNOWN (exit 3)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest


def test_lgpd_requests_of_an_id_no_subject_can_have_is_refused(cli, dsn, demo_map):
    assert cli("lgpd", "forget", "7", "--yes").exit_code == 0
    for raw in ("abc", "1.5", "99999999999999999999999", " "):
        result = cli("lgpd", "requests", "--subject", raw, "--format", "json")
        assert result.exit_code == 2, (raw, result.stderr)
        assert len(result.stderr.splitlines()) == 1 and "--subject" in result.stderr
        assert json.loads(result.stdout)["status"] == "error"
    found = json.loads(cli("lgpd", "requests", "--subject", "007", "--format", "json").stdout)
    assert [(r["subject_table"], r["subject_id"]) for r in found] == [("public.usuarios", "7")]
    none = cli("lgpd", "requests", "--subject", "8", "--format", "json")
    assert none.exit_code == 0 and json.loads(none.stdout) == []


def test_lgpd_requests_without_a_map_checks_ids_against_the_register(cli, dsn, demo_map):
    assert cli("lgpd", "forget", "7", "--yes").exit_code == 0
    demo_map.unlink()
    assert cli("lgpd", "requests", "--subject", "abc").exit_code == 2
    assert cli("lgpd", "requests", "--subject", "7").exit_code == 0


def test_lgpd_export_does_json_only(cli, dsn, demo_map):
    result = cli("lgpd", "export", "1", "--format", "table")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines()[0].startswith("Error: Invalid value for '--format'")


@pytest.mark.parametrize(
    "dsn_text",
    [
        "postgresql://x@:notaport/db",
        "postgresql://x@127.0.0.1:99999/db",
        "host=127.0.0.1 sslmode=nope",
    ],
)
def test_a_malformed_dsn_is_input_not_a_connection_failure(cli, dsn_text):
    result = cli("--dsn", dsn_text, "partition", "status", "contratos", "--format", "json")
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith("Error: malformed connection string from --dsn")
    assert json.loads(result.stdout)["exit_code"] == 2
    probe = cli("--dsn", dsn_text, "health", "--format", "json")
    assert probe.exit_code == 3 and json.loads(probe.stdout)["exit_code"] == 3


@pytest.mark.parametrize(
    ("config", "args"),
    [
        ('[health]\nconnections_warn_pct = "eighty"\n', ()),
        ("[health]\nno_such_threshold = 1\n", ()),
        ("", ("--profile", "nosuch")),
        ("", ("--lock-timeout", "0")),
    ],
)
def test_health_cannot_check_is_unknown_never_crit(cli, dsn, monkeypatch, tmp_path, config, args):
    if args[:1] == ("--profile",):
        monkeypatch.delenv("AURORACTL_DSN")  # a DSN would win over the profile
    (tmp_path / "auroractl.toml").write_text(config)
    for fmt in ("table", "json"):
        result = cli(*args, "health", "--format", fmt)
        assert result.exit_code == 3, (fmt, result.stderr)
        assert len(result.stderr.splitlines()) in (1, 2) and "Traceback" not in result.stderr
    document = json.loads(result.stdout)
    assert document["status"] == "error" and document["exit_code"] == 3
    assert cli(*args, "health", "--only", "nosuch").exit_code == 3


def _interrupted(cmd: list[str], sig: int, env: dict[str, str], started) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """Run ``cmd``, wait until ``started()`` is true, send ``sig``; (exit code, stderr)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "auroractl", *cmd],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    for _ in range(600):
        if started() or proc.poll() is not None:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the change ended before it could be interrupted"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


def _ledger_rows(conn) -> list[tuple]:  # type: ignore[no-untyped-def]
    if not conn.execute("SELECT to_regclass('auroractl.operations')").fetchone()[0]:
        return []
    return conn.execute("SELECT command, outcome, error FROM auroractl.operations").fetchall()


def test_an_interrupted_backfill_is_recorded_as_interrupted(dsn, conn, demo_map):
    names = ["--table", "usuarios", "--column", "documento_identidade"]
    cmd = ["encrypt", "backfill", *names, "--batch-size", "5", "--sleep-ms", "100", "--yes"]

    def started() -> bool:
        return bool(
            conn.execute(
                "SELECT count(*) FROM information_schema.columns WHERE table_name = 'usuarios'"
                " AND column_name = 'documento_identidade_encrypted'"
            ).fetchone()[0]
        )

    code, err = _interrupted(cmd, signal.SIGINT, {"AURORACTL_ENCRYPTION_KEY": "k" * 40}, started)
    assert code == 130 and err.strip() == "Error: interrupted (SIGINT)"
    [(command, outcome, error)] = _ledger_rows(conn)
    assert command.startswith("encrypt backfill") and outcome == "failed"
    assert error == "interrupted (SIGINT)"


def test_a_terminated_migration_rolls_back_and_is_recorded(dsn, conn, tmp_path):
    (tmp_path / "0001_slow.sql.j2").write_text(
        "CREATE TABLE {{ (schema, 'slow_made') | ident }} (id int);\nSELECT pg_sleep(30);\n"
    )
    cmd = ["migrate", "up", "--directory", str(tmp_path), "--yes"]

    def started() -> bool:
        return bool(
            conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%%pg_sleep(30)%%'"
                " AND pid <> pg_backend_pid()"
            ).fetchone()[0]
        )

    code, err = _interrupted(cmd, signal.SIGTERM, {}, started)
    assert code == 130 and err.strip() == "Error: interrupted (SIGTERM) in step '0001_slow'"
    assert conn.execute("SELECT to_regclass('slow_made')").fetchone() == (None,)
    [(command, outcome, error)] = _ledger_rows(conn)
    assert (command, outcome) == ("migrate up", "failed")
    assert error == "step '0001_slow': interrupted (SIGTERM)"
