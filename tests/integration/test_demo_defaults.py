"""No demo default on a database that is not the demo: on the English schema the commands
take what they need from its data map, and without one they refuse and change nothing;
on the local sandbox (the demo) the demo's names still stand in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from auroractl import config
from auroractl.ops import datamap as datamap_ops
from auroractl.ops import sandbox as sandbox_ops
from auroractl.sandbox import ADMIN_ROLE, DBNAME, LocalCluster
from tests.conftest import TEMPLATE_DB, superuser


def fingerprint(conn: psycopg.Connection) -> tuple:
    """Relations, policies, triggers, RLS flags and roles: what these commands change."""
    return conn.execute(
        "SELECT (SELECT md5(string_agg(format('%s.%s:%s:%s:%s', n.nspname, c.relname,"
        " c.relkind, c.relrowsecurity, c.relforcerowsecurity), ',' ORDER BY 1))"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')),"
        " (SELECT count(*) FROM pg_policies), (SELECT count(*) FROM pg_trigger),"
        " (SELECT count(*) FROM pg_roles)"
    ).fetchone()


@pytest.fixture
def en(en_dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(en_dsn, autocommit=True) as conn:
        yield conn


# -- the English schema without a data map: refused, unchanged -------------------------

WITHOUT_MAP = [
    ("audit", "enable", "--all", "--yes"),
    ("audit", "enable", "shop.people", "--dry-run"),
    ("audit", "status"),
    ("webhooks", "subscribe", "p", "shop.people", "--url", "https://h.example/p", "--yes"),
    ("graphql", "check", "--schema", "shop"),
    ("rls", "enable", "--all", "--yes"),
    ("rls", "disable", "--all", "--yes"),
    ("rls", "status"),
    ("rls", "verify", "--sample", "1"),
]


@pytest.mark.parametrize("args", WITHOUT_MAP, ids=" ".join)
def test_without_a_map_each_refuses_and_changes_nothing(args, cli, en):
    if args[0] == "webhooks":
        assert cli("webhooks", "install", "--yes").exit_code == 0
    before = fingerprint(en)
    result = cli(*args)
    assert result.exit_code == 3, (result.exit_code, result.stderr)
    assert "no data map" in result.stderr and "auroractl map propose" in result.stderr
    assert "empresa_id" not in result.stderr
    assert result.stderr.count("\n") <= 2  # the error, and its hint
    as_json = cli(*args, "--format", "json")
    assert json.loads(as_json.stdout)["exit_code"] == 3
    assert fingerprint(en) == before


def test_rls_without_a_map_names_the_override_too(cli, en):
    result = cli("rls", "status")
    assert "(or set [rls] column)" in result.stderr


WITHOUT_NAMES = [
    (("partition", "create", "--year", "2026", "--yes"), "give the table"),
    (("partition", "status"), "give the table"),
    (("partition", "migrate", "prep", "--column", "placed_at", "--yes"), "give the table"),
    (("partition", "migrate", "prep", "shop.orders", "--yes"), "give --column"),
    (("encrypt", "backfill", "--column", "ssn", "--yes"), "give the table"),
    (("encrypt", "backfill", "shop.people", "--yes"), "give --column"),
    (("metrics", "apply", "--yes"), "give [metrics] table"),
    (("matview", "create", "dashboard", "--yes"), "give [matviews.dashboard]"),
    (("schema", "split", "apply", "--yes"), "give [schema_split.schemas]"),
]


@pytest.mark.parametrize(("args", "message"), WITHOUT_NAMES, ids=lambda a: " ".join(a))
def test_without_the_names_each_refuses_and_changes_nothing(args, message, cli, en):
    before = fingerprint(en)
    result = cli(*args)
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert message in result.stderr and "only on the local sandbox" in result.stderr
    assert fingerprint(en) == before


def test_old_personal_column_settings_are_refused_naming_the_map(cli, en, en_map, tmp_path):
    (tmp_path / "auroractl.toml").write_text('[webhooks]\nexclude_columns = ["ssn"]\n')
    assert cli("webhooks", "install", "--yes").exit_code == 0
    before = fingerprint(en)
    result = cli("webhooks", "subscribe", "p", "shop.people", "--url", "https://h.example/p")
    assert result.exit_code == 2 and "[webhooks] exclude_columns" in result.stderr
    assert fingerprint(en) == before


# -- the English schema with its data map ----------------------------------------------


def test_audit_status_and_payloads_follow_the_map(cli, en, en_map):
    assert cli("audit", "enable", "shop.staff", "--yes").exit_code == 0
    status = json.loads(cli("audit", "status", "--format", "json").stdout)
    staff = next(t for t in status["tables"] if t["table"] == "shop.staff")
    assert staff["audited"] and staff["current"]
    assert {"full_name", "national_id", "national_id_encrypted"} <= set(staff["personal_columns"])
    assert cli("webhooks", "install", "--yes").exit_code == 0
    sub = cli("webhooks", "subscribe", "s", "shop.staff", "--url", "https://h.example/s", "--yes")
    assert sub.exit_code == 0, sub.stderr
    en.execute(
        "INSERT INTO shop.staff (tenant_id, full_name, national_id, national_id_encrypted)"
        " SELECT tenant_id, 'Canary Staff', '999-canary', '\\xcafe' FROM shop.staff LIMIT 1"
    )
    (payload,) = en.execute("SELECT payload FROM webhook_events").fetchone()
    assert "hired_on" in payload["row"]
    text = json.dumps(payload)
    assert "Canary Staff" not in text and "999-canary" not in text
    assert "national_id_encrypted" not in payload["row"]


def test_rls_and_graphql_agree_on_the_maps_tenant_key(cli, en, en_map):
    """The map's main tenant key is shop's uuid tenant_id: graphql check calls the tables
    that carry it tenant tables, blocking until `rls enable --all` covers them."""
    args = ("graphql", "check", "--schema", "shop", "--role", "no_role_in_demo_defaults")
    before = {t["label"]: t for t in json.loads(cli(*args, "--format", "json").stdout)["relations"]}
    assert before["shop.orders"]["tenant"] and before["shop.orders"]["rls"] == "off"
    assert not before["shop.tenants"]["tenant"]
    assert not before["shop.support_tickets"]["tenant"]  # another key (tenant_code)
    enabled = cli("rls", "enable", "--all", "--yes")
    assert enabled.exit_code == 0, enabled.stderr
    after = {t["label"]: t for t in json.loads(cli(*args, "--format", "json").stdout)["relations"]}
    assert all(
        t["rls"] == "forced" for t in after.values() if t["tenant"] and t["kind"] != "partition"
    )
    (setting,) = en.execute(
        "SELECT DISTINCT qual FROM pg_policies WHERE policyname = 'auroractl_tenant_isolation'"
    ).fetchone()
    assert "app.current_tenant_id" in setting and "empresa" not in setting


def test_partition_migrate_prep_by_tenant_takes_the_maps_column(cli, en, en_map):
    en.execute("CREATE TABLE shop.visits (id int PRIMARY KEY, tenant_id text NOT NULL)")
    en.execute("INSERT INTO shop.visits VALUES (1, 'acme'), (2, 'globex')")
    args = ("partition", "migrate", "prep", "shop.visits", "--by", "tenant")
    result = cli(*args, "--dry-run", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert "--column tenant_id" in json.loads(result.stdout)["command"]


# -- the sandbox is the demo: its defaults still apply ---------------------------------


@pytest.fixture
def sandbox(
    cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[psycopg.Connection]:
    """No target configured, so auroractl uses "the sandbox": here a fresh demo database
    named as the sandbox's, on the test cluster's port."""
    with superuser(cluster) as su:
        # another test's `cron` fixture may have bootstrapped a database of that name
        su.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DBNAME))
        )
        su.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {}").format(
                sql.Identifier(DBNAME), sql.Identifier(TEMPLATE_DB), sql.Identifier(ADMIN_ROLE)
            )
        )
    monkeypatch.setenv("AURORACTL_SANDBOX_PORT", str(cluster.port))
    monkeypatch.setenv("AURORACTL_SANDBOX_DIR", str(tmp_path / "sandbox"))  # its map's home
    try:
        with psycopg.connect(cluster.conninfo(DBNAME), autocommit=True) as conn:
            # as `sandbox up` does: the sandbox's own map in its directory
            path = sandbox_ops.map_path(config.load())
            path.parent.mkdir(parents=True, exist_ok=True)
            sandbox_ops.write_map(conn, path, lambda c: datamap_ops.propose(c).map)
            yield conn
    finally:
        with superuser(cluster) as su:
            su.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DBNAME))
            )


def test_on_the_sandbox_the_demos_names_still_apply(cli, sandbox):
    created = cli("partition", "create", "--year", "2026", "--yes")
    assert created.exit_code == 0, created.stderr
    assert "using the local sandbox" in created.stderr
    assert sandbox.execute("SELECT to_regclass('contratos_2026')").fetchone()[0]
    assert cli("audit", "enable", "usuarios", "--yes").exit_code == 0
    sandbox.execute("UPDATE usuarios SET telefone = 'canary-phone' WHERE id = 1")
    (redacted,) = sandbox.execute("SELECT redacted_columns FROM audit.audit_log").fetchone()
    assert redacted == ["telefone"]
    status = cli("rls", "status", "--format", "json")
    assert status.exit_code == 1 and json.loads(status.stdout)["column"] == "empresa_id"
    for args in (
        ("encrypt", "backfill", "--dry-run"),
        ("metrics", "apply", "--dry-run"),
        ("matview", "create", "dashboard", "--dry-run"),
        ("schema", "split", "plan"),
        ("partition", "migrate", "prep", "alunos", "--by", "tenant", "--dry-run"),
        ("graphql", "check"),
    ):
        result = cli(*args)
        assert result.exit_code in (0, 1), (args, result.stderr)  # graphql: 1, no RLS yet
