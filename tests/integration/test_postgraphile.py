"""The generated PostGraphile 5 setup, served by the real PostGraphile (tools/graphql):
tenants see exactly their rows, and `graphql check` agrees with what the API shows."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from tests.conftest import superuser
from tests.integration.postgraphile import SECRET, Server, require_postgraphile, token

AUTH = "postgraphile_authenticator"
ALUNOS = "{ allAlunos { totalCount nodes { empresaId } } }"


@pytest.fixture(autouse=True)
def _postgraphile() -> None:
    require_postgraphile()


def _url(cluster, dbname: str) -> str:  # type: ignore[no-untyped-def]
    return f"postgres://{AUTH}@127.0.0.1:{cluster.port}/{dbname}"


def _second_tenant(conn: psycopg.Connection) -> None:
    conn.execute("INSERT INTO empresas (id, nome, cnpj) VALUES (2, 'Outra Rede', '00000002000191')")
    conn.execute("INSERT INTO escolas (id, empresa_id, nome) VALUES (9001, 2, 'Escola B')")
    conn.execute(
        "INSERT INTO alunos (empresa_id, escola_id, nome, matricula)"
        " SELECT 2, 9001, 'Aluno ' || i, 'B' || i FROM generate_series(1, 3) i"
    )


def _findings(res) -> dict[str, set[str]]:  # type: ignore[no-untyped-def]
    out: dict[str, set[str]] = {}
    for f in json.loads(res.stdout)["findings"]:
        out.setdefault(f["kind"], set()).add(f["relation"])
    return out


def _count(cluster, dbname: str, query: str) -> int:  # type: ignore[no-untyped-def]
    with superuser(cluster, dbname) as su:
        return su.execute(query).fetchone()[0]


def test_generated_setup_serves_each_tenant_exactly_its_rows(
    cli, cluster, dbname, conn, demo_map, tmp_path: Path
):
    _second_tenant(conn)
    assert cli("rls", "enable", "--all", "--yes").exit_code == 0
    # A common grant that opens the partitions (no policies) and the tenant root.
    conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO application_user")
    res = cli("graphql", "check", "--format", "json")
    assert res.exit_code == 1
    found = _findings(res)
    assert "public.contratos_2024" in found["partition_readable"]
    assert found["root_readable"] == {"public.empresas"}

    out = tmp_path / "gql"
    assert cli("graphql", "config", "--output", str(out)).exit_code == 0
    assert 'process.env["JWT_SECRET"]' in (out / "graphile.config.mjs").read_text()
    assert cli("graphql", "grant", "--yes").exit_code == 0
    again = cli("graphql", "grant", "--yes")
    assert "nothing to do" in again.stdout + again.stderr
    res = cli("graphql", "check", "--config", str(out), "--format", "json")
    assert res.exit_code == 1
    assert _findings(res) == {
        "cross_tenant_ref": {
            "public.alunos",
            "public.professores",
            "public.contratos",
            "public.ai_preferences",
        }
    }
    assert cli("rls", "fix-references", "--all", "--yes").exit_code == 0
    res = cli("graphql", "check", "--config", str(out), "--format", "json")
    assert res.exit_code == 0, res.stdout
    # Each tenant-scoped key got an index leading with it, partitioned contratos included
    # (its partitions' built online, then attached to its own).
    assert _findings(res) == {}

    server = Server(out, _url(cluster, dbname), tmp_path)
    try:
        query_fields = server.fields("Query")
        assert "allContratoes" in query_fields  # the partitioned parent
        assert not [f for f in query_fields if "2024" in f or "Default" in f]  # no partition
        assert "allEmpresas" not in query_fields  # the tenant root is not served
        aluno = server.fields("Aluno")
        assert {"rowId", "empresaId", "matricula"} <= aluno
        assert not aluno & {"nome", "email", "documentoIdentidade", "dataNascimento"}
        assert "email" in server.fields("AlunoInput", input_type=True)  # still writable

        own = _count(cluster, dbname, "SELECT count(*) FROM alunos WHERE empresa_id = 1")
        for claims, expected in (({"empresa_id": 1}, own), ({"empresa_id": 2}, 3)):
            data = server.query(ALUNOS, token(claims))["data"]["allAlunos"]
            assert data["totalCount"] == expected
            assert {n["empresaId"] for n in data["nodes"]} == {claims["empresa_id"]}
        assert server.query(ALUNOS, token({"empresa_id": 999}))["data"]["allAlunos"] == {
            "totalCount": 0,
            "nodes": [],
        }
        assert server.query(ALUNOS)["data"]["allAlunos"]["totalCount"] == 0  # no token
        forged = server.query(ALUNOS, token({"empresa_id": 1}, secret="x" * 40))
        assert "data" not in forged or not forged.get("data")
        assert forged["errors"]
        injected = server.query(ALUNOS, token({"empresa_id": "1 OR true", "role": "aurora_admin"}))
        assert injected["data"]["allAlunos"]["totalCount"] == 0

        t1 = token({"empresa_id": 1})
        create = (
            "mutation($e: Int!) { createAluno(input: {aluno: {empresaId: $e, escolaId: 9001,"
            ' matricula: "X1", nome: "N", email: "n@example.com"}}) { aluno { rowId } } }'
        )
        assert server.query(create, t1, {"e": 2})["errors"]  # another tenant's row
        # tenant 1's row pointing at tenant 2's escola: the tenant-scoped key refuses it
        assert server.query(create, t1, {"e": 1})["errors"]
        assert "alunos" in server.log.read_text() and "foreign key" in server.log.read_text()
        other = _count(cluster, dbname, "SELECT min(id) FROM alunos WHERE empresa_id = 2")
        update = (
            "mutation($id: Int!) { updateAlunoByRowId(input: {rowId: $id,"
            ' alunoPatch: {matricula: "HACK"}}) { aluno { rowId } } }'
        )
        res = server.query(update, t1, {"id": other})  # not found for tenant 1: nothing changed
        assert res.get("errors") or res["data"]["updateAlunoByRowId"]["aluno"] is None
        assert _count(cluster, dbname, "SELECT count(*) FROM alunos WHERE matricula = 'HACK'") == 0
    finally:
        server.stop()
    assert not [f for f in out.iterdir() if f.is_file() and SECRET in f.read_text()]


def test_check_findings_are_what_postgraphile_serves(
    cli, cluster, dbname, conn, demo_map, tmp_path: Path
):
    """Each finding provoked on purpose, and seen through the real API."""
    _second_tenant(conn)
    conn.execute(
        "CREATE TABLE feriados (codigo text NOT NULL UNIQUE, nome text);"
        "CREATE TABLE salas (id int PRIMARY KEY, escola_id int REFERENCES escolas (id), n int);"
        "CREATE INDEX ON salas (escola_id) WHERE n > 0;"  # partial: PostGraphile ignores it
        "CREATE TABLE turmas (id int PRIMARY KEY, escola_id int REFERENCES escolas (id), n int);"
        "CREATE INDEX ON turmas (n, escola_id);"  # contains the key, does not lead with it
        "CREATE TABLE ocorrencias (id serial PRIMARY KEY, empresa_id int NOT NULL, nota text);"
        "CREATE VIEW contatos AS SELECT id, empresa_id, email, telefone FROM usuarios;"
    )
    assert cli("rls", "enable", "--all", "--yes").exit_code == 0
    conn.execute(
        "GRANT SELECT, UPDATE, DELETE ON feriados TO application_user;"
        "GRANT SELECT ON salas, turmas, contatos TO application_user;"
        "REVOKE USAGE ON SEQUENCE ocorrencias_id_seq FROM application_user;"
        "CREATE POLICY aberta ON escolas FOR SELECT USING (true);"
    )
    out = tmp_path / "gql"
    assert cli("graphql", "config", "--output", str(out)).exit_code == 0
    assert cli("graphql", "grant", "--yes").exit_code == 0  # not the sequence: see below
    conn.execute("REVOKE USAGE ON SEQUENCE ocorrencias_id_seq FROM application_user")
    res = cli("graphql", "check", "--config", str(out), "--format", "json")
    assert res.exit_code == 1
    found = _findings(res)
    assert found["policy_unbound"] == {"public.escolas"}
    assert found["sequence_grant"] == {"public.ocorrencias"}
    assert found["view_bypasses_rls"] == {"public.contatos"}
    assert found["relation_removed"] == {"public.salas"}
    assert found["relation_scans"] == {"public.turmas"}
    assert "no_identity" not in found  # feriados has a UNIQUE constraint
    assert "personal_exposed" not in found  # hidden by the generated tags (the view too)

    server = Server(out, _url(cluster, dbname), tmp_path)
    try:
        t1 = token({"empresa_id": 1})
        mutations = server.fields("Mutation")
        assert {"updateFeriadoByCodigo", "deleteFeriadoByCodigo"} <= mutations
        escola = server.fields("Escola")
        assert "turmasByEscolaId" in escola and "salasByEscolaId" not in escola
        assert "allContatos" not in server.fields("Query")  # a view over personal columns
        escolas = server.query("{ allEscolas { nodes { empresaId } } }", t1)["data"]
        assert {n["empresaId"] for n in escolas["allEscolas"]["nodes"]} == {1, 2}  # the leak
        create = 'mutation { createOcorrencia(input: {ocorrencia: {empresaId: 1, nota: "x"}}) {'
        assert server.query(create + " ocorrencia { rowId } } }", t1)["errors"]
        assert "permission denied for sequence" in server.log.read_text()  # masked in replies
    finally:
        server.stop()

    # Fixed: each finding clears.
    conn.execute("DROP POLICY aberta ON escolas; CREATE INDEX ON salas (escola_id)")
    conn.execute("ALTER VIEW contatos SET (security_invoker = on)")
    assert cli("rls", "fix-references", "--all", "--yes").exit_code == 0
    assert cli("graphql", "grant", "--yes").exit_code == 0
    res = cli("graphql", "check", "--config", str(out), "--format", "json")
    assert _findings(res) == {"relation_scans": {"public.turmas"}}
    assert res.exit_code == 0


def test_a_policy_on_another_setting_and_a_stale_config_are_blocking(
    cli, conn, demo_map, tmp_path: Path
):
    assert cli("rls", "enable", "--all", "--yes").exit_code == 0
    assert cli("rls", "fix-references", "--all", "--yes").exit_code == 0
    out = tmp_path / "gql"
    assert cli("graphql", "config", "--output", str(out)).exit_code == 0
    assert cli("graphql", "check", "--config", str(out)).exit_code == 0
    (tmp_path / "auroractl.toml").write_text(
        '[rls]\ncolumn = "empresa_id"\nsetting = "jwt.claims.empresa_id"\n'
    )
    res = cli("graphql", "check", "--config", str(out), "--format", "json")
    assert res.exit_code == 1
    found = _findings(res)
    assert "public.alunos" in found["setting_mismatch"]  # policies read the old setting
    assert str(out) in found["config_stale"]
    assert cli("rls", "enable", "--all", "--yes").exit_code == 0
    assert cli("graphql", "config", "--output", str(out)).exit_code == 0
    assert cli("graphql", "check", "--config", str(out)).exit_code == 0


def test_the_english_schema_through_postgraphile(cli, cluster, en_dsn, en_map, tmp_path: Path):
    """uuid tenant keys, another schema, another root: nothing of the demo assumed."""
    dbname = psycopg.conninfo.conninfo_to_dict(en_dsn)["dbname"]
    assert cli("rls", "enable", "--all", "--yes").exit_code == 0
    out = tmp_path / "gql"
    assert cli("graphql", "config", "--schema", "shop", "--output", str(out)).exit_code == 0
    assert cli("graphql", "grant", "--schema", "shop", "--yes").exit_code == 0
    with superuser(cluster, dbname) as su:
        tenants = [r[0] for r in su.execute("SELECT id FROM shop.tenants ORDER BY id")]
        counts = {
            t: su.execute("SELECT count(*) FROM shop.people WHERE tenant_id = %s", [t]).fetchone()[
                0
            ]
            for t in tenants
        }
    server = Server(out, _url(cluster, dbname), tmp_path)
    try:
        people = "{ allPeople { totalCount } }"
        for t in tenants:
            res = server.query(people, token({"tenant_id": str(t)}))
            assert res["data"]["allPeople"]["totalCount"] == counts[t]
        assert server.query(people)["data"]["allPeople"]["totalCount"] == 0
        assert not server.fields("Person") & {"email", "phone", "ssn", "firstName", "lastName"}
    finally:
        server.stop()
