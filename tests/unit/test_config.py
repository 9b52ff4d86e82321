"""Target precedence and profile handling (no database needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from auroractl import config, db
from auroractl.errors import InvalidInput, NotFound

TOML = """
[auroractl]
lock_timeout = "3s"
default_profile = "staging"

[profiles.staging]
host = "staging.example"
dbname = "escola"
user = "dba"

[profiles.prod]
host = "prod.cluster-abc.us-east-1.rds.amazonaws.com"
port = 5432
dbname = "escola"
user = "dba"
cluster_id = "prod"
region = "us-east-1"
secret_arn = "arn:aws:secretsmanager:us-east-1:123:secret:prod"
"""


@pytest.fixture
def settings(tmp_path: Path) -> config.Settings:
    (tmp_path / "auroractl.toml").write_text(TOML)
    return config.load()


def test_config_file_in_working_directory_is_found(settings):
    assert settings.lock_timeout == "3s"
    assert set(settings.profiles) == {"staging", "prod"}


def test_dsn_beats_everything(settings, monkeypatch):
    monkeypatch.setenv("AURORACTL_DSN", "host=env")
    monkeypatch.setenv("PGHOST", "pghost")
    t = config.resolve_target(settings, dsn="host=flag", profile="prod")
    assert (t.source, t.conninfo) == ("--dsn", "host=flag")


def test_env_dsn_beats_profile(settings, monkeypatch):
    monkeypatch.setenv("AURORACTL_DSN", "host=env")
    assert config.resolve_target(settings, profile="prod").source == "AURORACTL_DSN"


def test_profile_flag_beats_default_profile_and_pg_vars(settings, monkeypatch):
    monkeypatch.setenv("PGHOST", "pghost")
    t = config.resolve_target(settings, profile="prod")
    assert t.source == "profile prod" and t.cluster_id == "prod"
    assert "host=prod.cluster-abc" in t.conninfo
    assert config.resolve_target(settings).source == "profile staging"  # default_profile


def test_pg_vars_beat_sandbox(monkeypatch):
    monkeypatch.setenv("PGHOST", "pghost")
    assert config.resolve_target(config.load()).source == "PG* environment"
    monkeypatch.delenv("PGHOST")
    t = config.resolve_target(config.load())
    assert t.is_sandbox and "port=54329" in t.conninfo


def test_unknown_profile(settings):
    with pytest.raises(NotFound, match="profile 'nope' is not defined"):
        config.resolve_target(settings, profile="nope")


def test_password_in_config_file_is_rejected(tmp_path):
    (tmp_path / "auroractl.toml").write_text('[profiles.x]\nhost = "h"\npassword = "s3cret"\n')
    with pytest.raises(InvalidInput) as exc:
        config.load()
    assert "s3cret" not in str(exc.value)


def test_masked_never_shows_a_password(settings):
    t = config.resolve_target(settings, dsn="postgresql://dba:s3cret@h:5432/escola")
    shown = db.masked(t)
    assert shown["password"] == "****" and "s3cret" not in str(shown)
    assert "s3cret" not in db.describe(t)
    prod = config.resolve_target(settings, profile="prod")
    assert db.masked(prod)["password"].startswith("(Secrets Manager")


def test_timeouts_are_validated():
    assert db.check_duration("500ms", "lock_timeout") == "500ms"
    with pytest.raises(InvalidInput):
        db.check_duration("2s -c search_path=evil", "lock_timeout")


@pytest.mark.parametrize("value", ["0", "0s", "0ms", "500us", "0min", 0])
def test_a_timeout_of_zero_is_refused_because_postgresql_reads_it_as_forever(value):
    for what in ("lock_timeout", "statement_timeout"):
        with pytest.raises(InvalidInput, match="means no timeout at all"):
            db.check_duration(value, what)  # type: ignore[arg-type]


def test_timeouts_are_capped():
    assert db.check_duration("60s", "lock_timeout") == "60s"
    assert db.check_duration("1500us", "lock_timeout") == "1500us"
    assert db.check_duration(2000, "lock_timeout") == "2000"  # type: ignore[arg-type]
    assert db.check_duration("24h", "statement_timeout") == "24h"
    for value, what in (("61s", "lock_timeout"), ("2min", "lock_timeout"), ("1d", "lock_timeout")):
        with pytest.raises(InvalidInput, match=r"implausibly long.*60s"):
            db.check_duration(value, what)
    with pytest.raises(InvalidInput, match=r"implausibly long.*24h"):
        db.check_duration("25h", "statement_timeout")


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("AURORACTL_SANDBOX_PORT", "abc"),
        ("AURORACTL_SANDBOX_PORT", "70000"),
        ("AURORACTL_SANDBOX_PORT", "0"),
        ("AURORACTL_LOCK_RETRIES", "-1"),
        ("AURORACTL_LOCK_RETRIES", "many"),
    ],
)
def test_integer_settings_are_input_errors_not_crashes(monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    with pytest.raises(InvalidInput, match=f"{var} .*'{value}' is not a whole number"):
        config.load()


def test_integer_settings_in_range_are_read(monkeypatch, tmp_path):
    (tmp_path / "auroractl.toml").write_text("[sandbox]\nport = 6543\n")
    monkeypatch.setenv("AURORACTL_LOCK_RETRIES", "0")
    s = config.load()
    assert (s.sandbox_port, s.lock_retries) == (6543, 0)


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://x@:notaport/db",
        "postgresql://x@h:70000/db",
        "host=a,b port=5432,abc",
        "postgresql://u:s3cr3t@[::1/db",
        "bogus=1",
        "host=localhost sslmode=bogus",
    ],
)
def test_a_malformed_dsn_is_bad_input_found_before_connecting(dsn):
    target = config.Target(source="--dsn", conninfo=dsn)
    settings = config.Settings()
    with pytest.raises(InvalidInput, match="malformed connection string from --dsn") as caught:
        db.connect(target, settings)
    assert "s3cr3t" not in str(caught.value)
