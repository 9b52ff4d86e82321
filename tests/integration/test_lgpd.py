"""lgpd map/forget/export/requests against a real PostgreSQL, as aurora_admin.

Canary values are planted for a subject in usuarios, its encrypted twin, referencing
tables, audit.audit_log and webhook payloads; after `forget` every text/jsonb/bytea
column of every table is searched (the encrypted one decrypted) and no canary may
survive, while other subjects' rows and the rows under legal hold stay as they were.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from auroractl.ops.shared import datamap as dm
from tests.conftest import superuser
from tests.integration.conftest import write_map
from tests.integration.search import checksum
from tests.integration.search import survivors as _survivors

KEY = "lgpd-test-key-0123456789abcdef"
# The DBA's review of the proposed map: what the catalog cannot tell.
REVIEWED = {
    "public.ai_preferences": {"preferencias": ("free_text", dm.Rule("delete_row"))},
    "public.enderecos_entrega": {
        "destinatario": ("name", dm.Rule("fixed", "(removido)")),
        "logradouro": ("address", dm.Rule("null")),
        "cep": ("address", dm.Rule("null")),
    },
}


def review(path: Path, edits: dict = REVIEWED) -> None:
    """Apply ``edits`` ({table: {column: (class, rule)}}) to the map at ``path``."""
    m = dm.load(path)
    named = {(t, c) for t, cols in edits.items() for c in cols}
    kept = [c for c in m.columns if (c.table, c.column) not in named]
    added = [dm.PersonalColumn(t, c, cls, rule)
             for t, cols in edits.items() for c, (cls, rule) in cols.items()]  # fmt: skip
    path.write_text(dm.dumps(replace(m, columns=(*kept, *added))))


def reviewed_map(dsn: str) -> Path:
    """The proposed map with the review of the tables this database has."""
    path = write_map(dsn, "public.usuarios")
    with psycopg.connect(dsn) as c:
        here = {t: e for t, e in REVIEWED.items()
                if c.execute("SELECT to_regclass(%s)", [t]).fetchone()[0]}  # fmt: skip
    review(path, here)
    return path


def canaries(n: int) -> dict[str, str]:
    return {
        "nome": f"Zebulon Canarywick{n}",
        "email": f"canary.zq{n}@example.org",
        "documento_identidade": f"987.654.32{n}-00",
        "telefone": f"+55 11 98765-432{n}",
    }


def survivors(su: psycopg.Connection, needles: list[str]) -> list[str]:
    return _survivors(su, needles, KEY)


def plant(conn: psycopg.Connection, uid: int, n: int) -> None:
    c = canaries(n)
    conn.execute(
        "UPDATE usuarios SET nome = %(nome)s, email = %(email)s, telefone = %(telefone)s, "
        "documento_identidade = %(documento_identidade)s, endereco = 'Rua Canario ' || %(n)s "
        "WHERE id = %(uid)s",
        {**c, "uid": uid, "n": str(n)},
    )
    conn.execute(
        "INSERT INTO ai_preferences (empresa_id, usuario_id, preferencias) "
        "SELECT empresa_id, id, jsonb_build_object('apelido', %s::text) "
        "FROM usuarios WHERE id = %s",
        [c["nome"], uid],
    )
    conn.execute(
        "INSERT INTO enderecos_entrega (usuario_id, destinatario, logradouro, cep) "
        "VALUES (%s, %s, %s, '01310-100')",
        [uid, c["nome"], "Rua Canario " + str(n)],
    )
    conn.execute(
        "INSERT INTO contratos (empresa_id, numero, data_inicio, valor_total, usuario_id) "
        "SELECT empresa_id, 'HOLD-' || id, date '2021-03-01', 100, id FROM usuarios WHERE id = %s",
        [uid],
    )
    conn.execute(
        "UPDATE usuarios SET ultimo_acesso = now(), nome = nome || ' Jr' WHERE id = %s", [uid]
    )


SUBJECTS = (7, 8, 9)
OTHER = 10


@pytest.fixture
def planted(cli, dsn, conn, monkeypatch, cluster, dbname):
    monkeypatch.setenv("AURORACTL_ENCRYPTION_KEY", KEY)
    conn.execute("ALTER TABLE contratos ADD COLUMN usuario_id integer REFERENCES usuarios (id)")
    conn.execute(
        "CREATE TABLE enderecos_entrega (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
        "usuario_id integer NOT NULL REFERENCES usuarios (id), destinatario text NOT NULL, "
        "logradouro text, cep text)"
    )
    conn.execute("CREATE INDEX ON enderecos_entrega (usuario_id)")
    # Audit starts before the review maps telefone: its older entries hold the values,
    # which forget must scrub.
    path = reviewed_map(dsn)
    m = dm.load(path)
    early = tuple(c for c in m.columns if (c.table, c.column) != ("public.usuarios", "telefone"))
    path.write_text(dm.dumps(replace(m, columns=early)))
    for args in (
        (
            "audit",
            "enable",
            "--table",
            "usuarios",
            "--table",
            "ai_preferences",
            "--table",
            "enderecos_entrega",
            "--table",
            "contratos",
            "--yes",
        ),
        ("webhooks", "install", "--yes"),
        (
            "webhooks",
            "subscribe",
            "usuario_alterado",
            "--table",
            "usuarios",
            "--on",
            "update",
            "--on",
            "insert",
            "--url",
            "http://127.0.0.1:9/hook",
            "--include-personal",
            "--yes",
        ),
        (
            "webhooks",
            "subscribe",
            "endereco_novo",
            "--table",
            "enderecos_entrega",
            "--url",
            "http://127.0.0.1:9/hook",
            "--include-personal",
            "--yes",
        ),
    ):
        result = cli(*args)
        assert result.exit_code == 0, (args, result.stderr)
    for n, uid in enumerate((*SUBJECTS, OTHER)):
        plant(conn, uid, n)
    args = ("--table", "usuarios", "--column", "documento_identidade", "--yes")
    result = cli("encrypt", "backfill", *args)
    assert result.exit_code == 0, result.stderr
    reviewed_map(dsn)  # the new ciphertext column: the DBA re-proposes and reviews
    assert (
        conn.execute(
            "SELECT count(*) FROM webhook_events WHERE payload::text LIKE '%%Canarywick0%%'"
        ).fetchone()[0]
        > 0
    )
    assert (
        conn.execute(
            "SELECT count(*) FROM audit.audit_log WHERE new_values::text LIKE '%%98765-4320%%'"
        ).fetchone()[0]
        > 0
    )
    su = superuser(cluster, dbname)
    yield conn, su
    su.close()


def others_checksums(conn: psycopg.Connection, forgotten: list[int]) -> dict[str, str]:
    ids = list(forgotten)
    return {
        "usuarios": checksum(conn, "SELECT u.* FROM usuarios u WHERE id <> ALL(%s)", [ids]),
        "ai_preferences": checksum(
            conn, "SELECT a.* FROM ai_preferences a WHERE usuario_id <> ALL(%s)", [ids]
        ),
        "enderecos": checksum(
            conn, "SELECT e.* FROM enderecos_entrega e WHERE usuario_id <> ALL(%s)", [ids]
        ),
        "contratos": checksum(conn, "SELECT c.* FROM contratos c"),  # no personal column
        "audit_other": checksum(
            conn,
            "SELECT a.* FROM audit.audit_log a WHERE table_name = 'public.usuarios' "
            "AND row_pk <> ALL(%s)",
            [[str(i) for i in ids]],
        ),
        "webhooks_other": checksum(
            conn,
            "SELECT e.payload FROM webhook_events e WHERE (payload->'row'->>'id')::int <> ALL(%s) "
            "AND payload->>'table' = 'usuarios'",
            [ids],
        ),
    }


def test_forget_leaves_no_canary_and_touches_nothing_else(cli, planted):
    conn, su = planted
    before = others_checksums(conn, [7])

    dry = cli("lgpd", "forget", "7", "--dry-run", "--format", "json")
    assert dry.exit_code == 0, dry.stderr
    plan = json.loads(dry.stdout)
    assert plan["status"] == "dry-run" and plan["kind"] == "job" and plan["steps"]
    [counts] = plan["notes"]  # what the statements would change, per subject
    assert counts.startswith("public.usuarios 7: ") and "public.usuarios anonymised 1" in counts
    assert "public.ai_preferences deleted 1" in counts
    assert "public.enderecos_entrega anonymised 1" in counts
    assert "public.contratos" not in counts  # no personal column: its rows stay
    assert "audit.audit_log scrubbed" in counts
    assert survivors(su, list(canaries(0).values()))  # dry run changed nothing

    result = cli("lgpd", "forget", "7", "--yes", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    receipt = doc["result"]["receipts"][0]
    assert doc["status"] == "applied"
    assert doc["rows"] == sum(e["rows"] for e in receipt["tables"].values()) > 0
    assert receipt["status"] == "completed"
    assert receipt["tables"]["public.usuarios"]["columns"] == sorted(
        ["nome", "email", "telefone", "documento_identidade", "documento_identidade_encrypted",
         "endereco", "foto_perfil"]
    )  # fmt: skip
    assert survivors(su, [*canaries(0).values(), "Rua Canario 0"]) == []
    # the others are still there, unchanged
    assert set(survivors(su, list(canaries(3).values()))) >= {
        "public.usuarios.nome: Zebulon Canarywick3",
        "public.usuarios.documento_identidade_encrypted: 987.654.323-00",
    }
    assert others_checksums(conn, [7]) == before
    row = conn.execute(
        "SELECT nome, email, telefone, documento_identidade, documento_identidade_encrypted, "
        "endereco FROM usuarios WHERE id = 7"
    ).fetchone()
    assert row == ("erased-7", "erased-7@erased.invalid", None, None, None, None)
    assert (
        conn.execute("SELECT count(*) FROM ai_preferences WHERE usuario_id = 7").fetchone()[0] == 0
    )
    assert conn.execute(
        "SELECT destinatario, logradouro, cep FROM enderecos_entrega WHERE usuario_id = 7"
    ).fetchone() == ("(removido)", None, None)
    held = conn.execute("SELECT usuario_id FROM contratos WHERE numero = 'HOLD-7'").fetchall()
    assert held == [(7,)]  # the contract stays, linked to the anonymised subject
    # the receipt holds no personal data and names what was done
    stored = conn.execute(
        "SELECT to_jsonb(r)::text FROM auroractl.lgpd_requests r WHERE request_id = %s::uuid",
        [receipt["request_id"]],
    ).fetchone()[0]
    assert "Canarywick" not in stored and '"subject_id": "7"' in stored
    assert "completed" in stored and "public.enderecos_entrega" in stored

    # idempotent: again succeeds, says so, writes nothing
    n = conn.execute("SELECT count(*) FROM auroractl.lgpd_requests").fetchone()[0]
    again = cli("lgpd", "forget", "7", "--yes")
    assert again.exit_code == 0, again.stderr
    assert "already forgotten" in again.stderr
    assert conn.execute("SELECT count(*) FROM auroractl.lgpd_requests").fetchone()[0] == n


def test_unknown_or_malformed_id_changes_nothing(cli, planted):
    conn, _ = planted
    before = others_checksums(conn, [])
    for bad, code in (("99999999", 2), ("abc", 2)):
        result = cli("lgpd", "forget", bad, "--yes")
        assert result.exit_code == code, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert others_checksums(conn, []) == before
    assert cli("lgpd", "forget", "7").exit_code == 4  # no TTY, no --yes
    assert others_checksums(conn, []) == before


def test_from_file_with_a_bad_id_in_the_middle(cli, planted, tmp_path):
    conn, su = planted
    before = others_checksums(conn, [7, 9])
    ids = tmp_path / "ids.txt"
    ids.write_text("7\n# a comment\n99999999\nnot-an-id\n\n9\n")
    result = cli("lgpd", "forget", "--from-file", str(ids), "--yes", "--format", "json")
    assert result.exit_code != 0
    doc = json.loads(result.stdout)["result"]
    assert doc["ok"] == 2 and doc["failed"] == 2
    assert {f["subject_id"] for f in doc["failures"]} == {"99999999", "not-an-id"}
    assert survivors(su, list(canaries(0).values()) + list(canaries(2).values())) == []
    assert survivors(su, [canaries(1)["nome"]])  # subject 8 was not in the file
    assert others_checksums(conn, [7, 9]) == before
    assert "2 of 4 subject(s) forgotten, 2 failed" in result.stderr


def test_export_decrypts_and_records_the_request(cli, planted, tmp_path):
    conn, _ = planted
    out = tmp_path / "titular.json"
    result = cli("lgpd", "export", "8", "--output", str(out))
    assert result.exit_code == 0, result.stderr
    doc = json.loads(out.read_text())
    user = doc["data"]["public.usuarios"][0]
    assert user["nome"] == canaries(1)["nome"] + " Jr"
    assert user["documento_identidade_encrypted"] == {
        "encrypted": True,
        "decrypted": canaries(1)["documento_identidade"],
    }
    assert doc["data"]["public.ai_preferences"][0]["preferencias"]["apelido"] == canaries(1)["nome"]
    assert doc["data"]["public.contratos"][0]["numero"] == "HOLD-8"
    assert {e["table_name"] for e in doc["audit_log"]} >= {"public.usuarios", "public.contratos"}
    assert "audit entr" in result.stderr
    kinds = conn.execute(
        "SELECT kind, status FROM auroractl.lgpd_requests WHERE subject_id = '8'"
    ).fetchall()
    assert kinds == [("access", "completed")]
    assert cli("lgpd", "export", "99999999").exit_code == 2


def test_export_to_an_unwritable_path_records_nothing(cli, planted, tmp_path):
    conn, _ = planted
    result = cli("lgpd", "export", "8", "--output", "/nonexistent/dir/x.json")
    assert result.exit_code == 2
    assert "directory /nonexistent/dir does not exist" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1  # one line, no traceback
    # The path exists but cannot be written as a file: the request row is rolled back.
    (tmp_path / "taken.json").mkdir()
    result = cli("lgpd", "export", "8", "--output", str(tmp_path / "taken.json"))
    assert result.exit_code == 2
    assert "taken.json" in result.stderr and "Traceback" not in result.stderr
    assert conn.execute(
        "SELECT count(*) FROM auroractl.lgpd_requests WHERE subject_id = '8'"
    ).fetchone() == (0,)


def test_export_without_key_says_so(cli, planted, monkeypatch):
    monkeypatch.delenv("AURORACTL_ENCRYPTION_KEY")
    result = cli("lgpd", "export", "8")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["data"]["public.usuarios"][0]["documento_identidade_encrypted"]["decrypted"] is None
    assert "no key available" in result.stderr


def test_requests_flags_overdue(cli, planted):
    old = cli("lgpd", "forget", "8", "--yes", "--requested-at", "2020-01-01")
    assert old.exit_code == 0, old.stderr
    assert cli("lgpd", "forget", "9", "--yes").exit_code == 0
    result = cli("lgpd", "requests", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = {r["subject_id"]: r for r in json.loads(result.stdout)}
    assert rows["8"]["overdue"] is True and rows["9"]["overdue"] is False
    assert rows["8"]["due_at"].startswith("2020-01-16")
    table = cli("lgpd", "requests")
    assert "OVERDUE" in table.stdout
    assert "past the 15-day deadline" in table.stderr


def test_unmapped_reference_is_refused_and_flagged(cli, dsn, conn):
    reviewed_map(dsn)
    conn.execute(
        "CREATE TABLE notas_fiscais (id serial PRIMARY KEY, "
        "usuario_id integer REFERENCES usuarios (id), cpf_tomador text)"
    )
    result = cli("lgpd", "forget", "7", "--yes")
    assert result.exit_code == 3
    assert "map" in result.stderr and "stale" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2, result.stderr  # error + hint
    check = cli("lgpd", "map", "--check")
    assert check.exit_code == 1 and "notas_fiscais" in check.stderr
    found = json.loads(cli("map", "check", "--format", "json").stdout)["findings"]
    assert {(f["kind"], f["table"]) for f in found} >= {
        ("unmapped_reference", "public.notas_fiscais"),
        ("unmapped_column", "public.notas_fiscais"),
    }


def test_map_shows_the_erasure_plan(cli, dsn, conn):
    assert cli("lgpd", "map").exit_code == 3  # no data map yet: refused, naming the fix
    assert "auroractl map propose" in cli("lgpd", "map").stderr
    reviewed_map(dsn)
    result = cli("lgpd", "map", "--format", "json")
    assert result.exit_code == 0, result.stderr
    entries = {(e["table"], e["column"]): e for e in json.loads(result.stdout)}
    assert entries[("public.usuarios", "email")]["treatment"].startswith("pseudonym")
    assert entries[("public.ai_preferences", "*")]["role"] == "in"
    assert entries[("public.ai_preferences", "*")]["treatment"] == "delete the rows"
    assert not any(t == "public.empresas" for t, _ in entries)  # a tenant root: never erased
    clean = cli("lgpd", "map", "--check")
    assert clean.exit_code == 0, clean.stdout + clean.stderr
    other = cli("lgpd", "map", "--subject", "alunos", "--format", "json")
    assert other.exit_code == 0, other.stderr
    assert {e["table"] for e in json.loads(other.stdout)} >= {"public.alunos"}
    nosuch = cli("lgpd", "map", "--subject", "contratos")
    assert nosuch.exit_code == 2 and "not a data subject" in nosuch.stderr


def test_forget_sees_every_row_under_forced_rls(cli, planted):
    conn, su = planted
    result = cli("rls", "enable", "--all", "--yes")
    assert result.exit_code == 0, result.stderr
    forced = conn.execute(
        "SELECT relforcerowsecurity FROM pg_class WHERE oid = 'usuarios'::regclass"
    ).fetchone()[0]
    assert forced
    result = cli("lgpd", "forget", "8", "--yes")
    assert result.exit_code == 0, result.stderr
    assert survivors(su, list(canaries(1).values())) == []


def test_forget_is_one_job_with_one_ledger_row(cli, planted, tmp_path):
    conn, su = planted
    ids = tmp_path / "ids.txt"
    ids.write_text("7\n8\n")
    ledger = "SELECT command, kind, outcome, rows FROM auroractl.operations ORDER BY id"
    before = len(conn.execute(ledger).fetchall())  # the fixture's own setup
    for refused in (
        cli("lgpd", "forget", "--from-file", str(ids)),
        cli("lgpd", "forget", "--from-file", str(ids), "--format", "json"),
    ):
        assert refused.exit_code == 4, refused.stderr
    dry = cli("lgpd", "forget", "--from-file", str(ids), "--dry-run", "--format", "json")
    assert dry.exit_code == 0, dry.stderr
    notes = json.loads(dry.stdout)["notes"]  # one document
    assert [n.split(":")[0] for n in notes] == ["public.usuarios 7", "public.usuarios 8"]
    assert survivors(su, [canaries(0)["nome"], canaries(1)["nome"]])  # nothing changed
    assert len(conn.execute(ledger).fetchall()) == before
    result = cli("lgpd", "forget", "--from-file", str(ids), "--yes", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["result"]["ok"] == 2 and doc["rows"] > 2
    assert conn.execute(ledger).fetchall()[before:] == [
        ("lgpd forget", "job", "applied", doc["rows"])
    ]


def _receipts(conn) -> int:
    if conn.execute("SELECT to_regclass('auroractl.lgpd_requests')").fetchone()[0] is None:
        return 0
    return conn.execute("SELECT count(*) FROM auroractl.lgpd_requests").fetchone()[0]


def test_forget_refuses_a_stale_map_and_changes_nothing(cli, dsn, conn):
    """A personal column the map does not know would survive the erasure: refuse first."""
    reviewed_map(dsn)
    conn.execute("ALTER TABLE usuarios ADD COLUMN telefone_celular text")
    conn.execute("UPDATE usuarios SET telefone_celular = '+55 11 98888-7777' WHERE id = 7")
    row = "SELECT to_jsonb(u)::text FROM usuarios u WHERE id = 7"
    before = conn.execute(row).fetchone()
    for args in (("forget", "7", "--yes"), ("forget", "7", "--dry-run"), ("export", "7")):
        result = cli("lgpd", *args)
        assert result.exit_code == 3, result.stderr
        assert "map" in result.stderr and "is stale" in result.stderr
        assert "telefone_celular" in result.stderr and "auroractl map check" in result.stderr
    assert conn.execute(row).fetchone() == before
    assert _receipts(conn) == 0


def test_forget_without_a_map_refuses(cli, dsn, conn):
    """No data map: nothing is assumed about the schema, not even the demo's names."""
    before = conn.execute("SELECT to_jsonb(u)::text FROM usuarios u WHERE id = 7").fetchone()
    result = cli("lgpd", "forget", "7", "--yes")
    assert result.exit_code == 3
    assert "no data map" in result.stderr and "auroractl map propose" in result.stderr
    assert conn.execute("SELECT to_jsonb(u)::text FROM usuarios u WHERE id = 7").fetchone() == (
        before
    )
    assert _receipts(conn) == 0
    Path("auroractl.toml").write_text('[lgpd]\ntables = { usuarios = "delete" }\n')
    old = cli("lgpd", "forget", "7", "--yes")
    assert old.exit_code == 2 and "declared in the data map" in old.stderr


