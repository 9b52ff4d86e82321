"""auroractl schema split plan|apply|revert with an application role on a real PostgreSQL."""

from __future__ import annotations

import json

import psycopg
import pytest
from psycopg import sql

from tests.conftest import superuser

DOMAIN = {
    "educacional": ("escolas", "alunos", "professores"),
    "administrativo": ("empresas", "contratos"),
    "autenticacao": ("usuarios", "ai_preferences"),
}
CONTRATOS_PARTITIONS = {f"contratos_{y}" for y in range(2019, 2026)} | {"contratos_default"}


@pytest.fixture(autouse=True)
def layout(tmp_path):
    """The demo's domain layout, told as any database's would be: in auroractl.toml."""
    lines = [f"{s} = {json.dumps(list(t))}" for s, t in DOMAIN.items()]
    (tmp_path / "auroractl.toml").write_text("[schema_split.schemas]\n" + "\n".join(lines) + "\n")


@pytest.fixture
def app_role(cluster, dbname, conn):
    """A LOGIN role granted like the application: DML on the tables, sequences; plus a view,
    a trigger and a function whose body names a table unqualified."""
    role = f"app_{dbname}"
    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    conn.execute(
        sql.SQL(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r};"
            "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {r}"
        ).format(r=sql.Identifier(role))
    )
    conn.execute(
        """
        CREATE VIEW v_alunos_escola AS
            SELECT a.id, a.nome, e.nome AS escola
            FROM alunos a JOIN escolas e ON e.id = a.escola_id;
        CREATE FUNCTION marca_email() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN NEW.email := lower(NEW.email); RETURN NEW; END $$;
        CREATE TRIGGER alunos_email BEFORE INSERT OR UPDATE ON alunos
            FOR EACH ROW EXECUTE FUNCTION marca_email();
        CREATE FUNCTION contar_alunos(p_escola int) RETURNS bigint LANGUAGE sql STABLE AS
            'SELECT count(*) FROM alunos WHERE escola_id = p_escola';
        CREATE FUNCTION usuario_nome(p_id int) RETURNS text LANGUAGE plpgsql STABLE AS
            $$ BEGIN RETURN (SELECT nome FROM public.usuarios WHERE id = p_id); END $$;
        CREATE FUNCTION sem_tabela() RETURNS text LANGUAGE sql AS $$ SELECT 'alunos_x' $$;
        ALTER TABLE professores ENABLE ROW LEVEL SECURITY;
        CREATE POLICY professores_visiveis ON professores USING (disciplina IS DISTINCT FROM 'x');
        """
    )
    conn.execute(sql.SQL("GRANT SELECT ON v_alunos_escola TO {r}").format(r=sql.Identifier(role)))
    yield role
    with superuser(cluster, dbname) as su:
        su.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
    with superuser(cluster) as su:
        su.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def _as_app(cluster, dbname, role) -> psycopg.Connection:
    return psycopg.connect(cluster.conninfo(dbname, role), autocommit=True)


def _app_workload(cluster, dbname, role) -> dict:
    """What the application does, with unqualified names only."""
    with _as_app(cluster, dbname, role) as app:
        escola = app.execute("SELECT id FROM escolas ORDER BY id LIMIT 1").fetchone()[0]
        aluno = app.execute(
            "INSERT INTO alunos (empresa_id, escola_id, nome, matricula, email) "
            "SELECT empresa_id, id, 'Nova', 'M-1', 'NOVA@EXAMPLE.COM' FROM escolas WHERE id = %s "
            "RETURNING id, email",
            [escola],
        ).fetchone()
        contrato = app.execute(
            "INSERT INTO contratos (empresa_id, numero, data_inicio, valor_total) "
            "SELECT id, 'C-1', '2024-05-01', 10 FROM empresas ORDER BY id LIMIT 1 RETURNING id"
        ).fetchone()[0]
        out = {
            "alunos": app.execute("SELECT count(*) FROM alunos").fetchone()[0],
            "trigger": aluno[1],
            "view": app.execute(
                "SELECT count(*) FROM v_alunos_escola WHERE id = %s", [aluno[0]]
            ).fetchone()[0],
            "contrato": app.execute(
                "SELECT count(*) FROM contratos WHERE id = %s", [contrato]
            ).fetchone()[0],
            "usuarios": app.execute(
                "SELECT count(*) FROM usuarios u JOIN ai_preferences p ON p.usuario_id = u.id"
            ).fetchone()[0],
            "function": app.execute("SELECT contar_alunos(%s) > 0", [escola]).fetchone()[0],
            "join": app.execute(
                "SELECT count(*) FROM professores p JOIN escolas e ON e.id = p.escola_id"
            ).fetchone()[0],
        }
        app.execute("DELETE FROM alunos WHERE id = %s", [aluno[0]])
        app.execute("DELETE FROM contratos WHERE id = %s", [contrato])
    return out


def _where(conn) -> dict[str, str]:
    rows = conn.execute(
        "SELECT c.relname, n.nspname FROM pg_class c JOIN pg_namespace n "
        "ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') "
        "AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'auroractl')"
    ).fetchall()
    return dict(rows)


