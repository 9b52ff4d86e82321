"""Foreign keys between tenant tables that leave the tenant column out: `rls status` lists
them, and `rls fix-references` replaces them online by keys that pair the tenant column.

Foreign-key checks bypass row security, so before the fix an aluno of tenant 1 can point
at an escola of tenant 2 even as the application role with RLS forced; after it, the
database refuses that row."""

from __future__ import annotations

import contextlib
import json

import psycopg
import pytest

from auroractl.ops.shared.session import maintenance
from tests.conftest import superuser
from tests.integration.test_rls import add_second_tenant, first_tenant

DEMO_REFS = {
    "public.alunos.alunos_escola_id_fkey",
    "public.professores.professores_escola_id_fkey",
    "public.ai_preferences.ai_preferences_usuario_id_fkey",
    "public.contratos.contratos_aluno_id_fkey",
}


def refs(cli) -> set[str]:
    status = cli("rls", "status", "--format", "json")
    data = json.loads(status.stdout)
    return {f"{r['table']}.{r['constraint']}" for r in data["cross_tenant_refs"]}


def keys(conn: psycopg.Connection, table: str) -> dict[str, tuple[str, bool]]:
    """A table's foreign keys: name -> (definition, validated)."""
    rows = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f'",
        [table],
    ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def schema_state(conn: psycopg.Connection) -> tuple:
    """Every constraint and index with its definition: what the fix changes."""
    return conn.execute(
        "SELECT (SELECT string_agg(conrelid::regclass || ' ' || conname || ' ' "
        "|| pg_get_constraintdef(oid) || convalidated, ',' ORDER BY 1) FROM pg_constraint "
        "WHERE connamespace = 'public'::regnamespace), "
        "(SELECT string_agg(indexrelid::regclass::text, ',' ORDER BY 1) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indrelid "
        "WHERE c.relnamespace = 'public'::regnamespace)"
    ).fetchone()


def insert_aluno(conn: psycopg.Connection, tenant: int, escola: int) -> None:
    """An aluno of ``tenant`` at ``escola``, as the application role with the tenant set;
    rolled back, raising what the database raised."""
    with conn.transaction():
        conn.execute("SET LOCAL ROLE application_user")
        conn.execute("SELECT set_config('app.current_empresa_id', %s, true)", [str(tenant)])
        conn.execute(
            "INSERT INTO alunos (empresa_id, escola_id, nome, matricula) "
            "VALUES (%s, %s, 'X', 'MX')",
            [tenant, escola],
        )
        raise _RolledBack


class _RolledBack(Exception):
    pass


def try_insert(conn: psycopg.Connection, tenant: int, escola: int) -> None:
    """The insert, rolled back; what the database raised, raised."""
    with contextlib.suppress(_RolledBack):
        insert_aluno(conn, tenant, escola)


@pytest.fixture
def two_tenants(cli, dsn, conn, demo_map):
    """Two empresas, RLS enabled and forced on every tenant table: (tenant 1, tenant 2, an
    escola of 1, an escola of 2)."""
    other = add_second_tenant(conn)
    one = first_tenant(conn)
    escola = "SELECT min(id) FROM escolas WHERE empresa_id = %s"
    mine, theirs = (conn.execute(escola, [t]).fetchone()[0] for t in (one, other))
    assert cli("rls", "enable", "--all", "--yes").exit_code == 0
    return one, other, mine, theirs


def test_status_lists_the_cross_tenant_keys_and_exits_1(cli, dsn, conn, demo_map):
    status = cli("rls", "status", "--format", "json")
    assert status.exit_code == 1
    data = json.loads(status.stdout)
    found = {f"{r['table']}.{r['constraint']}": r for r in data["cross_tenant_refs"]}
    assert set(found) == DEMO_REFS  # keys to empresas, the tenant root, are not listed
    alunos = found["public.alunos.alunos_escola_id_fkey"]
    assert alunos["columns"] == ["escola_id"] and alunos["referenced_table"] == "public.escolas"
    assert alunos["referenced_columns"] == ["id"] and not alunos["referenced_partitioned"]
    assert "without empresa_id" in alunos["description"]
    assert found["public.ai_preferences.ai_preferences_usuario_id_fkey"]["on_delete"] == "CASCADE"
    assert found["public.contratos.contratos_aluno_id_fkey"]["partitioned"]
    text = cli("rls", "status")
    assert "Foreign keys that cross tenants" in text.stdout + text.stderr
    assert "rls fix-references" in text.stderr


