"""Lock and statement timeouts are always bounded: 0 (PostgreSQL's "forever") and
implausibly long values are refused in one line, exit 2, before any connection."""

from __future__ import annotations

from pathlib import Path

import pytest

UNREACHABLE = "host=127.0.0.1 port=1 dbname=nowhere connect_timeout=1"
STATUS = ("partition", "status", "contratos")  # any command that connects (health: exit 3)


def refused(result, setting: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.stdout + result.stderr
    line = result.stderr.strip().splitlines()[0]
    assert setting in line and "cannot connect" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("value", ["0", "0ms", "90s", "1h"])
def test_lock_timeout_option_refused_before_connecting(cli, value):
    # an unreachable target: a connection attempt would exit 5, not 2
    refused(
        cli("--dsn", UNREACHABLE, "--lock-timeout", value, "partition", "status", "contratos"),
        "lock_timeout",
    )


def test_environment_and_config_file_are_held_to_the_same_bounds(cli, monkeypatch):
    monkeypatch.setenv("AURORACTL_DSN", UNREACHABLE)
    monkeypatch.setenv("AURORACTL_LOCK_TIMEOUT", "0")
    refused(cli(*STATUS), "lock_timeout")
    monkeypatch.delenv("AURORACTL_LOCK_TIMEOUT")
    Path("auroractl.toml").write_text('[auroractl]\nlock_timeout = "0"\n', encoding="utf-8")
    refused(cli(*STATUS), "lock_timeout")
    Path("auroractl.toml").write_text("[auroractl]\nstatement_timeout = 0\n", encoding="utf-8")
    refused(cli(*STATUS), "statement_timeout")
    monkeypatch.setenv("AURORACTL_STATEMENT_TIMEOUT", "0s")
    refused(cli(*STATUS), "statement_timeout")


def test_ddl_with_lock_timeout_zero_changes_nothing(cli, dsn, conn):
    before = conn.execute("SELECT count(*) FROM pg_class").fetchone()[0]
    result = cli(
        "--lock-timeout", "0", "partition", "create", "contratos", "--year", "2031", "--yes"
    )
    refused(result, "lock_timeout")
    result = cli("--statement-timeout", "0", "partition", "create", "contratos", "--year", "2031",
                 "--yes")  # fmt: skip
    refused(result, "statement_timeout")
    assert conn.execute("SELECT count(*) FROM pg_class").fetchone()[0] == before


def test_a_commands_own_lock_timeout_is_held_to_the_bound(cli, dsn):
    result = cli("partition", "migrate", "swap", "contratos", "--lock-timeout", "0", "--yes")
    refused(result, "lock_timeout")


def test_a_bounded_timeout_reaches_the_session(cli, dsn, monkeypatch):
    from auroractl import config, db

    monkeypatch.setenv("AURORACTL_LOCK_TIMEOUT", "60s")
    monkeypatch.setenv("AURORACTL_STATEMENT_TIMEOUT", "24h")
    s = config.load()
    with db.connect(config.resolve_target(s), s) as c:
        got = c.execute(
            "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')"
        ).fetchone()
    assert got == ("1min", "1d")
