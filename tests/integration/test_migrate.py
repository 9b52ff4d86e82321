"""auroractl migrate status|plan|up against a real PostgreSQL (the demo's + custom migrations)."""

from __future__ import annotations

import json
import shutil

import psycopg
import pytest

from auroractl import templates

SHIPPED = templates.templates_dir() / "migrations"


def _ledger(conn, series: str | None = None) -> list[tuple]:
    return conn.execute(
        "SELECT version, name, checksum, duration_ms, applied_by, autocommit "
        "FROM auroractl.schema_migrations WHERE series = coalesce(%s, series) "
        "ORDER BY series, version",
        [series],
    ).fetchall()


def test_up_applies_the_demo_migrations_once(cli, conn):
    res = cli("migrate", "status", "--directory", "demo", "--format", "json")
    assert res.exit_code == 0, res.stderr
    assert {r["state"] for r in json.loads(res.stdout)} == {"pending"}

    res = cli("migrate", "up", "--directory", "demo", "--yes")
    assert res.exit_code == 0, res.stderr
    ledger = _ledger(conn)
    assert [r[0] for r in ledger] == [1, 2, 3, 4, 5]
    assert all(len(r[2]) == 64 and r[3] >= 0 and r[4] == "aurora_admin" for r in ledger)
    assert [r[5] for r in ledger] == [False, False, False, False, True]

    # 7.1: NOT NULL columns with constant defaults, filled for existing rows.
    cols = dict(
        conn.execute(
            "SELECT column_name, is_nullable FROM information_schema.columns "
            "WHERE table_name = 'usuarios' AND column_name IN "
            "('dispositivos_autorizados', 'preferencias_notificacao')"
        ).fetchall()
    )
    assert cols == {"dispositivos_autorizados": "NO", "preferencias_notificacao": "NO"}
    row = conn.execute(
        "SELECT dispositivos_autorizados, preferencias_notificacao FROM usuarios LIMIT 1"
    ).fetchone()
    assert row == ([], {"email": True, "sms": False})

    # historico_aluno_escola: primary key, three foreign keys each with an index, the check.
    kinds = sorted(
        r[0]
        for r in conn.execute(
            "SELECT contype FROM pg_constraint WHERE conrelid = 'historico_aluno_escola'::regclass"
        )
    )
    assert kinds.count("p") == 1 and kinds.count("f") == 3 and kinds.count("c") >= 1
    unindexed = conn.execute(
        """SELECT c.conname FROM pg_constraint c
           WHERE c.conrelid = 'historico_aluno_escola'::regclass AND c.contype = 'f'
             AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid
                             AND i.indkey[0] = c.conkey[1])"""
    ).fetchall()
    assert unindexed == []
    aluno, escola, empresa = conn.execute(
        "SELECT id, escola_id, empresa_id FROM alunos LIMIT 1"
    ).fetchone()
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "INSERT INTO historico_aluno_escola (empresa_id, aluno_id, escola_id, data_entrada, "
            "data_saida) VALUES (%s, %s, %s, '2024-02-01', '2024-01-01')",
            [empresa, aluno, escola],
        )
    with pytest.raises(psycopg.errors.NotNullViolation):
        conn.execute(
            "INSERT INTO historico_aluno_escola (empresa_id, aluno_id, escola_id) "
            "VALUES (%s, %s, %s)",
            [empresa, aluno, escola],
        )
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute(
            "INSERT INTO historico_aluno_escola (empresa_id, aluno_id, escola_id, data_entrada) "
            "VALUES (%s, -1, %s, '2024-01-01')",
            [empresa, escola],
        )

    # 7.2: traducoes + traduzir() with fallback to the base language, then the original.
    conn.execute(
        "INSERT INTO traducoes (tabela, campo, id_registro, idioma, traducao) VALUES "
        "('escolas', 'nome', 1, 'en', 'School One'), "
        "('escolas', 'nome', 1, 'zh-Hant-TW', '第一學校')"
    )
    got = conn.execute(
        "SELECT traduzir('escolas', 'nome', 1, 'en-US', 'Escola Um'), "
        "traduzir('escolas', 'nome', 1, 'zh-Hant-TW', 'Escola Um'), "
        "traduzir('escolas', 'nome', 1, 'es', 'Escola Um'), "
        "traduzir('escolas', 'nome', 2, 'en', 'Escola Dois')"
    ).fetchone()
    assert got == ("School One", "第一學校", "Escola Um", "Escola Dois")
    assert conn.execute(
        "SELECT provolatile FROM pg_proc WHERE proname = 'traduzir'"
    ).fetchone() == ("s",)
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "INSERT INTO traducoes (tabela, campo, id_registro, idioma, traducao) "
            "VALUES ('escolas', 'nome', 1, 'not a tag', 'x')"
        )

    # The autocommit migration built a valid index.
    assert conn.execute(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = 'usuarios_ultimo_acesso_idx'::regclass"
    ).fetchone() == (True,)

    # Applied twice: a no-op.
    res = cli("migrate", "up", "--directory", "demo", "--yes")
    assert res.exit_code == 0, res.stderr
    assert "up to date" in res.stderr
    assert _ledger(conn) == ledger
    res = cli("migrate", "status", "--directory", "demo", "--format", "json")
    assert res.exit_code == 0
    assert {r["state"] for r in json.loads(res.stdout)} == {"applied"}