def test_fix_closes_the_cross_tenant_reference(cli, conn, two_tenants):
    one, _, mine, theirs = two_tenants
    try_insert(conn, one, theirs)  # before: an aluno of tenant 1 at tenant 2's escola
    applied = cli("rls", "fix-references", "--all", "--yes", "--format", "json")
    assert applied.exit_code == 0, applied.stderr
    assert json.loads(applied.stdout)["status"] == "applied"
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        try_insert(conn, one, theirs)
    try_insert(conn, one, mine)  # the same tenant's escola still works
    fks = keys(conn, "alunos")
    assert "alunos_escola_id_fkey" not in fks
    assert fks["alunos_empresa_id_escola_id_fkey"] == (
        "FOREIGN KEY (empresa_id, escola_id) REFERENCES escolas(empresa_id, id)",
        True,
    )
    unique = conn.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'escolas'::regclass AND conname = 'escolas_empresa_id_id_key'"
    ).fetchone()
    assert unique == ("UNIQUE (empresa_id, id)",)
    cascade = keys(conn, "ai_preferences")["ai_preferences_empresa_id_usuario_id_fkey"]
    assert "ON DELETE CASCADE" in cascade[0] and cascade[1]
    assert refs(cli) == set()
    status = cli("rls", "status")
    assert status.exit_code == 0, status.stderr
    again = cli("rls", "fix-references", "--all", "--yes", "--format", "json")
    assert again.exit_code == 0 and json.loads(again.stdout)["status"] == "nothing-to-do"
    named = cli("rls", "fix-references", "--constraint", "alunos_empresa_id_escola_id_fkey")
    assert named.exit_code == 0 and "nothing to do" in named.stderr


def test_a_partitioned_table_gets_its_key_through_its_partitions(cli, conn, two_tenants):
    """contratos is partitioned: PostgreSQL 15 refuses a NOT VALID key on it, so each leaf
    partition gets the key validated and the parent's key attaches them."""
    one, other, _, _ = two_tenants
    assert cli("rls", "fix-references", "-c", "contratos_aluno_id_fkey", "--yes").exit_code == 0
    rows = conn.execute(
        "SELECT c.conrelid::regclass::text, c.convalidated, p.conname "
        "FROM pg_constraint c LEFT JOIN pg_constraint p ON p.oid = c.conparentid "
        "WHERE c.contype = 'f' AND pg_get_constraintdef(c.oid) LIKE "
        "'FOREIGN KEY (empresa_id, aluno_id) REFERENCES alunos(empresa_id, id)%'"
    ).fetchall()
    leaves = {r[0] for r in rows if r[2] == "contratos_empresa_id_aluno_id_fkey"}
    assert "contratos_default" in leaves and "contratos_2024" in leaves
    assert all(validated for _, validated, _ in rows)
    assert "contratos_aluno_id_fkey" not in keys(conn, "contratos")
    # an index leading with the new key on contratos: each partition's built CONCURRENTLY,
    # the parent's attaching them (valid once every partition's is attached)
    (valid, attached, parts) = conn.execute(
        "SELECT i.indisvalid, (SELECT count(*) FROM pg_inherits WHERE inhparent = i.indexrelid), "
        "(SELECT count(*) FROM pg_inherits WHERE inhparent = 'contratos'::regclass) "
        "FROM pg_index i WHERE i.indrelid = 'contratos'::regclass AND "
        "pg_get_indexdef(i.indexrelid) LIKE '%%(empresa_id, aluno_id)'"
    ).fetchone()
    assert valid and attached == parts > 1
    with maintenance(conn):
        aluno = "SELECT min(id) FROM alunos WHERE empresa_id = %s"
        aluno_of_other = conn.execute(aluno, [other]).fetchone()[0]
    with pytest.raises(psycopg.errors.ForeignKeyViolation), maintenance(conn):
        conn.execute(
            "INSERT INTO contratos (empresa_id, aluno_id, numero, data_inicio, valor_total) "
            "VALUES (%s, %s, 'X', '2024-05-01', 1)",
            [one, aluno_of_other],
        )
    # the rest is still to do, the unique key on alunos is there already
    assert refs(cli) == DEMO_REFS - {"public.contratos.contratos_aluno_id_fkey"}


