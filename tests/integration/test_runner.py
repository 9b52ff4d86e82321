"""The runner against a real database: confirmation, transactions, autocommit, timeouts."""

from __future__ import annotations

import psycopg
import pytest

from auroractl import config, db, runner
from auroractl.errors import Refused
from auroractl.plan import Plan, Step
from auroractl.runner import Options


def plan(*steps: Step) -> Plan:
    return Plan("test", "test plan", steps)


def tables(conn: psycopg.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'x'")}


@pytest.fixture
def x_schema(conn):
    conn.execute("CREATE SCHEMA x")
    return conn


def test_tty_confirmation_declined_changes_nothing(x_schema):
    p = plan(Step("CREATE TABLE x.a (i int)"))
    asked = []
    with pytest.raises(Refused, match="cancelled"):
        runner.apply(
            x_schema,
            p,
            Options(interactive=True),
            confirm=lambda pl, label: asked.append(pl) or False,
        )
    assert asked == [p] and tables(x_schema) == set()


def test_tty_confirmation_accepted_applies(x_schema):
    out = runner.apply(
        x_schema,
        plan(Step("CREATE TABLE x.a (i int)")),
        Options(interactive=True),
        confirm=lambda pl, label: True,
    )
    assert out.status == "applied" and tables(x_schema) == {"a"}


def test_a_failing_step_rolls_back_its_transaction(x_schema):
    p = plan(Step("CREATE TABLE x.a (i int)"), Step("CREATE TABLE x.a (i int)"))
    with pytest.raises(psycopg.errors.DuplicateTable):
        runner.apply(x_schema, p, Options(yes=True))
    assert tables(x_schema) == set()
    outcome = x_schema.execute("SELECT outcome, error FROM auroractl.operations").fetchone()
    assert outcome[0] == "failed" and "already exists" in outcome[1]


def test_autocommit_step_runs_outside_a_transaction(x_schema):
    x_schema.execute("CREATE TABLE x.t (i int)")
    p = plan(Step("CREATE INDEX CONCURRENTLY t_i ON x.t (i)", autocommit=True))
    assert runner.apply(x_schema, p, Options(yes=True)).status == "applied"
    assert x_schema.execute("SELECT to_regclass('x.t_i') IS NOT NULL").fetchone()[0]


def test_session_settings_come_from_config(dsn, monkeypatch):
    monkeypatch.setenv("AURORACTL_LOCK_TIMEOUT", "750ms")
    monkeypatch.setenv("AURORACTL_STATEMENT_TIMEOUT", "5min")
    s = config.load()
    with db.connect(config.resolve_target(s), s) as conn:
        got = conn.execute(
            "SELECT current_setting('lock_timeout'), "
            "current_setting('statement_timeout'), "
            "current_setting('application_name')"
        ).fetchone()
    assert got == ("750ms", "5min", "auroractl")


def test_statement_timeout_cancels_long_statements(dsn, monkeypatch):
    monkeypatch.setenv("AURORACTL_STATEMENT_TIMEOUT", "100ms")
    s = config.load()
    with (
        db.connect(config.resolve_target(s), s) as conn,
        pytest.raises(psycopg.errors.QueryCanceled),
    ):
        conn.execute("SELECT pg_sleep(2)")
