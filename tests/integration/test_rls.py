"""rls enable/status/verify/disable against a real PostgreSQL, as the non-superuser owner."""

from __future__ import annotations

import json

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
def enabled(cli, dsn, conn):
    other = add_second_tenant(conn)
    result = cli("rls", "enable", "--all", "--yes")
    assert result.exit_code == 0, result.stderr
    return first_tenant(conn), other


def test_status_before_enable_exits_nonzero(cli, dsn):
    result = cli("rls", "status", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    names = {t["table"].split(".")[1] for t in data["tables"]}
    assert names >= TENANT_TABLES
    assert not any(t["covered"] for t in data["tables"] if t["table"] == "public.alunos")


def test_dry_run_changes_nothing(cli, dsn, conn):
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
    assert status.exit_code == 0, status.stdout
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
    result = cli("partition", "create", "--year", "2030", "--yes")
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


def test_bad_input(cli, dsn):
    assert cli("rls", "enable", "--table", "nope", "--yes").exit_code == 2
    assert cli("rls", "enable", "--table", "empresas", "--yes").exit_code == 3
    assert cli("rls", "enable", "--yes").exit_code == 2
    assert cli("rls", "verify", "--tenants", "a,b").exit_code == 2


def test_enable_warns_without_a_tenant_index_and_status_names_bypassers(cli, dsn, conn):
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


def test_dry_run_format_json_is_one_document(cli, dsn, conn):
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
