"""rls enable/status/verify/disable against a real PostgreSQL, as the non-superuser owner."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import psycopg
import pytest

TENANT_TABLES = {"alunos", "escolas", "professores", "usuarios", "ai_preferences", "contratos"}


def add_second_tenant(conn: psycopg.Connection) -> int:
    """A second empresa with a few rows in every tenant table."""
    eid = conn.execute(
        "INSERT INTO empresas (nome, cnpj) VALUES ('Outra', '99999999000199') RETURNING id"
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO escolas (empresa_id, nome) SELECT %s, 'E' || g FROM generate_series(1, 3) g",
        [eid],
    )
    esc = conn.execute("SELECT min(id) FROM escolas WHERE empresa_id = %s", [eid]).fetchone()[0]
    conn.execute(
        "INSERT INTO alunos (empresa_id, escola_id, nome, matricula) "
        "SELECT %s, %s, 'A' || g, 'M' || g FROM generate_series(1, 5) g",
        [eid, esc],
    )
    conn.execute(
        "INSERT INTO professores (empresa_id, escola_id, nome) VALUES (%s, %s, 'P')", [eid, esc]
    )
    uid = conn.execute(
        "INSERT INTO usuarios (empresa_id, nome, email) VALUES (%s, 'U', 'u@outra') RETURNING id",
        [eid],
    ).fetchone()[0]
    conn.execute("INSERT INTO ai_preferences (empresa_id, usuario_id) VALUES (%s, %s)", [eid, uid])
    conn.execute(
        "INSERT INTO contratos (empresa_id, numero, data_inicio, valor_total) "
        "VALUES (%s, 'C1', '2024-03-01', 10), (%s, 'C2', '2030-01-01', 5)",
        [eid, eid],
    )
    return eid


def first_tenant(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT min(id) FROM empresas").fetchone()[0]


def policies(conn: psycopg.Connection, table: str) -> dict[str, tuple]:
    rows = conn.execute(
        "SELECT policyname, roles::text[], cmd, qual IS NOT NULL, with_check IS NOT NULL "
        "FROM pg_policies WHERE tablename = %s",
        [table],
    ).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def flags(conn: psycopg.Connection, table: str) -> tuple[bool, bool]:
    return conn.execute(
        "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass",
        [table],
    ).fetchone()


def app_count(conn: psycopg.Connection, table: str, setting: str | None) -> int:
    """Rows visible as application_user with the tenant setting (None: never set)."""
    with conn.transaction():
        conn.execute("SET LOCAL ROLE application_user")
        if setting is not None:
            conn.execute("SELECT set_config('app.current_empresa_id', %s, true)", [setting])
        n = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        conn.execute("RESET ROLE")
    return n


@pytest.fixture
def enabled(cli, dsn, conn, demo_map):
    other = add_second_tenant(conn)
    result = cli("rls", "enable", "--all", "--yes")
    assert result.exit_code == 0, result.stderr
    return first_tenant(conn), other


def test_status_before_enable_exits_nonzero(cli, dsn, demo_map):
    result = cli("rls", "status", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    names = {t["table"].split(".")[1] for t in data["tables"]}
    assert names >= TENANT_TABLES
    assert not any(t["covered"] for t in data["tables"] if t["table"] == "public.alunos")


def test_dry_run_changes_nothing(cli, dsn, conn, demo_map):
    result = cli("rls", "enable", "--all", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "FORCE ROW LEVEL SECURITY" in result.stdout
    assert flags(conn, "alunos") == (False, False)
    assert policies(conn, "alunos") == {}


def test_enable_creates_role_policies_and_is_idempotent(cli, enabled, conn):
    for table in TENANT_TABLES:
        assert flags(conn, table) == (True, True), table
        pol = policies(conn, table)
        assert pol["auroractl_tenant_isolation"] == (["public"], "ALL", True, True)
        assert pol["auroractl_maintenance"][0] == ["aurora_admin"]
    role = conn.execute(
        "SELECT rolcanlogin, rolbypassrls, rolsuper FROM pg_roles "
        "WHERE rolname = 'application_user'"
    ).fetchone()
    assert role == (False, False, False)
    again = cli("rls", "enable", "--all", "--yes")
    assert again.exit_code == 0, again.stderr
    assert "nothing to do" in again.stderr
    status = cli("rls", "status", "--format", "json")
    # every table covered; what is left are the foreign keys that cross tenants
    assert status.exit_code == 1 and "not covered" not in status.stderr, status.stderr
    assert "foreign key(s) cross tenants" in status.stderr
    data = json.loads(status.stdout)
    assert all(t["covered"] for t in data["tables"])


@pytest.mark.parametrize("table", sorted(TENANT_TABLES))
def test_fail_closed_for_unset_empty_and_garbage(enabled, conn, table):
    _, other = enabled
    for setting in (None, "", "abc", "1 OR true", "99999999999999999999999", " "):
        assert app_count(conn, table, setting) == 0, (table, setting)
    mine = app_count(conn, table, str(other))
    with conn.transaction():
        conn.execute("SET LOCAL auroractl.maintenance = on")
        truth = conn.execute(
            f"SELECT count(*) FROM {table} WHERE empresa_id = %s", [other]
        ).fetchone()[0]
    assert mine == truth > 0


@pytest.mark.parametrize("table", sorted(TENANT_TABLES))
def test_cross_tenant_writes_rejected(enabled, conn, table):
    tenant, other = enabled
    denied = pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security")
    with denied, conn.transaction():
        conn.execute("SET LOCAL ROLE application_user")
        conn.execute("SELECT set_config('app.current_empresa_id', %s, true)", [str(other)])
        conn.execute(f"UPDATE {table} SET empresa_id = %s", [tenant])
    with conn.transaction():
        conn.execute("SET LOCAL ROLE application_user")
        conn.execute("SELECT set_config('app.current_empresa_id', %s, true)", [str(other)])
        cur = conn.execute(f"DELETE FROM {table} WHERE empresa_id = %s", [tenant])
        assert cur.rowcount == 0
        conn.execute("RESET ROLE")


def test_insert_with_setting_unset_is_rejected(enabled, conn):
    tenant, _ = enabled
    denied = pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security")
    with denied, conn.transaction():
        conn.execute("SET LOCAL ROLE application_user")
        conn.execute("INSERT INTO escolas (empresa_id, nome) VALUES (%s, 'x')", [tenant])


def test_verify_passes_and_reports_a_matrix(cli, enabled):
    tenant, other = enabled
    result = cli("rls", "verify", "--tenants", f"{tenant},{other}", "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert {c["table"].split(".")[1] for c in data["checks"]} == TENANT_TABLES
    assert {c["result"] for c in data["checks"]} <= {"ok", "n/a"}
    assert any(c["check"] == "insert_other_tenant" and c["result"] == "ok" for c in data["checks"])
    table = cli("rls", "verify", "--tenants", f"{tenant},{other}")
    assert table.exit_code == 0
    assert "own_rows_only" in table.stdout


def test_verify_detects_a_leaky_policy(cli, enabled, conn):
    tenant, other = enabled
    conn.execute("CREATE POLICY leak ON alunos FOR SELECT USING (true)")
    result = cli("rls", "verify", "--tenants", f"{tenant},{other}", "--table", "alunos")
    assert result.exit_code == 1
    assert "LEAK" in result.stdout
    # verify rolled everything back
    from auroractl.ops import rls

    with rls.maintenance(conn):
        n = conn.execute("SELECT count(*) FROM alunos WHERE empresa_id = %s", [other]).fetchone()
    assert n == (5,)


def test_owner_is_bound_by_force_but_maintenance_sees_everything(cli, enabled, conn):
    from auroractl.ops import rls

    # aurora_admin owns the tables and is not a superuser: FORCE binds it.
    assert conn.execute(
        "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
    ).fetchone() == (False,)
    assert conn.execute("SELECT count(*) FROM alunos").fetchone()[0] == 0
    with rls.maintenance(conn):
        assert conn.execute("SELECT count(*) FROM alunos").fetchone()[0] == 4005
    assert conn.execute("SELECT count(*) FROM alunos").fetchone()[0] == 0


def test_maintenance_setting_does_nothing_for_the_app_role(enabled, conn):
    with conn.transaction():
        conn.execute("SET LOCAL ROLE application_user")
        conn.execute("SET LOCAL auroractl.maintenance = on")
        assert conn.execute("SELECT count(*) FROM alunos").fetchone()[0] == 0
        conn.execute("RESET ROLE")


def test_partition_create_after_enable_moves_every_default_row(cli, enabled, conn):
    from auroractl.ops import rls

    with rls.maintenance(conn):
        before = conn.execute("SELECT count(*) FROM contratos").fetchone()[0]
    result = cli("partition", "create", "contratos", "--year", "2030", "--yes")
    assert result.exit_code == 0, result.stderr
    with rls.maintenance(conn):
        assert conn.execute("SELECT count(*) FROM contratos").fetchone()[0] == before
        assert conn.execute("SELECT count(*) FROM contratos_2030").fetchone()[0] == 1


def test_disable(cli, enabled, conn):
    result = cli("rls", "disable", "--table", "alunos", "--yes")
    assert result.exit_code == 0, result.stderr
    assert flags(conn, "alunos") == (False, False)
    assert policies(conn, "alunos") == {}
    status = cli("rls", "status")
    assert status.exit_code == 1
    assert "alunos" in status.stderr


def test_bad_input(cli, dsn, demo_map):
    assert cli("rls", "enable", "--table", "nope", "--yes").exit_code == 2
    assert cli("rls", "enable", "--table", "empresas", "--yes").exit_code == 3
    assert cli("rls", "enable", "--yes").exit_code == 2
    assert cli("rls", "verify", "--tenants", "a,b").exit_code == 2


def test_enable_warns_without_a_tenant_index_and_status_names_bypassers(cli, dsn, conn, demo_map):
    conn.execute("DROP INDEX alunos_empresa_id_idx")
    before = json.loads(cli("rls", "status", "--format", "json").stdout)
    alunos = next(t for t in before["tables"] if t["table"] == "public.alunos")
    assert alunos["bypass"] == ["aurora_admin (owner, not forced)"]
    assert alunos["tenant_index"] is False
    result = cli("rls", "enable", "--table", "alunos", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "no index on public.alunos leads with empresa_id" in result.stderr
    after = json.loads(cli("rls", "status", "--format", "json").stdout)
    alunos = next(t for t in after["tables"] if t["table"] == "public.alunos")
    assert alunos["covered"] and alunos["bypass"] == []


def test_dry_run_format_json_is_one_document(cli, dsn, conn, demo_map):
    result = cli("rls", "enable", "alunos", "--table", "escolas", "--dry-run", "--format", "json")
    assert result.exit_code == 0, result.stderr
    preview = json.loads(result.stdout)
    assert preview["status"] == "dry-run"
    assert preview["summary"] == "enable + force RLS on public.alunos, public.escolas"
    assert any("FORCE ROW LEVEL SECURITY" in s["sql"] for s in preview["steps"])
    assert flags(conn, "alunos") == (False, False)
    applied = cli("rls", "enable", "alunos", "--yes", "--format", "json")
    assert json.loads(applied.stdout)["status"] == "applied"
    again = cli("rls", "enable", "--table", "alunos", "--yes", "--format", "json")
    assert json.loads(again.stdout)["status"] == "nothing-to-do"


# ---------------------------------------------------------------- tenant keys of any type

# Two tenants per key type; the first has 3 rows in its table, the second 2.
KEYS = {
    "integer": ("1", "2"),
    "bigint": ("9000000000000000001", "2"),
    "uuid": ("0e37df36-f698-11e6-8dd4-cb9ced3df976", "5b2f1c2e-1111-4a4a-9b9b-000000000002"),
    "text": ("acme", "globex"),
}
# Unset, empty and malformed settings: no row visible, no row writable, never an error.
UNUSABLE = (
    None,
    "",
    " ",
    "abc",
    "1 OR true",
    "99999999999999999999",
    "0e37df36f69811e68dd4cb9ced3df976",  # a uuid, but not in its canonical form
)


def typed_config(tmp_path, monkeypatch, **rls_keys: str) -> None:
    keys = {"column": "tenant_key", "setting": "app.tenant", **rls_keys}
    path = tmp_path / "auroractl.toml"
    path.write_text("[rls]\n" + "".join(f'{k} = "{v}"\n' for k, v in keys.items()))
    monkeypatch.setenv("AURORACTL_CONFIG", str(path))


def typed_tables(conn: psycopg.Connection, types=tuple(KEYS)) -> None:
    """Schema k: one table per key type, keyed by tenant_key, with both tenants' rows."""
    conn.execute("CREATE SCHEMA IF NOT EXISTS k")
    for kind in types:
        conn.execute(
            f"CREATE TABLE k.t_{kind} (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
            f"tenant_key {kind} NOT NULL, "
            "note text NOT NULL DEFAULT 'n')"
        )
        conn.execute(f"CREATE INDEX ON k.t_{kind} (tenant_key)")
        first, second = KEYS[kind]
        conn.execute(
            f"INSERT INTO k.t_{kind} (tenant_key) VALUES (%s), (%s), (%s), (%s), (%s)",
            [first, first, first, second, second],
        )