def test_forget_refuses_a_map_that_erases_nothing_of_the_subject(cli, dsn, conn):
    """A subject table none of whose columns the map erases: no "completed" receipt for
    an erasure that changed nothing."""
    conn.execute("CREATE TABLE pessoas (id serial PRIMARY KEY, apelido text)")
    conn.execute("INSERT INTO pessoas (apelido) VALUES ('x')")
    path = reviewed_map(dsn)
    m = dm.load(path)
    pessoas = dm.Subject("public.pessoas", ("id",))
    cols = tuple(c for c in m.columns if c.table != "public.pessoas")
    subjects = (*(s for s in m.subjects if s.table != "public.pessoas"), pessoas)
    m = replace(m, subjects=subjects, columns=cols, not_personal=("public.pessoas.apelido",))
    path.write_text(dm.dumps(m))
    result = cli("lgpd", "forget", "1", "--subject", "pessoas", "--yes")
    assert result.exit_code == 3, result.stderr
    assert "erases nothing of public.pessoas" in result.stderr
    assert conn.execute("SELECT apelido FROM pessoas").fetchone()[0] == "x"
    assert _receipts(conn) == 0


def test_several_subjects_need_one_named(cli, dsn, conn):
    path = write_map(dsn)  # alunos, professores, usuarios: none the default
    review(path, {"public.ai_preferences": REVIEWED["public.ai_preferences"]})
    result = cli("lgpd", "forget", "7", "--yes")
    assert result.exit_code == 2 and "--subject" in result.stderr
    assert "public.alunos" in result.stderr
    done = cli("lgpd", "forget", "7", "--subject", "public.usuarios", "--yes")
    assert done.exit_code == 0, done.stderr
    assert conn.execute("SELECT nome FROM usuarios WHERE id = 7").fetchone() == ("erased-7",)