def test_split_apply_and_revert_keep_the_application_working(cli, conn, cluster, dbname, app_role):
    before = _app_workload(cluster, dbname, app_role)
    assert before["trigger"] == "nova@example.com" and before["view"] == 1
    layout = _where(conn)

    res = cli("schema", "split", "plan", "--role", app_role, "--format", "json")
    assert res.exit_code == 0, res.stderr
    report = json.loads(res.stdout)
    moves = {m["table"]: m for m in report["moves"]}
    assert {t for t, m in moves.items() if m["kind"] != "partition"} == {
        t for ts in DOMAIN.values() for t in ts
    }
    assert {t for t, m in moves.items() if m["kind"] == "partition"} == CONTRATOS_PARTITIONS
    assert all(m["state"] == "to move" for m in moves.values())
    assert moves["contratos_2024"]["to_schema"] == "administrativo"
    assert moves["alunos"]["sequences"] == ["alunos_id_seq"]
    assert moves["contratos"]["sequences"] == ["contratos_id_seq"]
    functions = {f["function"]: f for f in report["functions"]}
    assert set(functions) == {"contar_alunos(integer)", "usuario_nome(integer)"}
    assert functions["contar_alunos(integer)"]["unqualified"] == ["alunos"]
    assert functions["usuario_nome(integer)"]["qualified"] == ["usuarios"]
    assert "fails after the move" in functions["usuario_nome(integer)"]["risk"]
    assert report["schemas_to_create"] == list(DOMAIN)
    (path,) = report["search_paths"]
    assert path["after"] == ["$user", "public", *DOMAIN]
    assert {(g["schema"], g["role"]) for g in report["grants"]} == {(s, app_role) for s in DOMAIN}
    assert _where(conn) == layout  # plan changed nothing

    res = cli("schema", "split", "apply", "--role", app_role)
    assert res.exit_code == 4  # no TTY, no --yes
    res = cli("schema", "split", "apply", "--role", app_role, "--dry-run")
    assert res.exit_code == 0, res.stderr
    assert 'ALTER TABLE "public"."contratos_2019" SET SCHEMA "administrativo"' in res.stdout
    res = cli("schema", "split", "apply", "--role", app_role, "--dry-run", "--format", "json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)  # one document: the plan, marked as a dry-run
    assert doc["status"] == "dry-run" and doc["command"] == "schema split apply"
    assert _where(conn) == layout

    res = cli("schema", "split", "apply", "--role", app_role, "--yes")
    assert res.exit_code == 0, res.stderr
    assert "usuario_nome(integer)" in res.stderr  # warned about
    after = _where(conn)
    for schema, tables in DOMAIN.items():
        for t in tables:
            assert after[t] == schema
    assert {after[p] for p in CONTRATOS_PARTITIONS} == {"administrativo"}
    assert conn.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relname IN ('alunos_id_seq', 'contratos_id_seq')"
    ).fetchone() == (0,)
    assert conn.execute(
        "SELECT schemaname FROM pg_policies WHERE policyname = 'professores_visiveis'"
    ).fetchone() == ("educacional",)
    # The application, unchanged, still works: unqualified names, the view, the trigger,
    # the row-level security policy (the join on professores goes through it).
    assert _app_workload(cluster, dbname, app_role) == before
    # A session of another role (no search_path change) no longer sees them unqualified:
    # proof that the tables did move.
    with pytest.raises(psycopg.errors.UndefinedTable):
        conn.execute("SELECT count(*) FROM alunos")

    # Applied twice: nothing to do.
    res = cli("schema", "split", "apply", "--role", app_role, "--yes")
    assert res.exit_code == 0, res.stderr
    assert "in place" in res.stderr
    res = cli("schema", "split", "plan", "--role", app_role, "--format", "json")
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["statements"] == 0

    res = cli("schema", "split", "revert", "--yes")
    assert res.exit_code == 0, res.stderr
    assert _where(conn) == layout
    assert conn.execute(
        "SELECT count(*) FROM pg_namespace WHERE nspname IN "
        "('educacional', 'administrativo', 'autenticacao')"
    ).fetchone() == (0,)
    assert conn.execute(
        "SELECT count(*) FROM pg_db_role_setting d JOIN pg_roles r ON r.oid = d.setrole "
        "WHERE r.rolname = %s",
        [app_role],
    ).fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM auroractl.schema_split").fetchone() == (0,)
    assert _app_workload(cluster, dbname, app_role) == before
    res = cli("schema", "split", "revert", "--yes")
    assert res.exit_code == 0
    assert "nothing to revert" in res.stderr


