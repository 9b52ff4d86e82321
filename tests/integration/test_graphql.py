"""auroractl graphql check: the tenant column from the data map or [rls] column, unknown
schemas refused."""

from __future__ import annotations

import json


def _tables(res) -> dict:  # type: ignore[no-untyped-def]
    return {t["label"]: t for t in json.loads(res.stdout)["relations"]}


def test_tenant_tables_follow_the_data_map_or_the_rls_column(cli, conn, tmp_path, demo_map):
    conn.execute("CREATE SCHEMA shop")
    conn.execute("CREATE TABLE shop.accounts (id int PRIMARY KEY, tenant_id uuid NOT NULL)")
    conn.execute("CREATE TABLE shop.notes (id int PRIMARY KEY, empresa_id int)")
    res = cli("graphql", "check", "--schema", "shop", "--format", "json")
    by_table = _tables(res)
    # The demo's data map: empresa_id is the tenant key, so only shop.notes is a tenant table.
    assert by_table["shop.notes"]["tenant"] and not by_table["shop.accounts"]["tenant"]

    (tmp_path / "auroractl.toml").write_text('[rls]\ncolumn = "tenant_id"\n')
    res = cli("graphql", "check", "--schema", "shop", "--format", "json")
    assert res.exit_code == 1, res.stderr  # tenant table without RLS
    by_table = _tables(res)
    assert by_table["shop.accounts"]["tenant"] and by_table["shop.accounts"]["rls"] == "off"
    assert not by_table["shop.notes"]["tenant"] and by_table["shop.notes"]["rls"] == "n/a"


def test_a_schema_that_does_not_exist_is_an_error(cli, conn, demo_map):
    res = cli("graphql", "check", "--schema", "nosuch")
    assert res.exit_code == 2
    assert "schema nosuch does not exist" in res.stderr
    assert res.stdout == ""
    res = cli("graphql", "check", "--schema", "public", "--schema", "nosuch", "--format", "json")
    assert res.exit_code == 2
    assert "nosuch" in res.stderr and "public" not in res.stderr.split("does not exist")[0]