def test_dry_run_and_no_yes_change_nothing(cli, conn):
    res = cli("migrate", "up", "--directory", "demo", "--dry-run")
    assert res.exit_code == 0, res.stderr
    assert "CREATE INDEX CONCURRENTLY" in res.stdout
    assert "(autocommit: runs outside a transaction)" in res.stdout
    res = cli("migrate", "plan", "--directory", "demo", "--format", "json")
    assert res.exit_code == 0, res.stderr
    steps = json.loads(res.stdout)["steps"]
    assert sum(s["autocommit"] for s in steps) == 4  # start, DROP, CREATE, record
    res = cli("migrate", "up", "--directory", "demo")  # no TTY, no --yes
    assert res.exit_code == 4
    assert conn.execute("SELECT to_regclass('auroractl.schema_migrations')").fetchone() == (None,)
    assert conn.execute("SELECT to_regclass('historico_aluno_escola')").fetchone() == (None,)


def test_to_version_then_the_rest(cli, conn):
    res = cli("migrate", "up", "--directory", "demo", "--to", "2", "--yes")
    assert res.exit_code == 0, res.stderr
    assert [r[0] for r in _ledger(conn)] == [1, 2]
    res = cli("migrate", "up", "--directory", "demo", "--to", "99", "--yes")
    assert res.exit_code == 2
    assert "no migration has that version" in res.stderr
    res = cli("migrate", "up", "--directory", "demo", "--yes")
    assert res.exit_code == 0, res.stderr
    assert [r[0] for r in _ledger(conn)] == [1, 2, 3, 4, 5]


def test_tampered_checksum_is_refused(cli, conn, tmp_path):
    mig = tmp_path / "migs"
    shutil.copytree(SHIPPED, mig)
    res = cli("migrate", "up", "--to", "3", "--yes", "--directory", str(mig))
    assert res.exit_code == 0, res.stderr
    target = mig / "0002_usuarios_preferencias_notificacao.sql.j2"
    target.write_text(target.read_text().replace('"sms": false', '"sms": true'))

    res = cli("migrate", "up", "--yes", "--directory", str(mig))
    assert res.exit_code == 3
    assert "0002_usuarios_preferencias_notificacao.sql.j2 has changed" in res.stderr
    assert [r[0] for r in _ledger(conn)] == [1, 2, 3]  # nothing more applied
    res = cli("migrate", "status", "--directory", str(mig), "--format", "json")
    assert res.exit_code == 1
    states = {r["version"]: r["state"] for r in json.loads(res.stdout)}
    assert states == {1: "applied", 2: "changed", 3: "applied", 4: "pending", 5: "pending"}

    target.unlink()
    res = cli("migrate", "up", "--yes", "--directory", str(mig))
    assert res.exit_code == 3
    assert "0002_usuarios_preferencias_notificacao is missing" in res.stderr


def test_failed_migration_rolls_back_and_is_not_recorded(cli, conn, tmp_path):
    (tmp_path / "0001_ok.sql.j2").write_text(
        "CREATE TABLE {{ (schema, 'mig_ok') | ident }} (id int);\n"
    )
    (tmp_path / "0002_bad.sql.j2").write_text(
        "CREATE TABLE {{ (schema, 'mig_half') | ident }} (id int);\n"
        "ALTER TABLE {{ t.escolas | ident }} ADD COLUMN nome text;\n"  # exists already
    )
    res = cli("migrate", "up", "--yes", "--directory", str(tmp_path))
    assert res.exit_code == 7
    assert res.stderr.startswith("Error: database error [42701] in step '0002_bad': column")
    assert len(res.stderr.splitlines()) == 1
    assert [r[1] for r in _ledger(conn)] == ["ok"]
    failed = conn.execute(
        "SELECT error FROM auroractl.operations WHERE outcome = 'failed'"
    ).fetchone()[0]
    assert failed.startswith("step '0002_bad': 42701: column")
    assert conn.execute("SELECT to_regclass('mig_half')").fetchone() == (None,)
    # Fixing the file of a migration that was never applied is fine.
    (tmp_path / "0002_bad.sql.j2").write_text(
        "ALTER TABLE {{ t.escolas | ident }} ADD COLUMN apelido text;\n"
    )
    res = cli("migrate", "up", "--yes", "--directory", str(tmp_path))
    assert res.exit_code == 0, res.stderr
    assert [r[1] for r in _ledger(conn)] == ["ok", "bad"]