def test_forget_erases_the_ciphertext_of_an_erased_column(cli, dsn, conn, monkeypatch):
    """telefone encrypted by `encrypt backfill` into telefone_encrypted: the re-proposed
    map has the ciphertext as personal data of the same class, so forget erases it too
    (or the value would be recoverable with the key)."""
    monkeypatch.setenv("AURORACTL_ENCRYPTION_KEY", KEY)
    done = cli("encrypt", "backfill", "--table", "usuarios", "--column", "telefone", "--yes")
    assert done.exit_code == 0, done.stderr
    m = dm.load(reviewed_map(dsn))
    twin = m.column("public.usuarios", "telefone_encrypted")
    assert twin is not None and (twin.cls, twin.of) == ("ciphertext", "telefone")
    others = "SELECT md5(string_agg(telefone_encrypted::text, ',' ORDER BY id)) FROM usuarios"
    before = conn.execute(others + " WHERE id <> 7").fetchone()[0]
    assert conn.execute("SELECT telefone_encrypted FROM usuarios WHERE id = 7").fetchone()[0]
    result = cli("lgpd", "forget", "7", "--yes")
    assert result.exit_code == 0, result.stderr
    assert (
        conn.execute("SELECT telefone_encrypted FROM usuarios WHERE id = 7").fetchone()[0] is None
    )
    assert conn.execute(others + " WHERE id <> 7").fetchone()[0] == before