def test_dry_run_changes_nothing(cli, conn, two_tenants):
    before = schema_state(conn)
    result = cli("rls", "fix-references", "--all", "--dry-run", "--format", "json")
    assert result.exit_code == 0, result.stderr
    plan = json.loads(result.stdout)
    sqls = [s["sql"] for s in plan["steps"]]
    assert any("CREATE UNIQUE INDEX CONCURRENTLY" in s for s in sqls)
    assert any("NOT VALID" in s for s in sqls) and any("VALIDATE CONSTRAINT" in s for s in sqls)
    assert all(s["autocommit"] for s in plan["steps"] if "CONCURRENTLY" in s["sql"])
    assert schema_state(conn) == before
    refused = cli("rls", "fix-references", "--all")  # no TTY, no --yes
    assert refused.exit_code == 4 and schema_state(conn) == before


def test_rows_that_already_cross_tenants_make_it_refuse(cli, conn, two_tenants):
    one, _, _, theirs = two_tenants
    with maintenance(conn):
        conn.execute(
            "INSERT INTO alunos (empresa_id, escola_id, nome, matricula) "
            "VALUES (%s, %s, 'Y', 'MY'), (%s, %s, 'Z', 'MZ')",
            [one, theirs, one, theirs],
        )
    before = schema_state(conn)
    for extra in ((), ("--dry-run",)):
        result = cli("rls", "fix-references", "--all", "--yes", *extra)
        assert result.exit_code == 3, result.stderr
        assert "2 row(s) of public.alunos point at another tenant's public.escolas row" in (
            result.stderr
        )
        assert "nothing was changed" in result.stderr and "SELECT t.* FROM" in result.stderr
    assert schema_state(conn) == before
    # another key, whose rows are fine, can still be fixed alone
    only = cli("rls", "fix-references", "-c", "ai_preferences_usuario_id_fkey", "--yes")
    assert only.exit_code == 0, only.stderr


def test_bad_choices(cli, dsn, demo_map):
    assert cli("rls", "fix-references", "--yes").exit_code == 2
    assert cli("rls", "fix-references", "--all", "-c", "x", "--yes").exit_code == 2
    unknown = cli("rls", "fix-references", "-c", 'no"such', "--yes")
    assert unknown.exit_code == 2 and "no foreign key named" in unknown.stderr
    # a key that pairs the tenant already (or one to the root) has nothing to do
    root = cli("rls", "fix-references", "-c", "alunos_empresa_id_fkey", "--yes")
    assert root.exit_code == 0 and "nothing to do" in root.stderr