@contextlib.contextmanager
def as_app(conn: psycopg.Connection, setting: str | None) -> Iterator[None]:
    """A transaction as application_user with app.tenant set (None: unset); rolled back."""
    with conn.transaction(force_rollback=True):
        conn.execute("SET LOCAL ROLE application_user")
        if setting is not None:
            conn.execute("SELECT set_config('app.tenant', %s, true)", [setting])
        yield


@pytest.fixture
def typed(cli, dsn, conn, tmp_path, monkeypatch):
    typed_config(tmp_path, monkeypatch)
    typed_tables(conn)
    result = cli("rls", "enable", "--all", "--yes")
    assert result.exit_code == 0, result.stderr
    return conn


def rejected():
    return pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security")


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_each_key_type_shows_a_tenant_exactly_its_rows(typed, kind):
    conn, table = typed, f"k.t_{kind}"
    for tenant, expected in zip(KEYS[kind], (3, 2), strict=True):
        with as_app(conn, tenant):
            keys = conn.execute(f"SELECT tenant_key::text FROM {table}").fetchall()
        assert [k for (k,) in keys] == [tenant] * expected, (kind, tenant)
    for setting in UNUSABLE:
        with as_app(conn, setting):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), setting


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_each_key_type_refuses_writes_without_the_right_tenant(typed, kind):
    conn, table = typed, f"k.t_{kind}"
    first, second = KEYS[kind]
    insert = f"INSERT INTO {table} (tenant_key) VALUES (%s)"
    with as_app(conn, first):
        conn.execute(insert, [first])  # the tenant itself may write its own rows
        with rejected(), conn.transaction():
            conn.execute(insert, [second])
        with rejected(), conn.transaction():
            conn.execute(f"UPDATE {table} SET tenant_key = %s", [second])
        assert conn.execute(f"DELETE FROM {table} WHERE tenant_key = %s", [second]).rowcount == 0
    for setting in UNUSABLE:
        with as_app(conn, setting):
            with rejected(), conn.transaction():
                conn.execute(insert, [first])
            assert conn.execute(f"UPDATE {table} SET note = 'x'").rowcount == 0
            assert conn.execute(f"DELETE FROM {table}").rowcount == 0


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_each_key_type_gets_its_own_policy_and_verify_passes(cli, typed, kind):
    status = json.loads(cli("rls", "status", "--format", "json").stdout)
    row = next(t for t in status["tables"] if t["table"] == f"k.t_{kind}")
    assert row["covered"] and row["key_type"] == kind
    tenants = ",".join(KEYS[kind])
    result = cli("rls", "verify", f"k.t_{kind}", "--tenants", tenants, "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    checks = json.loads(result.stdout)["checks"]
    assert {c["result"] for c in checks} == {"ok"}, checks
    assert len(checks) == 2 * 8


def test_verify_samples_tenants_from_the_tables_or_the_root(cli, typed, tmp_path, monkeypatch):
    every_key = {k for pair in KEYS.values() for k in pair}
    result = cli("rls", "verify", "--sample", "4", "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    sampled = json.loads(result.stdout)["tenants"]
    assert len(sampled) == 4 and set(sampled) <= every_key
    typed.execute("CREATE TABLE k.tenants (id uuid PRIMARY KEY, name text)")
    typed.execute("INSERT INTO k.tenants VALUES (%s, 'a'), (%s, 'b')", list(KEYS["uuid"]))
    typed_config(tmp_path, monkeypatch, root="k.tenants")
    result = cli("rls", "verify", "--sample", "5", "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert sorted(json.loads(result.stdout)["tenants"]) == sorted(KEYS["uuid"])
    # a tenant of the tables but not of the root does not exist
    result = cli("rls", "verify", "--tenants", "acme")
    assert result.exit_code == 2 and "tenant acme does not exist in k.tenants" in result.stderr


def test_verify_refuses_unknown_tenants_and_bad_samples(cli, typed):
    for args in (("--tenants", "999999"), ("--tenants", "1,999999")):
        result = cli("rls", "verify", *args)
        assert result.exit_code == 2, args
        assert "tenant 999999 does not exist in any tenant table" in result.stderr
    for n in ("0", "-1"):
        result = cli("rls", "verify", "--sample", n)
        assert result.exit_code == 2 and "--sample must be at least 1" in result.stderr
    assert cli("rls", "verify", "--sample", "1", "--tenants", "1").exit_code == 2


def test_an_unsupported_key_type_is_refused_in_one_line(cli, dsn, conn, tmp_path, monkeypatch):
    typed_config(tmp_path, monkeypatch)
    typed_tables(conn, ("uuid",))
    conn.execute("CREATE TABLE k.t_numeric (id int PRIMARY KEY, tenant_key numeric(10, 0))")
    for args in (("--table", "k.t_numeric"), ("--all",)):
        result = cli("rls", "enable", *args, "--yes")
        assert result.exit_code == 3, result.stderr
        assert "k.t_numeric.tenant_key is numeric(10,0)" in result.stderr
        assert len(result.stderr.strip().splitlines()) <= 2  # the error, and maybe a hint
    assert flags(conn, "k.t_uuid") == (False, False)
    status = json.loads(cli("rls", "status", "--format", "json").stdout)
    numeric = next(t for t in status["tables"] if t["table"] == "k.t_numeric")
    assert not numeric["covered"] and "not a supported tenant key type" in numeric["note"]


def test_a_schema_without_the_tenant_column_is_refused(cli, dsn, tmp_path, monkeypatch):
    typed_config(tmp_path, monkeypatch, column="nosuch_col")
    status = cli("rls", "status")
    assert status.exit_code == 3
    assert "no table has the tenant column nosuch_col" in status.stderr
    for verb in ("enable", "disable"):
        result = cli("rls", verb, "--all", "--yes")
        assert result.exit_code == 3 and "nosuch_col" in result.stderr, verb
    assert cli("rls", "enable", "--all", "--dry-run").exit_code == 3
    assert cli("rls", "enable", "--table", "nope", "--yes").exit_code == 2
    as_json = cli("rls", "status", "--format", "json")
    assert as_json.exit_code == 3 and json.loads(as_json.stdout)


def test_demo_verify_samples_real_empresas(cli, enabled, tmp_path, monkeypatch):
    tenant, other = enabled
    # the data map's root, public.empresas
    result = cli("rls", "verify", "--sample", "5", "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert sorted(json.loads(result.stdout)["tenants"]) == sorted([str(tenant), str(other)])
    # [rls] column overrides the map's key: no root, so the tenant tables' values
    typed_config(tmp_path, monkeypatch, column="empresa_id", setting="app.current_empresa_id")
    result = cli("rls", "verify", "--sample", "1", "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["tenants"][0] in (str(tenant), str(other))
    assert cli("rls", "verify", "--tenants", "999999").exit_code == 2


def test_rls_section_keys_without_its_column_are_refused(cli, dsn, demo_map, tmp_path, monkeypatch):
    typed_config(tmp_path, monkeypatch)
    (tmp_path / "auroractl.toml").write_text('[rls]\nroot = "public.empresas"\n')
    result = cli("rls", "status")
    assert result.exit_code == 2 and "[rls] root goes with [rls] column" in result.stderr


def test_rls_column_overrides_the_data_map_and_says_so(
    cli, dsn, conn, demo_map, tmp_path, monkeypatch
):
    typed_config(tmp_path, monkeypatch)
    typed_tables(conn, ("integer",))
    result = cli("rls", "status", "--format", "json")
    assert result.exit_code == 1  # k.t_integer is not covered yet
    assert "[rls] column tenant_key overrides the data map's empresa_id" in result.stderr
    assert [t["table"] for t in json.loads(result.stdout)["tables"]] == ["k.t_integer"]


def test_the_app_role_can_insert_into_serial_and_nextval_keys(cli, dsn, conn, demo_map):
    """A serial key and a plain DEFAULT nextval(): the application role gets USAGE on their
    sequences (identity keys need none), so its own-tenant INSERT succeeds."""
    conn.execute("CREATE SEQUENCE nota_seq")
    conn.execute(
        "CREATE TABLE notas (id serial PRIMARY KEY, numero bigint DEFAULT nextval('nota_seq'),"
        " empresa_id integer NOT NULL REFERENCES empresas (id))"
    )
    assert cli("rls", "enable", "--table", "notas", "--yes").exit_code == 0
    tenant = first_tenant(conn)
    with conn.transaction():
        conn.execute("SET LOCAL ROLE application_user")
        conn.execute("SELECT set_config('app.current_empresa_id', %s, true)", [str(tenant)])
        conn.execute("INSERT INTO notas (empresa_id) VALUES (%s)", [tenant])
        conn.execute("RESET ROLE")
    assert app_count(conn, "notas", str(tenant)) == 1
    again = cli("rls", "enable", "--table", "notas", "--dry-run")
    assert "SEQUENCE" not in again.stdout  # granted once
