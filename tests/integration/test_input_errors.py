"""Input that cannot name anything is said to be wrong (exit 2), in one line, and a
monitor's probe reads every failure to check as UNKNOWN (exit 3)."""

from __future__ import annotations

import json

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