def test_a_partitioned_referenced_table(cli, dsn, conn, demo_map):
    """A key to a partitioned table: each partition's unique index is built CONCURRENTLY
    and the parent's constraint attaches them."""
    conn.execute(
        "CREATE TABLE eventos (id int NOT NULL, empresa_id int NOT NULL, dia date NOT NULL,"
        " PRIMARY KEY (id, dia)) PARTITION BY RANGE (dia);"
        "CREATE TABLE eventos_2024 PARTITION OF eventos"
        " FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');"
        "CREATE TABLE eventos_2025 PARTITION OF eventos"
        " FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');"
        "CREATE TABLE inscricoes (id int PRIMARY KEY, empresa_id int NOT NULL,"
        " evento_id int, evento_dia date,"
        " FOREIGN KEY (evento_id, evento_dia) REFERENCES eventos (id, dia) ON DELETE SET NULL);"
        "INSERT INTO eventos VALUES (1, 1, '2024-02-01');"
        "INSERT INTO inscricoes VALUES (1, 1, 1, '2024-02-01')"
    )
    plan = cli("rls", "fix-references", "-c", "inscricoes_evento_id_evento_dia_fkey", "--dry-run")
    assert plan.exit_code == 0, plan.stderr
    assert "eventos_2024_empresa_id_id_dia_key" in plan.stdout
    assert "brief ACCESS EXCLUSIVE" in plan.stdout + plan.stderr
    result = cli("rls", "fix-references", "-c", "inscricoes_evento_id_evento_dia_fkey", "--yes")
    assert result.exit_code == 0, result.stderr
    attached = conn.execute(
        "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE c.relname IN ('eventos_2024_empresa_id_id_dia_key', "
        "'eventos_2025_empresa_id_id_dia_key')"
    ).fetchone()[0]
    assert attached == 2
    (definition, validated) = keys(conn, "inscricoes")[
        "inscricoes_empresa_id_evento_id_evento_dia_fkey"
    ]
    assert validated and "ON DELETE SET NULL (evento_id, evento_dia)" in definition
    conn.execute("DELETE FROM eventos")  # SET NULL leaves the tenant column alone
    assert conn.execute("SELECT empresa_id, evento_id FROM inscricoes").fetchone() == (1, None)


# ---------------------------------------------------------------- the English schema


def test_english_schema(cli, en_dsn, en_map):
    """shop's tenant key is tenant_id (uuid). accounts.person_id and each payments
    partition's own person key cross tenants; orders, people's address and the payments'
    order keys pair tenant_id already; support_tickets (tenant_code) is another key."""
    status = cli("rls", "status", "--format", "json")
    assert "empresa_id" not in status.stdout
    found = {
        f"{r['table']}.{r['constraint']}" for r in json.loads(status.stdout)["cross_tenant_refs"]
    }
    assert found == {
        "shop.accounts.accounts_person_id_fkey",
        "shop.payments_2026_01.payments_2026_01_person_fk",
        "shop.payments_2026_02.payments_2026_02_person_fk",
        "shop.payments_2026_03.payments_2026_03_person_fk",
    }
    with psycopg.connect(en_dsn, autocommit=True) as conn:
        before = conn.execute(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = 'shop'"
        ).fetchone()[0]
        result = cli("rls", "fix-references", "--all", "--yes")
        assert result.exit_code == 0, result.stderr
        # people's UNIQUE (tenant_id, id) is what the new keys reference: no unique key
        # built; each referencing table gets an index leading with its new key
        built = conn.execute(
            "SELECT tablename FROM pg_indexes WHERE schemaname = 'shop'"
            " AND indexname LIKE '%%tenant_id_person_id_idx' ORDER BY 1"
        ).fetchall()
        assert [r[0] for r in built] == [
            "accounts",
            "payments_2026_01",
            "payments_2026_02",
            "payments_2026_03",
        ]
        assert (
            conn.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = 'shop'").fetchone()[0]
            == before + 4
        )
        (definition, validated) = keys(conn, "shop.payments_2026_02")[
            "payments_2026_02_tenant_id_person_id_fkey"
        ]
        assert validated and "REFERENCES shop.people(tenant_id, id)" in definition
        acme, globex = (r[0] for r in conn.execute("SELECT id FROM shop.tenants ORDER BY code"))
        (person,) = conn.execute(
            "SELECT min(id) FROM shop.people WHERE tenant_id = %s", [globex]
        ).fetchone()
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute(
                "INSERT INTO shop.accounts (tenant_id, person_id, username, password_hash) "
                "VALUES (%s, %s, 'cross', 'x')",
                [acme, person],
            )
    assert refs(cli) == set()
    again = cli("rls", "fix-references", "--all", "--yes")
    assert again.exit_code == 0 and "nothing to do" in again.stderr


