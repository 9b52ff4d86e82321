"""auroractl graphql check: the tenant column from the data map or [rls] column, unknown
schemas refused."""

from __future__ import annotations

import json


def _tables(res) -> dict:  # type: ignore[no-untyped-def]
    return {t["label"]: t for t in json.loads(res.stdout)["relations"]}


def test_tenant_tables_follow_the_data_map_or_the_rls_column(cli, conn, dbname, tmp_path, demo_map):
    role = f"gql_{dbname}"  # roles are cluster-wide: one per test database
    conn.execute("CREATE SCHEMA shop")
    conn.execute("CREATE TABLE shop.accounts (id int PRIMARY KEY, tenant_id uuid NOT NULL)")
    conn.execute("CREATE TABLE shop.notes (id int PRIMARY KEY, empresa_id int)")
    conn.execute(f'CREATE ROLE "{role}" NOLOGIN')
    conn.execute(f'GRANT USAGE ON SCHEMA shop TO "{role}"')
    conn.execute(f'GRANT SELECT ON shop.accounts, shop.notes TO "{role}"')
    try:
        _follow(cli, tmp_path, ("--schema", "shop", "--role", role, "--format", "json"))
    finally:
        conn.execute(f'REVOKE ALL ON shop.accounts, shop.notes FROM "{role}"')
        conn.execute(f'REVOKE ALL ON SCHEMA shop FROM "{role}"; DROP ROLE "{role}"')


def _follow(cli, tmp_path, args) -> None:  # type: ignore[no-untyped-def]
    res = cli("graphql", "check", *args)
    by_table = _tables(res)
    # The demo's data map: empresa_id is the tenant key, so only shop.notes is a tenant table.
    assert by_table["shop.notes"]["tenant"] and not by_table["shop.accounts"]["tenant"]

    assert res.exit_code == 1  # notes: a served tenant table without RLS
    (tmp_path / "auroractl.toml").write_text('[rls]\ncolumn = "tenant_id"\n')
    res = cli("graphql", "check", *args)
    assert res.exit_code == 1, res.stderr  # accounts: a served tenant table without RLS
    assert {(f["relation"], f["kind"]) for f in json.loads(res.stdout)["findings"]} == {
        ("shop.accounts", "rls_off")
    }
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


def test_config_is_idempotent_and_refuses_bad_input(cli, conn, demo_map, tmp_path):
    out = tmp_path / "gql"
    dry = cli("graphql", "config", "--output", str(out), "--dry-run", "--format", "json")
    assert dry.exit_code == 0 and not out.exists()
    first = json.loads(cli("graphql", "config", "--output", str(out), "--format", "json").stdout)
    assert all(f["written"] for f in first["files"])
    again = json.loads(cli("graphql", "config", "--output", str(out), "--format", "json").stdout)
    assert not any(f["written"] for f in again["files"])  # nothing changed, nothing rewritten
    config = (out / "graphile.config.mjs").read_text()
    assert '"app.current_empresa_id"' in config and 'TENANT_CLAIM = "empresa_id"' in config
    tags = json.loads((out / "postgraphile.tags.json5").read_text())
    assert "email" in tags["config"]["class"]["public.usuarios"]["attribute"]

    (tmp_path / "a-file").write_text("x")
    for args, needle in (
        (("--output", str(tmp_path / "a-file")), "not a directory"),
        (("--output", str(out), "--claim", "a-b"), "plain name"),
        (("--output", str(out), "--secret-env", "x y"), "environment variable"),
        (("--output", str(out), "--port", "0"), "port"),
        (("--output", str(out), "--authenticator", "application_user"), "role of its own"),
    ):
        res = cli("graphql", "config", *args)
        assert res.exit_code == 2, (args, res.stderr)
        assert needle in res.stderr and "Traceback" not in res.stderr
    res = cli("graphql", "check", "--config", str(tmp_path / "nowhere"))
    assert res.exit_code == 2 and "graphql config --output" in res.stderr


def test_config_follows_the_maps_tenant_key_on_another_schema(cli, en_dsn, en_map, tmp_path):
    out = tmp_path / "gql"
    res = cli("graphql", "config", "--schema", "shop", "--output", str(out))
    assert res.exit_code == 0, res.stderr
    config = (out / "graphile.config.mjs").read_text()
    assert '"app.current_tenant_id"' in config and 'TENANT_CLAIM = "tenant_id"' in config
    assert "[0-9a-f]{8}-" in config  # a uuid key
    assert "empresa" not in config
    manifest = json.loads((out / "auroractl-graphql.json").read_text())
    assert manifest["schemas"] == ["shop"] and "shop.people" in manifest["hidden"]


def _kinds(res) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {(f["relation"], f["kind"]) for f in json.loads(res.stdout)["findings"]}


def test_a_security_definer_function_the_role_may_run_is_blocking(cli, conn, dbname, demo_map):
    """PostGraphile serves a function of the schema as a field, and a SECURITY DEFINER one
    runs as its owner: every tenant's escolas, whatever the token. Revoking EXECUTE (or
    SECURITY INVOKER) clears it; trigger functions are not served."""
    role = f"gql_{dbname}"  # roles are cluster-wide: one per test database
    conn.execute(f'CREATE ROLE "{role}" NOLOGIN')
    check = ("graphql", "check", "--role", role, "--format", "json")
    conn.execute(
        "CREATE FUNCTION todas_escolas() RETURNS SETOF escolas LANGUAGE sql STABLE "
        "SECURITY DEFINER SET search_path = public AS 'SELECT * FROM escolas'"
    )
    conn.execute(
        "CREATE FUNCTION minhas_escolas() RETURNS SETOF escolas LANGUAGE sql STABLE "
        "AS 'SELECT * FROM escolas'"
    )
    found = _kinds(cli(*check))
    assert ("public.todas_escolas()", "definer_function") in found
    assert not [f for f in found if f[0].startswith("public.minhas_escolas")]
    assert not [f for f in found if f[1] == "definer_function" and "webhook" in f[0]]
    conn.execute("REVOKE EXECUTE ON FUNCTION todas_escolas() FROM PUBLIC")
    found = _kinds(cli(*check))
    conn.execute("DROP FUNCTION todas_escolas(), minhas_escolas()")
    conn.execute(f'DROP ROLE "{role}"')
    assert not [f for f in found if f[1] == "definer_function"]