def test_forget_after_the_shipped_migrations(cli, dsn, conn):
    """After `migrate up` of the demo migrations (a NOT NULL jsonb dispositivos_autorizados,
    a history table referencing alunos ...), the re-proposed map erases every subject, and
    what a NOT NULL column gets is a value its constraint accepts."""
    up = cli("migrate", "up", "--directory", "demo", "--yes")
    assert up.exit_code == 0, up.stderr
    conn.execute(
        'UPDATE usuarios SET dispositivos_autorizados = \'[{"ip": "203.0.113.9"}]\' WHERE id = 7'
    )
    reviewed_map(dsn)
    assert cli("map", "check").exit_code == 0
    for subject, sid in (("usuarios", "7"), ("alunos", "5"), ("professores", "3")):
        result = cli("lgpd", "forget", sid, "--subject", subject, "--yes")
        assert result.exit_code == 0, (subject, result.stderr)
    row = conn.execute(
        "SELECT nome, dispositivos_autorizados::text FROM usuarios WHERE id = 7"
    ).fetchone()
    assert row[0] == "erased-7" and "203.0.113.9" not in row[1]


def test_forget_scrubs_the_grouped_entry_of_a_large_statement(cli, planted, tmp_path):
    """A grouped entry (a statement of many rows) holding the subject's values of a column
    the map names personal only now is exported as the subject's own entry, and loses that
    column on forget, found through row_pks."""
    conn, su = planted
    conn.execute(
        "INSERT INTO usuarios (empresa_id, nome, email) "
        "SELECT 1, 'Many ' || i, 'many' || i || '@example.test' FROM generate_series(1, 80) i"
    )
    # logged with its values: telefone was not personal when audit started
    conn.execute("UPDATE usuarios SET telefone = 'GROUPED-' || id || '-END'")
    (held,) = su.execute(
        "SELECT count(*) FROM audit.audit_log WHERE row_pks @> ARRAY['7'] "
        "AND new_values ? 'telefone'"
    ).fetchone()
    assert held == 1 and survivors(su, ["GROUPED-7-END"])
    export = tmp_path / "titular.json"
    assert cli("lgpd", "export", "7", "--output", str(export)).exit_code == 0
    logged = json.loads(export.read_text())["audit_log"]
    (grouped,) = [e for e in logged if e["new_values"] == {"telefone": "GROUPED-7-END"}]
    assert grouped["row_pk"] == "7" and grouped["operation"] == "UPDATE"
    assert grouped["old_values"] == {"telefone": canaries(0)["telefone"]}
    result = cli("lgpd", "forget", "7", "--yes")
    assert result.exit_code == 0, result.stderr
    assert survivors(su, ["GROUPED-7-END"]) == []
    (left,) = su.execute(
        "SELECT count(*) FROM audit.audit_entries WHERE row_pk = '7' AND new_values ? 'telefone'"
    ).fetchone()
    assert left == 0