def test_unknown_table_in_a_migration_is_a_clear_error(cli, conn, tmp_path):
    (tmp_path / "0001_x.sql.j2").write_text("ALTER TABLE {{ t.escolaz | ident }} ADD x int;\n")
    res = cli("migrate", "up", "--yes", "--directory", str(tmp_path))
    assert res.exit_code == 3
    assert 'migration 0001_x.sql.j2: table "escolaz" does not exist' in res.stderr


def test_autocommit_statements_run_outside_a_transaction(cli, conn, tmp_path):
    (tmp_path / "0001_idx.sql.j2").write_text(
        "-- auroractl: autocommit\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS escolas_cidade_idx ON {{ t.escolas | ident }}"
        " (cidade);\n"
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS escolas_nome_idx ON {{ t.escolas | ident }}"
        " (nome);\n"
    )
    res = cli("migrate", "up", "--yes", "--directory", str(tmp_path))
    assert res.exit_code == 0, res.stderr
    assert conn.execute(
        "SELECT count(*) FROM pg_index WHERE indrelid = 'escolas'::regclass AND indisvalid "
        "AND indexrelid::regclass::text IN ('escolas_cidade_idx', 'escolas_nome_idx')"
    ).fetchone() == (2,)
    assert _ledger(conn)[0][5] is True


@pytest.mark.parametrize("verb", ["status", "plan", "up"])
def test_without_a_directory_migrate_refuses(cli, conn, verb):
    res = cli("migrate", verb, *(["--yes"] if verb == "up" else []))
    assert res.exit_code == 3
    assert len(res.stderr.strip().splitlines()) == 1
    assert "--directory PATH or set [migrate] directory" in res.stderr
    assert "--directory demo" in res.stderr
    assert conn.execute("SELECT to_regclass('auroractl.schema_migrations')").fetchone() == (None,)


def test_configured_directory_and_the_demo_as_a_path(cli, conn, tmp_path):
    mig = tmp_path / "db"
    mig.mkdir()
    (mig / "0001_t.sql.j2").write_text("CREATE TABLE {{ (schema, 'mig_t') | ident }} (id int);\n")
    (tmp_path / "auroractl.toml").write_text('[migrate]\ndirectory = "db"\n')
    res = cli("migrate", "up", "--yes")
    assert res.exit_code == 0, res.stderr
    assert _ledger(conn, "default")[0][1] == "t"
    # The shipped directory named by its path is the same demo series as `demo`.
    res = cli("migrate", "status", "--directory", str(SHIPPED), "--format", "json")
    assert {r["state"] for r in json.loads(res.stdout)} == {"pending"}
    res = cli("migrate", "up", "--directory", str(SHIPPED), "--to", "1", "--yes")
    assert res.exit_code == 0, res.stderr
    assert [r[0] for r in _ledger(conn, "demo")] == [1]


def test_series_keep_directories_apart(cli, conn, tmp_path):
    """A foreign database with its own migrations: the demo's are not its business."""
    conn.execute("CREATE TABLE people (id int PRIMARY KEY, first_name text)")
    own = tmp_path / "own"
    own.mkdir()
    (own / "0001_people_email.sql.j2").write_text(
        "ALTER TABLE {{ t.people | ident }} ADD COLUMN email text;\n"
    )
    res = cli("migrate", "up", "--directory", str(own), "--yes")
    assert res.exit_code == 0, res.stderr
    res = cli("migrate", "status", "--directory", str(own), "--format", "json")
    assert res.exit_code == 0, res.stderr
    assert [(r["version"], r["state"]) for r in json.loads(res.stdout)] == [(1, "applied")]

    # The demo's migrations: all pending, version 1 not "changed" by the other series.
    res = cli("migrate", "status", "--directory", "demo", "--format", "json")
    assert res.exit_code == 0, res.stderr
    assert {r["state"] for r in json.loads(res.stdout)} == {"pending"}

    # A second directory of the user's is a second series when named so.
    other = tmp_path / "other"
    other.mkdir()
    (other / "0001_people_phone.sql.j2").write_text(
        "ALTER TABLE {{ t.people | ident }} ADD COLUMN phone text;\n"
    )
    res = cli("migrate", "status", "--directory", str(other), "--format", "json")
    assert res.exit_code == 1  # same default series, another file at version 1
    res = cli("migrate", "up", "--directory", str(other), "--series", "other", "--yes")
    assert res.exit_code == 0, res.stderr
    assert [r[1] for r in _ledger(conn, "other")] == ["people_phone"]
    res = cli("migrate", "status", "--directory", str(own), "--format", "json")
    assert [(r["version"], r["state"]) for r in json.loads(res.stdout)] == [(1, "applied")]
    res = cli("migrate", "up", "--directory", str(own), "--series", "bad name", "--yes")
    assert res.exit_code == 2