def test_revert_restores_a_previous_search_path_and_keeps_foreign_objects(
    cli, conn, cluster, dbname, app_role
):
    conn.execute(
        sql.SQL("ALTER ROLE {} IN DATABASE {} SET search_path = public, extra").format(
            sql.Identifier(app_role), sql.Identifier(dbname)
        )
    )
    conn.execute("CREATE SCHEMA educacional")  # exists already: not ours to drop
    res = cli("schema", "split", "apply", "--role", app_role, "--yes")
    assert res.exit_code == 0, res.stderr
    setting = conn.execute(
        "SELECT d.setconfig FROM pg_db_role_setting d JOIN pg_roles r ON r.oid = d.setrole "
        "WHERE r.rolname = %s",
        [app_role],
    ).fetchone()[0]
    assert setting == ["search_path=public, educacional, administrativo, autenticacao, extra"]
    conn.execute("CREATE TABLE autenticacao.sessoes (id int)")  # someone else's table
    res = cli("schema", "split", "revert", "--yes")
    assert res.exit_code == 0, res.stderr
    assert "autenticacao holds other objects" in res.stderr
    setting = conn.execute(
        "SELECT d.setconfig FROM pg_db_role_setting d JOIN pg_roles r ON r.oid = d.setrole "
        "WHERE r.rolname = %s",
        [app_role],
    ).fetchone()[0]
    assert setting == ["search_path=public, extra"]
    schemas = {
        r[0]
        for r in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname IN "
            "('educacional', 'administrativo', 'autenticacao')"
        )
    }
    assert schemas == {"educacional", "autenticacao"}
    assert _where(conn)["usuarios"] == "public"


def test_migrations_follow_the_split(cli, conn, cluster, dbname, app_role):
    res = cli("schema", "split", "apply", "--role", app_role, "--yes")
    assert res.exit_code == 0, res.stderr
    res = cli("migrate", "up", "--directory", "demo", "--to", "3", "--yes")
    assert res.exit_code == 0, res.stderr
    cols = conn.execute(
        "SELECT table_schema FROM information_schema.columns "
        "WHERE column_name = 'dispositivos_autorizados'"
    ).fetchall()
    assert cols == [("autenticacao",)]


def test_configured_mapping_and_bad_input(cli, conn, tmp_path):
    (tmp_path / "auroractl.toml").write_text(
        '[schema_split]\napp_roles = ["nobody_here"]\n'
        '[schema_split.schemas]\nfinanceiro = ["contratos"]\n'
    )
    res = cli("schema", "split", "plan", "--format", "json")
    assert res.exit_code == 0, res.stderr
    report = json.loads(res.stdout)
    assert {m["to_schema"] for m in report["moves"]} == {"financeiro"}
    assert any("nobody_here does not exist" in n for n in report["notes"])

    (tmp_path / "auroractl.toml").write_text('[schema_split.schemas]\nfinanceiro = ["contratoz"]\n')
    res = cli("schema", "split", "plan")
    assert res.exit_code == 2
    assert 'table "public.contratoz" does not exist' in res.stderr

    (tmp_path / "auroractl.toml").write_text(
        '[schema_split.schemas]\na = ["contratos"]\nb = ["contratos"]\n'
    )
    res = cli("schema", "split", "plan")
    assert res.exit_code == 2
    assert "mapped to both" in res.stderr


def test_lock_timeout_names_the_blocker_and_apply_resumes(cli, conn, dsn, app_role):
    with psycopg.connect(dsn) as blocker:  # a transaction holding a lock on usuarios
        blocker.execute("SELECT count(*) FROM usuarios")
        res = cli(
            "--lock-timeout", "100ms", "schema", "split", "apply", "--role", app_role, "--yes"
        )
        assert res.exit_code == 6
        assert "autenticacao" not in _where(conn).get("usuarios", "")
        assert "blocked by pid" in res.stderr and "usuarios" in res.stderr
        blocker.rollback()
    where = _where(conn)
    assert where["alunos"] == "educacional"  # moved and recorded before the blocked table
    assert where["usuarios"] == "public"
    res = cli("schema", "split", "apply", "--role", app_role, "--yes")
    assert res.exit_code == 0, res.stderr
    assert _where(conn)["usuarios"] == "autenticacao"
    res = cli("schema", "split", "revert", "--yes")
    assert res.exit_code == 0, res.stderr
    assert {_where(conn)[t] for ts in DOMAIN.values() for t in ts} == {"public"}


def test_prepare_only_then_apply_keeps_pooled_sessions_working(
    cli, conn, cluster, dbname, app_role
):
    res = cli("schema", "split", "apply", "--role", app_role, "--prepare-only", "--yes")
    assert res.exit_code == 0, res.stderr
    assert _where(conn)["alunos"] == "public"
    assert conn.execute(
        "SELECT count(*) FROM pg_namespace WHERE nspname IN "
        "('educacional', 'administrativo', 'autenticacao')"
    ).fetchone() == (3,)
    res = cli("schema", "split", "apply", "--role", app_role, "--prepare-only", "--yes")
    assert res.exit_code == 0 and "in place" in res.stderr
    with _as_app(cluster, dbname, app_role) as pooled:  # the pool, recycled after prepare
        n = pooled.execute("SELECT count(*) FROM alunos").fetchone()[0]
        res = cli("schema", "split", "apply", "--role", app_role, "--yes")
        assert res.exit_code == 0, res.stderr
        assert _where(conn)["alunos"] == "educacional"
        assert pooled.execute("SELECT count(*) FROM alunos").fetchone()[0] == n
        assert pooled.execute("SELECT count(*) FROM contratos_2024").fetchone()[0] > 0