def test_an_interrupted_run_is_taken_up(cli, dsn, conn, dbname, cluster, demo_map):
    """What an earlier run left: an INVALID index from an interrupted CONCURRENTLY build on
    usuarios, a NOT VALID key on alunos (its unique key on escolas built)."""
    conn.execute(
        "CREATE UNIQUE INDEX usuarios_empresa_id_id_key ON usuarios (empresa_id, id);"
        "CREATE UNIQUE INDEX escolas_empresa_id_id_key ON escolas (empresa_id, id);"
        "ALTER TABLE alunos ADD CONSTRAINT alunos_empresa_id_escola_id_fkey"
        " FOREIGN KEY (empresa_id, escola_id) REFERENCES escolas (empresa_id, id) NOT VALID"
    )
    with superuser(cluster, dbname) as su:
        su.execute(
            "UPDATE pg_index SET indisvalid = false "
            "WHERE indexrelid = 'usuarios_empresa_id_id_key'::regclass"
        )
    args = ("-c", "alunos_escola_id_fkey", "-c", "ai_preferences_usuario_id_fkey")
    plan = cli("rls", "fix-references", *args, "--dry-run", "--format", "json")
    sqls = [s["sql"] for s in json.loads(plan.stdout)["steps"]]
    usuarios = [s for s in sqls if "usuarios_empresa_id_id_key" in s]
    assert 'DROP INDEX CONCURRENTLY IF EXISTS "public"."usuarios_empresa_id_id_key"' in usuarios[0]
    assert 'CREATE UNIQUE INDEX CONCURRENTLY "usuarios_empresa_id_id_key"' in usuarios[1]
    assert not any('ON "public"."escolas"' in s for s in sqls)  # its unique index serves
    alunos = [s for s in sqls if '"public"."alunos"' in s]
    # the lookup index; no second key: the NOT VALID one is validated, the old dropped
    assert len(alunos) == 3
    assert "CREATE INDEX CONCURRENTLY" in alunos[0]
    assert "VALIDATE CONSTRAINT" in alunos[1] and "DROP CONSTRAINT" in alunos[2]
    assert cli("rls", "fix-references", *args, "--yes").exit_code == 0
    valid = conn.execute(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = 'usuarios_empresa_id_id_key'::regclass"
    ).fetchone()
    assert valid == (True,)
    assert keys(conn, "alunos")["alunos_empresa_id_escola_id_fkey"][1]
    # the data map recorded the old keys: map check says so, as the plan's note did
    check = cli("map", "check", "--format", "json")
    assert check.exit_code == 1 and "alunos_escola_id_fkey" in check.stdout
    assert "auroractl map check" in plan.stdout


def test_a_nullable_tenant_column_keeps_the_old_key(cli, dsn, conn, demo_map):
    """MATCH SIMPLE skips a row whose tenant is NULL, which the old key still checks: it
    stays beside the new one, and the pair is no longer reported."""
    conn.execute(
        "CREATE TABLE salas (id int PRIMARY KEY, empresa_id int NOT NULL);"
        "CREATE TABLE reservas (id int PRIMARY KEY, empresa_id int,"
        " sala_id int REFERENCES salas (id));"
        "CREATE TABLE avisos (id int PRIMARY KEY, empresa_id int NOT NULL,"
        " sala_id int REFERENCES salas (id) ON UPDATE SET NULL)"
    )
    result = cli("rls", "fix-references", "-c", "reservas_sala_id_fkey", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "reservas_sala_id_fkey on public.reservas is kept" in result.stdout + result.stderr
    assert set(keys(conn, "reservas")) == {
        "reservas_sala_id_fkey",
        "reservas_empresa_id_sala_id_fkey",
    }
    assert "public.reservas.reservas_sala_id_fkey" not in refs(cli)
    again = cli("rls", "fix-references", "-c", "reservas_sala_id_fkey", "--yes")
    assert again.exit_code == 0 and "nothing to do" in again.stderr
    refused = cli("rls", "fix-references", "-c", "avisos_sala_id_fkey", "--yes")
    assert refused.exit_code == 3 and "ON UPDATE SET NULL" in refused.stderr
