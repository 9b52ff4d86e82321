"""partition migrate against a real PostgreSQL: a plain contratos becomes partitioned online."""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path

import psycopg
import pytest

PLAIN = """
CREATE TABLE contratos_data AS SELECT * FROM contratos;
DROP TABLE contratos;
CREATE TABLE contratos (
    id          bigserial PRIMARY KEY,
    empresa_id  integer       NOT NULL REFERENCES empresas (id),
    aluno_id    integer,
    numero      text          NOT NULL,
    data_inicio date          NOT NULL,
    data_fim    date,
    valor_total numeric(12,2) NOT NULL CHECK (valor_total >= 0),
    status      text          NOT NULL DEFAULT 'ativo',
    criado_em   timestamptz   NOT NULL DEFAULT now()
);
INSERT INTO contratos SELECT * FROM contratos_data ORDER BY id;
SELECT setval('contratos_id_seq', (SELECT max(id) FROM contratos));
DROP TABLE contratos_data;
CREATE INDEX contratos_empresa_id_idx ON contratos (empresa_id);
CREATE UNIQUE INDEX contratos_numero_key ON contratos (numero);
COMMENT ON TABLE contratos IS 'contratos dos alunos';
COMMENT ON COLUMN contratos.numero IS 'numero do contrato';
CREATE VIEW contratos_ativos AS
    SELECT id, numero, valor_total FROM contratos WHERE status = 'ativo';
CREATE TABLE contrato_eventos (
    id serial PRIMARY KEY, contrato_id bigint REFERENCES contratos (id), nota text
);
CREATE TABLE contrato_log (op text, id bigint);
CREATE FUNCTION log_contrato() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO contrato_log VALUES (TG_OP, coalesce(NEW.id, OLD.id)); RETURN NULL; END $$;
CREATE TRIGGER contratos_log AFTER INSERT OR UPDATE OR DELETE ON contratos
    FOR EACH ROW EXECUTE FUNCTION log_contrato();
GRANT SELECT ON contratos TO pg_monitor;
CREATE MATERIALIZED VIEW contratos_por_ano AS
    SELECT extract(year FROM data_inicio)::int AS ano, count(*) AS n FROM contratos GROUP BY 1;
CREATE UNIQUE INDEX contratos_por_ano_ano ON contratos_por_ano (ano);
ANALYZE contratos;
"""
# The reference copy, maintained by the writer in the same transactions.
REFERENCE = "CREATE TABLE ref_contratos (LIKE contratos INCLUDING DEFAULTS)"
COLS = "id, empresa_id, aluno_id, numero, data_inicio, data_fim, valor_total, status, criado_em"


@pytest.fixture
def plain(conn: psycopg.Connection) -> psycopg.Connection:
    conn.execute(PLAIN)
    conn.execute(REFERENCE)
    conn.execute(f"INSERT INTO ref_contratos SELECT {COLS} FROM contratos")
    return conn


class Writer(threading.Thread):
    """Inserts, updates (also moving rows across years) and deletes contratos, applying
    each change to ref_contratos in the same transaction."""

    def __init__(self, dsn: str, seed: int = 1) -> None:
        super().__init__(daemon=True)
        self.dsn, self.rng = dsn, random.Random(seed)
        self.halt = threading.Event()
        self.ops = 0
        self.errors: list[str] = []

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as c:
            c.execute("SET lock_timeout = '10s'")
            while not self.halt.is_set():
                try:
                    with c.transaction():
                        self.step(c)
                    self.ops += 1
                except psycopg.errors.LockNotAvailable:
                    pass
                except psycopg.Error as exc:  # pragma: no cover - reported by the test
                    self.errors.append(" ".join(str(exc).split())[:200])
                time.sleep(0.001)

    def step(self, c: psycopg.Connection) -> None:
        r = self.rng.random()
        ids = c.execute("SELECT min(id), max(id) FROM contratos").fetchone()
        pick = self.rng.randint(ids[0] or 1, ids[1] or 1)
        if r < 0.4:
            year = self.rng.choice([2019, 2022, 2025])
            row = c.execute(
                "INSERT INTO contratos (empresa_id, numero, data_inicio, valor_total) "
                "VALUES (1, 'W-' || gen_random_uuid(), make_date(%s, 3, 1), 10) "
                f"RETURNING {COLS}",
                [year],
            ).fetchone()
            c.execute(f"INSERT INTO ref_contratos ({COLS}) VALUES ({', '.join(['%s'] * 9)})", row)
        elif r < 0.8:
            rows = c.execute(
                "UPDATE contratos SET valor_total = valor_total + 1, "
                "data_inicio = CASE WHEN id %% 3 = 0 THEN data_inicio + 400 ELSE data_inicio END "
                f"WHERE id = %s RETURNING {COLS}",
                [pick],
            ).fetchall()
            for row in rows:
                c.execute(
                    "UPDATE ref_contratos SET valor_total = %s, data_inicio = %s WHERE id = %s",
                    [row[6], row[4], row[0]],
                )
        else:
            c.execute("DELETE FROM contratos WHERE id = %s", [pick])
            c.execute("DELETE FROM ref_contratos WHERE id = %s", [pick])


def _same_as_reference(conn: psycopg.Connection, table: str = "contratos") -> None:
    diff = conn.execute(
        f"SELECT count(*) FROM ((SELECT {COLS} FROM {table} EXCEPT ALL "
        f"SELECT {COLS} FROM ref_contratos) UNION ALL (SELECT {COLS} FROM ref_contratos "
        f"EXCEPT ALL SELECT {COLS} FROM {table})) d"
    ).fetchone()[0]
    assert diff == 0
    assert (
        conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        == conn.execute("SELECT count(*) FROM ref_contratos").fetchone()[0]
    )


def _partitioned(conn: psycopg.Connection, table: str = "contratos") -> bool:
    return conn.execute(
        "SELECT relkind = 'p' FROM pg_class WHERE oid = %s::regclass", [table]
    ).fetchone()[0]


def test_prep_dry_run_explains_and_changes_nothing(plain, cli):
    r = cli(
        "partition",
        "migrate",
        "prep",
        "contratos",
        "--column",
        "data_inicio",
        "--by",
        "year",
        "--dry-run",
    )
    assert r.exit_code == 0, r.stderr
    assert "(id, data_inicio)" in r.stderr
    # The plan's notes head the dry-run plan (stdout): what cannot be carried, and why.
    notes = [line for line in r.stdout.splitlines() if line.startswith("-- note:")]
    assert any("contrato_eventos" in n for n in notes)  # the foreign key pointing at it
    assert any("contratos_numero_key" in n for n in notes)  # unique without the key
    assert "CREATE TABLE" in r.stdout
    assert plain.execute("SELECT to_regclass('contratos_partitioned')").fetchone()[0] is None


def test_full_migration_under_concurrent_writes(plain, cli, dsn):
    writer = Writer(dsn)
    writer.start()
    try:
        r = cli("partition", "migrate", "prep", "contratos", "--column", "data_inicio", "--yes")
        assert r.exit_code == 0, r.stderr
        again = cli("partition", "migrate", "prep", "contratos", "--column", "data_inicio", "--yes")
        assert again.exit_code == 0 and "nothing to do" in again.stderr
        r = cli(
            "partition",
            "migrate",
            "fill",
            "contratos",
            "--batch-size",
            "150",
            "--sleep-ms",
            "20",
            "--jobs",
            "2",
            "--yes",
        )
        assert r.exit_code == 0, r.stderr
        r = cli("partition", "migrate", "swap", "contratos", "--lock-timeout", "2s", "--yes")
        assert r.exit_code == 0, r.stderr
        time.sleep(0.3)
    finally:
        writer.halt.set()
        writer.join(10)
    assert not writer.errors, writer.errors[:3]
    assert writer.ops > 20
    assert _partitioned(plain)
    _same_as_reference(plain)
    _same_as_reference(plain, "contratos_retired")  # reverse mirror
    # catalog: primary key with the key, indexes, comments, view re-bound, default in use
    pk = plain.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'contratos'::regclass AND contype = 'p'"
    ).fetchone()[0]
    assert pk == "PRIMARY KEY (id, data_inicio)"
    assert plain.execute("SELECT obj_description('contratos'::regclass)").fetchone()[0] == (
        "contratos dos alunos"
    )
    assert plain.execute("SELECT to_regclass('contratos_empresa_id_idx')").fetchone()[0]
    view_reads = plain.execute(
        "SELECT DISTINCT d.refobjid::regclass::text FROM pg_depend d JOIN pg_rewrite r "
        "ON r.oid = d.objid WHERE r.ev_class = 'contratos_ativos'::regclass "
        "AND d.refobjid <> 'contratos_ativos'::regclass"
    ).fetchall()
    assert view_reads == [("contratos",)]
    assert plain.execute("SELECT count(*) FROM contratos_ativos").fetchone()[0] > 0
    new_id = plain.execute(
        "INSERT INTO contratos (empresa_id, numero, data_inicio, valor_total) "
        "VALUES (1, 'after-swap', '2024-05-01', 1) RETURNING id"
    ).fetchone()[0]
    assert (
        plain.execute("SELECT count(*) FROM contratos_retired WHERE id = %s", [new_id]).fetchone()[
            0
        ]
        == 1
    )
    r = cli("partition", "migrate", "verify", "contratos", "--format", "json")
    assert r.exit_code == 0, r.stdout
    assert json.loads(r.stdout)["ok"] is True


def test_verify_lists_differences_and_exits_1(plain, cli):
    assert (
        cli(
            "partition", "migrate", "prep", "contratos", "--column", "data_inicio", "--yes"
        ).exit_code
        == 0
    )
    r = cli("partition", "migrate", "fill", "-t", "contratos", "--yes", "--format", "json")
    assert r.exit_code == 0, r.stderr
    filled = json.loads(r.stdout)  # one document: the outcome, with the fill's own report
    assert filled["status"] == "applied" and filled["kind"] == "job"
    assert filled["rows"] == filled["result"]["rows_read"] > 0
    assert (
        plain.execute(
            "SELECT count(*) FROM auroractl.operations WHERE command LIKE 'partition migrate fill%'"
        ).fetchone()[0]
        == 1
    )
    plain.execute("ALTER TABLE contratos DISABLE TRIGGER auroractl_pm_mirror")
    plain.execute("UPDATE contratos SET numero = 'changed' WHERE id = 7")
    r = cli("partition", "migrate", "verify", "contratos", "--format", "json")
    assert r.exit_code == 1
    out = json.loads(r.stdout)
    assert out["ok"] is False and out["differences"][0]["key"] == ["7"]
    r = cli("partition", "migrate", "swap", "contratos", "--yes")
    assert r.exit_code == 0
    r = cli("partition", "migrate", "cleanup", "contratos", "--yes")
    assert r.exit_code == 3  # no passing verify since the swap


def test_unswap_restores_the_original_without_loss(plain, cli):
    for args in (("prep", "--column", "data_inicio"), ("fill",), ("swap",)):
        r = cli("partition", "migrate", *args, "contratos", "--yes")
        assert r.exit_code == 0, r.stderr
    # writes on the partitioned table reach the retired one
    plain.execute(
        "WITH i AS (INSERT INTO contratos (empresa_id, numero, data_inicio, valor_total) "
        "VALUES (1, 'n1', '2021-02-02', 5) RETURNING *) "
        f"INSERT INTO ref_contratos SELECT {COLS} FROM i"
    )
    # the trigger moved to the new table, disabled on the retired one: logged once
    logged = plain.execute(
        "SELECT count(*) FROM contrato_log l JOIN contratos c ON c.id = l.id WHERE c.numero = 'n1'"
    ).fetchone()[0]
    assert logged == 1
    assert plain.execute(
        "SELECT has_table_privilege('pg_monitor', 'contratos', 'SELECT')"
    ).fetchone()[0]
    plain.execute("UPDATE contratos SET status = 'encerrado' WHERE id = 3")
    plain.execute("UPDATE ref_contratos SET status = 'encerrado' WHERE id = 3")
    plain.execute("DELETE FROM contratos WHERE id = 4")
    plain.execute("DELETE FROM ref_contratos WHERE id = 4")
    r = cli("partition", "migrate", "unswap", "contratos", "--yes")
    assert r.exit_code == 0, r.stderr
    assert not _partitioned(plain)
    _same_as_reference(plain)
    assert (
        plain.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'contratos'::regclass "
            "AND tgname = 'auroractl_pm_mirror'"
        ).fetchone()[0]
        == 1
    )
    assert plain.execute("SELECT count(*) FROM contratos_ativos").fetchone()[0] > 0
    # and swap again, verify, cleanup
    assert cli("partition", "migrate", "swap", "contratos", "--yes").exit_code == 0
    assert cli("partition", "migrate", "verify", "contratos").exit_code == 0
    r = cli("partition", "migrate", "cleanup", "contratos", "--yes")
    assert r.exit_code == 0, r.stderr
    assert plain.execute("SELECT to_regclass('contratos_retired')").fetchone()[0] is None
    # the materialized view was re-created on the partitioned table, with its index
    assert plain.execute(
        "SELECT DISTINCT d.refobjid::regclass::text FROM pg_depend d JOIN pg_rewrite r "
        "ON r.oid = d.objid WHERE r.ev_class = 'contratos_por_ano'::regclass "
        "AND d.refobjid <> 'contratos_por_ano'::regclass"
    ).fetchall() == [("contratos",)]
    plain.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY contratos_por_ano")
    assert (
        plain.execute("SELECT sum(n) FROM contratos_por_ano").fetchone()[0]
        == (plain.execute("SELECT count(*) FROM contratos").fetchone()[0])
    )
    _same_as_reference(plain)
    # the foreign key on (id) alone cannot reference the partitioned table: constraint
    # triggers enforce it
    assert (
        plain.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'contrato_eventos'::regclass "
            "AND contype = 'f'"
        ).fetchone()[0]
        == 0
    )
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        plain.execute("INSERT INTO contrato_eventos (contrato_id, nota) VALUES (-1, 'x')")
    plain.execute(
        "INSERT INTO contrato_eventos (contrato_id, nota) SELECT min(id), 'ok' FROM contratos"
    )
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        plain.execute(
            "DELETE FROM contratos WHERE id IN (SELECT contrato_id FROM contrato_eventos)"
        )


def test_prep_dry_run_json_is_one_document(plain, cli):
    r = cli(
        "partition",
        "migrate",
        "prep",
        "--table",
        "contratos",
        "--column",
        "data_inicio",
        "--dry-run",
        "-f",
        "json",
    )
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["status"] == "dry-run"
    assert any("contrato_eventos" in n for n in doc["notes"])


def test_errors(plain, cli):
    assert cli("partition", "migrate", "prep", "contratoz", "--yes").exit_code == 2
    for verb in ("verify", "status", "abort", "swap", "cleanup"):  # before any migration
        r = cli("partition", "migrate", verb, "contratoz")
        assert r.exit_code == 2 and 'table "contratoz" does not exist' in r.stderr, verb
    r = cli("partition", "migrate", "verify", "contratos")
    assert r.exit_code == 3 and "partition migrate prep" in r.stderr  # a table, not migrated
    # not the sandbox: neither the demo's table nor its key is assumed
    r = cli("partition", "migrate", "prep", "--column", "data_inicio", "--yes")
    assert r.exit_code == 2 and "give the table" in r.stderr
    for by in ("year", "tenant"):
        r = cli("partition", "migrate", "prep", "contratos", "--by", by, "--yes")
        assert r.exit_code == 2 and "give --column" in r.stderr, by
    assert cli("partition", "migrate", "status").exit_code == 2
    assert cli("partition", "migrate", "prep", "contratos", "--by", "week").exit_code == 2
    r = cli("partition", "migrate", "prep", "contratos", "--column", "numero", "--yes")
    assert r.exit_code == 2
    assert cli("partition", "migrate", "fill", "contratos", "--yes").exit_code == 3
    # with auroractl's tables installed by a migration of another table
    plain.execute("CREATE TABLE outra (id int PRIMARY KEY, d date NOT NULL)")
    assert cli("partition", "migrate", "prep", "outra", "--column", "d", "--yes").exit_code == 0
    r = cli("partition", "migrate", "verify", "contratoz")
    assert r.exit_code == 2 and "does not exist" in r.stderr
    r = cli("partition", "migrate", "verify", "a.b.c")
    assert r.exit_code == 2, r.stderr
    r = cli("partition", "migrate", "prep", "contratos", "--column", "data_inicio")
    assert r.exit_code == 4  # no --yes, no TTY


def _copied(conn: psycopg.Connection) -> int:
    return conn.execute(
        "SELECT coalesce(sum(copied), 0) FROM auroractl.migrations_partition_chunks"
    ).fetchone()[0]


def test_fill_survives_sigkill_twice(plain, cli, dsn):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    exe = str(Path(sys.executable).parent / "auroractl")
    env = {**os.environ, "AURORACTL_DSN": dsn}
    cmd = [
        exe,
        "partition",
        "migrate",
        "fill",
        "contratos",
        "--batch-size",
        "20",
        "--sleep-ms",
        "20",
        "--yes",
    ]
    writer = Writer(dsn, seed=7)
    writer.start()
    try:
        assert (
            cli(
                "partition", "migrate", "prep", "contratos", "--column", "data_inicio", "--yes"
            ).exit_code
            == 0
        )
        for kill_after in (200, 600):
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                while _copied(plain) < kill_after and proc.poll() is None:
                    time.sleep(0.02)
                assert proc.poll() is None, "fill finished before it could be killed"
            finally:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
            assert proc.returncode == -signal.SIGKILL
        done = subprocess.run(
            [*cmd[:6], "500", "--yes"], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        assert "resumed" in done.stderr
        assert cli("partition", "migrate", "swap", "contratos", "--yes").exit_code == 0
        time.sleep(0.3)
    finally:
        writer.halt.set()
        writer.join(10)
    assert not writer.errors, writer.errors[:3]
    assert _partitioned(plain)
    _same_as_reference(plain)


def test_usuarios_by_tenant_hash_with_identity_and_incoming_foreign_key(conn, cli, demo_map):
    # --by tenant without --column: the data map's tenant column (empresa_id)
    r = cli(
        "partition",
        "migrate",
        "prep",
        "usuarios",
        "--by",
        "tenant",
        "--hash-partitions",
        "4",
        "--yes",
    )
    assert r.exit_code == 0, r.stderr
    assert "ai_preferences" in r.stderr and "usuarios_email_key" in r.stderr
    assert (
        conn.execute(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'usuarios_partitioned'::regclass"
        ).fetchone()[0]
        == 4
    )
    assert cli("partition", "migrate", "fill", "usuarios", "--jobs", "2", "--yes").exit_code == 0
    assert cli("partition", "migrate", "verify", "usuarios").exit_code == 0
    r = cli("partition", "migrate", "swap", "usuarios", "--yes")
    assert r.exit_code == 0, r.stderr
    before = conn.execute("SELECT max(id) FROM usuarios_retired").fetchone()[0]
    new_id = conn.execute(
        "INSERT INTO usuarios (empresa_id, nome, email) VALUES (1, 'Nova', 'nova@example.com') "
        "RETURNING id"
    ).fetchone()[0]
    assert new_id > before  # the identity sequence feeds the partitioned table
    # the foreign key still points at the retired table, kept complete by the reverse mirror
    conn.execute("INSERT INTO ai_preferences (empresa_id, usuario_id) VALUES (1, %s)", [new_id])
    r = cli("partition", "migrate", "unswap", "usuarios", "--yes")
    assert r.exit_code == 0, r.stderr
    assert (
        conn.execute("SELECT count(*) FROM usuarios WHERE email = 'nova@example.com'").fetchone()[0]
        == 1
    )
    again = conn.execute(
        "INSERT INTO usuarios (empresa_id, nome, email) VALUES (1, 'Outra', 'o@example.com') "
        "RETURNING id"
    ).fetchone()[0]
    assert again > new_id  # the original's identity continues after the twin's
    assert (
        conn.execute("SELECT count(*) FROM usuarios_partitioned WHERE id = %s", [again]).fetchone()[
            0
        ]
        == 1
    )  # mirrored again after unswap
    # swap again, and cleanup finishes on the identity key
    assert cli("partition", "migrate", "swap", "usuarios", "--yes").exit_code == 0
    assert cli("partition", "migrate", "verify", "usuarios").exit_code == 0
    r = cli("partition", "migrate", "cleanup", "usuarios", "--yes")
    assert r.exit_code == 0, r.stderr
    assert conn.execute("SELECT to_regclass('usuarios_retired')").fetchone()[0] is None
    seq = conn.execute("SELECT pg_get_serial_sequence('usuarios', 'id')").fetchone()[0]
    assert seq == "public.usuarios_id_seq"  # the identity kept its name
    last = conn.execute(
        "INSERT INTO usuarios (empresa_id, nome, email) VALUES (1, 'Ultima', 'u@example.com') "
        "RETURNING id"
    ).fetchone()[0]
    assert last > again
    conn.execute("INSERT INTO ai_preferences (empresa_id, usuario_id) VALUES (1, %s)", [last])
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute("INSERT INTO ai_preferences (empresa_id, usuario_id) VALUES (1, -5)")


def test_prep_copies_the_shape_of_a_table_with_a_hostile_name(plain, cli):
    plain.execute('CREATE TABLE "Odd USING t" (id int PRIMARY KEY, d date NOT NULL, n text UNIQUE)')
    plain.execute('CREATE INDEX "Odd ix" ON "Odd USING t" (lower(n))')
    plain.execute("INSERT INTO \"Odd USING t\" VALUES (1, '2025-02-01', 'a')")
    r = cli("partition", "migrate", "prep", '"Odd USING t"', "--column", "d", "--yes")
    assert r.exit_code == 0, r.stderr
    indexes = plain.execute(
        "SELECT indexname, indexdef FROM pg_indexes "
        "WHERE tablename = 'Odd USING t_partitioned' ORDER BY 1"
    ).fetchall()
    assert [i[0] for i in indexes] == ["Odd USING t_n_key_pm", "Odd USING t_pkey_pm", "Odd ix_pm"]
    assert "lower(n)" in indexes[2][1]
    assert "UNIQUE" not in indexes[0][1]  # without the partition key: a plain index


def test_every_outcome_is_one_json_document(plain, cli):
    first = cli(
        "partition",
        "migrate",
        "prep",
        "contratos",
        "--column",
        "data_inicio",
        "--yes",
        "--format",
        "json",
    )
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["status"] == "applied"
    again = cli(
        "partition",
        "migrate",
        "prep",
        "contratos",
        "--column",
        "data_inicio",
        "--yes",
        "--format",
        "json",
    )
    assert json.loads(again.stdout)["status"] == "nothing-to-do"
    status = cli("partition", "migrate", "status", "--table", "contratos", "-f", "json")
    assert json.loads(status.stdout)["phase"] == "prepped"
    dry = cli("partition", "migrate", "swap", "contratos", "--dry-run", "--format", "json")
    assert dry.exit_code == 3  # the fill has not run: refused before any document


# ---------------------------------------------------------------- abort, dependents

FINGERPRINT = (
    Path(__file__)
    .with_name("catalog_fingerprint.sql")
    .read_text()
    .replace("%", "%%")
    .replace("%%(table)s", "%(table)s")
)
# More of what hangs on a table, beyond PLAIN's view, matview, trigger, grant and comments.
DEPENDENTS = """
ALTER TABLE contratos ALTER COLUMN numero SET STATISTICS 500;
ALTER TABLE contratos ENABLE ROW LEVEL SECURITY;
CREATE POLICY contratos_todos ON contratos USING (true);
CREATE PUBLICATION contratos_pub FOR TABLE contratos;
COMMENT ON TRIGGER contratos_log ON contratos IS 'audit log';
CREATE TRIGGER contratos_off AFTER UPDATE ON contratos
    FOR EACH ROW EXECUTE FUNCTION log_contrato();
ALTER TABLE contratos DISABLE TRIGGER contratos_off;
ALTER VIEW contratos_ativos SET (security_barrier = true);
GRANT INSERT, UPDATE ON contratos TO pg_monitor WITH GRANT OPTION;
GRANT USAGE ON SEQUENCE contratos_id_seq TO pg_monitor;
"""


def fingerprint(conn: psycopg.Connection, table: str = "contratos") -> list[tuple[str, str]]:
    return conn.execute(FINGERPRINT, {"table": table}).fetchall()


@pytest.fixture
def rich(plain: psycopg.Connection) -> psycopg.Connection:
    plain.execute(DEPENDENTS)
    return plain


def _migrate(cli, *steps: str, table: str = "contratos") -> None:
    for step in steps:
        extra = {"prep": ("--column", "data_inicio", "--yes"), "verify": ()}.get(step, ("--yes",))
        r = cli("partition", "migrate", step, table, *extra)
        assert r.exit_code == 0, (step, r.stderr)


def _no_trace(conn: psycopg.Connection) -> None:
    """Nothing of the migration is left: no twin, no mirror functions, no record."""
    assert conn.execute("SELECT to_regclass('contratos_partitioned')").fetchone() == (None,)
    assert conn.execute("SELECT count(*) FROM pg_proc WHERE proname LIKE 'pm\\_%%'").fetchone() == (
        0,
    )
    assert conn.execute("SELECT count(*) FROM auroractl.migrations_partition").fetchone() == (0,)


def _without_sequence_values(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v.split(" last=")[0]) if k == "sequence" else (k, v) for k, v in rows]


@pytest.mark.parametrize("stage", ["prepped", "filled", "swapped", "unswapped"])
def test_abort_leaves_the_table_exactly_as_it_was(rich, cli, stage):
    before = fingerprint(rich)
    steps = {
        "prepped": ("prep",),
        "filled": ("prep", "fill"),
        "swapped": ("prep", "fill", "swap"),
        "unswapped": ("prep", "fill", "swap", "unswap"),
    }[stage]
    _migrate(cli, *steps)
    written = None
    if stage == "swapped":
        assert fingerprint(rich) != before  # the partitioned table has the name now
        written = rich.execute(
            "INSERT INTO contratos (empresa_id, numero, data_inicio, valor_total) "
            f"VALUES (1, 'during', '2024-01-01', 1) RETURNING {COLS}"
        ).fetchone()
        rich.execute(f"INSERT INTO ref_contratos VALUES ({', '.join(['%s'] * 9)})", written)
    r = cli("partition", "migrate", "abort", "contratos", "--yes")
    assert r.exit_code == 0, r.stderr
    after = fingerprint(rich)
    if written is not None:  # the insert moved the sequence on, and the value stays taken
        before, after = _without_sequence_values(before), _without_sequence_values(after)
        assert rich.execute("SELECT nextval('contratos_id_seq')").fetchone()[0] > written[0]
    assert after == before, {"new": set(after) - set(before), "gone": set(before) - set(after)}
    _no_trace(rich)
    _same_as_reference(rich)
    # and a migration can start again
    r = cli("partition", "migrate", "prep", "contratos", "--column", "data_inicio", "--yes")
    assert r.exit_code == 0, r.stderr


def test_abort_while_the_fill_runs(rich, cli, dsn):
    import os
    import subprocess
    import sys

    before = fingerprint(rich)
    _migrate(cli, "prep")
    exe = str(Path(sys.executable).parent / "auroractl")
    env = {**os.environ, "AURORACTL_DSN": dsn}
    fill = subprocess.Popen(
        [exe, "partition", "migrate", "fill", "contratos", "--batch-size", "20", "--sleep-ms",
         "30", "--yes"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        while _copied(rich) < 100 and fill.poll() is None:
            time.sleep(0.02)
        assert fill.poll() is None, "the fill finished before the abort"
        r = cli("partition", "migrate", "abort", "contratos", "--yes")
        assert r.exit_code == 0, r.stderr
        fill.wait(60)
    finally:
        fill.kill()
    assert fill.returncode != 0  # its next batch found the twin gone
    assert fingerprint(rich) == before
    assert rich.execute("SELECT to_regclass('contratos_partitioned')").fetchone() == (None,)


def test_abort_refuses_after_cleanup_and_without_a_migration(plain, cli):
    r = cli("partition", "migrate", "abort", "contratos", "--yes")
    assert r.exit_code == 3 and "no partition migration" in r.stderr
    _migrate(cli, "prep", "fill", "swap", "verify")
    r = cli("partition", "migrate", "cleanup", "contratos", "--yes")
    assert r.exit_code == 0, r.stderr
    r = cli("partition", "migrate", "abort", "contratos", "--yes")
    assert r.exit_code == 3 and "cleaned up" in r.stderr


def test_dependents_follow_through_swap_and_back(rich, cli):
    before = fingerprint(rich)
    _migrate(cli, "prep", "fill", "swap")
    now = {v for _, v in fingerprint(rich)}
    # on the new table: the statistics target, the policy, the trigger states and comments,
    # the publication (without the retired table), the view's option, the grants
    for expected in (
        "numero text notnull=t default= identity= generated= stats=500 comment=numero do contrato",
        "contratos_todos * t roles={-} using=true check=",
        "contratos_pub cols= where=",
    ):
        assert expected in now, expected
    triggers = [v for v in now if " on contratos enabled=" in v]
    assert any("contratos_log" in t and "enabled=O comment=audit log" in t for t in triggers)
    assert any("contratos_off" in t and "enabled=D" in t for t in triggers)
    assert rich.execute(
        "SELECT reloptions FROM pg_class WHERE relname = 'contratos_ativos'"
    ).fetchone() == (["security_barrier=true"],)
    assert rich.execute(
        "SELECT array_agg(tablename::text ORDER BY 1) FROM pg_publication_tables "
        "WHERE pubname = 'contratos_pub'"
    ).fetchone()[0] == [r[0] for r in rich.execute(
        "SELECT relid::regclass::text FROM pg_partition_tree('contratos') WHERE isleaf "
        "ORDER BY 1"
    )]  # fmt: skip
    assert rich.execute(
        "SELECT has_table_privilege('pg_monitor', 'contratos', 'UPDATE WITH GRANT OPTION'), "
        "relrowsecurity FROM pg_class WHERE oid = 'contratos'::regclass"
    ).fetchone() == (True, True)
    # a grant made after the swap follows the table back at unswap
    rich.execute("GRANT DELETE ON contratos TO pg_monitor")
    _migrate(cli, "unswap")
    after = fingerprint(rich)
    assert [v for k, v in before if k == "table"] != [v for k, v in after if k == "table"]

    def dependents(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
        # the twin and the forward mirror stay until abort (or the next swap)
        return [
            (k, v)
            for k, v in rows
            if k not in ("table", "function in auroractl", "relation in schema")
            and "auroractl_pm_mirror" not in v
        ]

    assert dependents(before) == dependents(after)
    assert rich.execute(
        "SELECT has_table_privilege('pg_monitor', 'contratos', 'DELETE')"
    ).fetchone() == (True,)


# ---------------------------------------------------------------- referenced tables

TENANT_A = "00000000-0000-0000-0000-00000000000a"
MISSING = -1  # a person id that never exists


class ShopWriter(threading.Thread):
    """The shop's application on its own connection while shop.people is migrated: updates
    people, signs new ones up (person, account, order, payment in one transaction), deletes
    some with everything of theirs, and now and then tries rows referencing a person that
    does not exist, which must be rejected: ``probes[phase]`` = [rejected, accepted]."""

    def __init__(self, dsn: str, seed: int = 3) -> None:
        super().__init__(daemon=True)
        self.dsn, self.rng = dsn, random.Random(seed)
        self.halt = threading.Event()
        self.phase = "before"
        self.ops = 0
        self.errors: list[str] = []
        self.probes: dict[str, list[int]] = {}

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as c:
            c.execute("SET lock_timeout = '20s'")
            while not self.halt.is_set():
                try:
                    with c.transaction():
                        self.step(c)
                    self.ops += 1
                except psycopg.Error as exc:  # pragma: no cover - reported by the test
                    self.errors.append(f"{self.phase}: " + " ".join(str(exc).split())[:300])
                time.sleep(0.002)

    def pick(self, c: psycopg.Connection) -> int | None:
        row = (
            c.execute("SELECT id FROM shop.people TABLESAMPLE BERNOULLI (30) LIMIT 1").fetchone()
            or c.execute("SELECT min(id) FROM shop.people").fetchone()
        )
        return row[0]

    def step(self, c: psycopg.Connection) -> None:
        r = self.rng.random()
        if r < 0.35:
            c.execute("UPDATE shop.people SET notes = %s WHERE id = %s", [str(r), self.pick(c)])
        elif r < 0.65:
            self.sign_up(c)
        elif r < 0.8:
            person = self.pick(c)
            for table in ("payments", "orders", "accounts"):
                c.execute(f"DELETE FROM shop.{table} WHERE person_id = %s", [person])
            c.execute("DELETE FROM shop.people WHERE id = %s", [person])
        else:
            self.probe(c)

    def sign_up(self, c: psycopg.Connection) -> None:
        tag = f"w{self.rng.getrandbits(48)}"
        (person,) = c.execute(
            "INSERT INTO shop.people (tenant_id, first_name, last_name, email) "
            "VALUES (%s, 'W', 'Riter', %s) RETURNING id",
            [TENANT_A, f"{tag}@example.com"],
        ).fetchone()
        c.execute(
            "INSERT INTO shop.accounts (tenant_id, person_id, username, password_hash) "
            "VALUES (%s, %s, %s, 'x')",
            [TENANT_A, person, tag],
        )
        (order,) = c.execute(
            "INSERT INTO shop.orders (tenant_id, person_id, total) VALUES (%s, %s, 5) RETURNING id",
            [TENANT_A, person],
        ).fetchone()
        c.execute(
            "INSERT INTO shop.payments (id, tenant_id, order_id, person_id, paid_on, amount) "
            "VALUES (%s, %s, %s, %s, '2026-02-10', 5)",
            [order, TENANT_A, order, person],
        )

    def probe(self, c: psycopg.Connection) -> None:
        tally = self.probes.setdefault(self.phase, [0, 0])
        (order,) = c.execute("SELECT min(id) FROM shop.orders").fetchone()
        for sql, params in (
            (
                "INSERT INTO shop.accounts (tenant_id, person_id, username, password_hash) "
                "VALUES (%s, %s, %s, 'x')",
                [TENANT_A, MISSING, f"p{self.rng.getrandbits(48)}"],
            ),
            (
                "INSERT INTO shop.orders (tenant_id, person_id, total) VALUES (%s, %s, 1)",
                [TENANT_A, MISSING],
            ),
            (
                "INSERT INTO shop.payments (id, tenant_id, order_id, person_id, paid_on, amount) "
                "SELECT -id, tenant_id, id, %s, '2026-01-15', 1 FROM shop.orders WHERE id = %s",
                [MISSING, order],
            ),
        ):
            try:
                with c.transaction():
                    c.execute(sql, params)
                tally[1] += 1  # accepted: referential integrity is broken
            except psycopg.errors.ForeignKeyViolation:
                tally[0] += 1


def _probed(writer: ShopWriter, phase: str, at_least: int = 3) -> None:
    """Let the writer work in ``phase`` until it has probed it."""
    writer.phase = phase
    deadline = time.monotonic() + 60
    while writer.probes.get(phase, [0, 0])[0] < at_least and time.monotonic() < deadline:
        if not writer.is_alive():
            break
        time.sleep(0.05)


ORPHANS = """
SELECT (SELECT count(*) FROM shop.accounts a
        WHERE NOT EXISTS (SELECT FROM shop.people p WHERE p.id = a.person_id)),
       (SELECT count(*) FROM shop.orders o WHERE NOT EXISTS
           (SELECT FROM shop.people p WHERE (p.tenant_id, p.id) = (o.tenant_id, o.person_id))),
       (SELECT count(*) FROM shop.payments y
        WHERE NOT EXISTS (SELECT FROM shop.people p WHERE p.id = y.person_id)),
       (SELECT count(*) FROM shop.support_tickets t WHERE t.person_id IS NOT NULL
        AND NOT EXISTS (SELECT FROM shop.people p WHERE p.id = t.person_id))
"""


def test_a_referenced_table_is_migrated_while_the_application_writes(en_dsn, cli, monkeypatch):
    """shop.people is referenced by accounts, orders (by tenant and id), each partition of
    payments and support_tickets (ON DELETE SET NULL). Migrated by a uuid tenant HASH while
    the application updates, deletes and inserts referenced and referencing rows: not one
    statement fails, and a row referencing a missing person is rejected throughout."""
    monkeypatch.setenv("AURORACTL_LOCK_RETRIES", "20")
    writer = ShopWriter(en_dsn)
    writer.start()
    try:
        _probed(writer, "before")
        writer.phase = "migrating"
        r = cli(
            "partition", "migrate", "prep", "shop.people", "--by", "tenant",
            "--column", "tenant_id", "--hash-partitions", "4", "--yes",
        )  # fmt: skip
        assert r.exit_code == 0, r.stderr
        assert "accounts_person_id_fkey" in r.stderr and "payments_2026_02_person_fk" in r.stderr
        r = cli(
            "partition", "migrate", "fill", "shop.people", "--batch-size", "7",
            "--sleep-ms", "20", "--jobs", "2", "--yes",
        )  # fmt: skip
        assert r.exit_code == 0, r.stderr
        _probed(writer, "migrating")
        r = cli("partition", "migrate", "swap", "shop.people", "--lock-timeout", "2s", "--yes")
        assert r.exit_code == 0, r.stderr
        _probed(writer, "swapped")
        assert cli("partition", "migrate", "verify", "shop.people").exit_code == 0
        r = cli(
            "partition", "migrate", "cleanup", "shop.people", "--lock-timeout", "500ms", "--yes"
        )
        assert r.exit_code == 0, r.stderr
        assert "6 foreign key(s) validated" in r.stderr
        _probed(writer, "cleaned up")
    finally:
        writer.halt.set()
        writer.join(30)
    assert not writer.errors, writer.errors[:5]
    assert writer.ops > 50
    for phase in ("before", "migrating", "swapped", "cleaned up"):
        rejected, accepted = writer.probes.get(phase, [0, 0])
        assert rejected >= 3 and accepted == 0, (phase, rejected, accepted)
    with psycopg.connect(en_dsn, autocommit=True) as conn:
        assert _partitioned(conn, "shop.people")
        assert conn.execute(ORPHANS).fetchone() == (0, 0, 0, 0)
        # the foreign key with the partition key is a foreign key again, validated
        assert conn.execute(
            "SELECT convalidated, confrelid::regclass::text FROM pg_constraint "
            "WHERE conname = 'orders_person_fk'"
        ).fetchone() == (True, "shop.people")
        # the others are constraint triggers, with their actions: SET NULL
        (person,) = conn.execute("SELECT min(person_id) FROM shop.support_tickets").fetchone()
        for table in ("payments", "orders", "accounts"):
            conn.execute(f"DELETE FROM shop.{table} WHERE person_id = %s", [person])
        conn.execute("DELETE FROM shop.people WHERE id = %s", [person])
        assert conn.execute(
            "SELECT count(*) FROM shop.support_tickets WHERE person_id = %s", [person]
        ).fetchone() == (0,)
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute(
                "DELETE FROM shop.people WHERE id = (SELECT max(person_id) FROM shop.accounts)"
            )


REFERENCING = """
CREATE UNIQUE INDEX contratos_id_inicio_key ON contratos (id, data_inicio);
-- by (id) alone: constraint triggers after cleanup, with the key's own actions
CREATE TABLE contrato_itens (
    id serial PRIMARY KEY,
    contrato_id bigint REFERENCES contratos (id) ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE TABLE aditivos (
    id serial PRIMARY KEY,
    contrato_id bigint REFERENCES contratos (id) DEFERRABLE INITIALLY DEFERRED
);
-- with the partition key, declared on a partitioned table: a foreign key again
CREATE TABLE parcelas (
    contrato_id bigint NOT NULL, data_inicio date NOT NULL, n int NOT NULL,
    FOREIGN KEY (contrato_id, data_inicio) REFERENCES contratos (id, data_inicio)
) PARTITION BY RANGE (data_inicio);
CREATE TABLE parcelas_antigas PARTITION OF parcelas FOR VALUES FROM (MINVALUE) TO ('2024-01-01');
CREATE TABLE parcelas_novas PARTITION OF parcelas FOR VALUES FROM ('2024-01-01') TO (MAXVALUE);
INSERT INTO contrato_itens (contrato_id) SELECT id FROM contratos WHERE id % 10 = 0;
INSERT INTO aditivos (contrato_id) SELECT id FROM contratos WHERE id % 10 = 1;
INSERT INTO parcelas SELECT id, data_inicio, 1 FROM contratos WHERE id % 10 = 2;
"""


def _referencing_rules_hold(conn: psycopg.Connection) -> None:
    """Each foreign key onto contratos acts as declared."""
    item = conn.execute("SELECT min(contrato_id) FROM contrato_itens").fetchone()[0]
    conn.execute("UPDATE contratos SET id = id + 1000000 WHERE id = %s", [item])  # cascades
    assert (
        conn.execute(
            "SELECT count(*) FROM contrato_itens WHERE contrato_id = %s", [item + 1000000]
        ).fetchone()[0]
        >= 1
    )
    conn.execute("DELETE FROM contratos WHERE id = %s", [item + 1000000])  # cascades
    assert conn.execute(
        "SELECT count(*) FROM contrato_itens WHERE contrato_id = %s", [item + 1000000]
    ).fetchone() == (0,)
    with conn.transaction():  # deferred: a missing key is fine until commit
        conn.execute("INSERT INTO aditivos (contrato_id) VALUES (-7)")
        conn.execute("DELETE FROM aditivos WHERE contrato_id = -7")
    with pytest.raises(psycopg.errors.ForeignKeyViolation), conn.transaction():
        conn.execute("INSERT INTO aditivos (contrato_id) VALUES (-7)")
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute("INSERT INTO parcelas VALUES (-1, '2025-01-01', 1)")
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute("DELETE FROM contratos WHERE id = (SELECT min(contrato_id) FROM parcelas)")
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute(
            "DELETE FROM contratos WHERE id = (SELECT min(contrato_id) FROM aditivos)"
        )  # checked at the end of the statement's transaction


def test_foreign_keys_keep_their_actions_through_swap_and_cleanup(plain, cli):
    plain.execute(REFERENCING)
    r = cli(
        "partition", "migrate", "prep", "contratos", "--column", "data_inicio", "--dry-run"
    )  # fmt: skip
    notes = [n for n in r.stdout.splitlines() if n.startswith("-- note: foreign key")]
    assert len(notes) == 4  # contrato_eventos, contrato_itens, aditivos, parcelas
    assert any("parcelas" in n and "NOT VALID" in n and "per partition" in n for n in notes)
    assert sum("constraint triggers" in n for n in notes) == 3
    _referencing_rules_hold(plain)
    _migrate(cli, "prep", "fill", "swap")
    _referencing_rules_hold(plain)
    _migrate(cli, "verify", "cleanup")
    _referencing_rules_hold(plain)
    fks = plain.execute(
        "SELECT conrelid::regclass::text, convalidated FROM pg_constraint "
        "WHERE contype = 'f' AND confrelid = 'contratos'::regclass AND conparentid = 0"
    ).fetchall()
    assert fks == [("parcelas", True)]  # attached over its validated partitions
    leaves = plain.execute(
        "SELECT count(*) FROM pg_constraint c JOIN pg_constraint p ON p.oid = c.conparentid "
        "WHERE p.conrelid = 'parcelas'::regclass AND c.convalidated"
    ).fetchone()[0]
    assert leaves >= 2
    status = json.loads(cli("partition", "migrate", "status", "contratos", "-f", "json").stdout)
    assert [m["validated"] for m in status["fk_moves"]] == [True] * 4


def test_abort_after_swap_leaves_the_shop_as_it_was(en_dsn, cli):
    """An identity (ALWAYS) key, a BEFORE UPDATE trigger, foreign keys onto it from tables
    and from partitions: all exactly as before once the swapped migration is abandoned."""
    with psycopg.connect(en_dsn, autocommit=True) as conn:
        before = fingerprint(conn, "shop.people")
        prep = ("prep", "shop.people", "--by", "tenant", "--column", "tenant_id")
        r = cli("partition", "migrate", *prep, "--hash-partitions", "2", "--yes")
        assert r.exit_code == 0, r.stderr
        for step in ("fill", "swap", "abort"):
            r = cli("partition", "migrate", step, "shop.people", "--yes")
            assert r.exit_code == 0, (step, r.stderr)
        assert fingerprint(conn, "shop.people") == before
        (new,) = conn.execute(
            "INSERT INTO shop.people (tenant_id, first_name, last_name, email) "
            "VALUES (%s, 'A', 'B', 'ab@example.com') RETURNING id",
            [TENANT_A],
        ).fetchone()
        assert new == 41  # the identity continues where it was


def test_what_cannot_follow_is_named_and_cleanup_waits_for_it(plain, cli):
    body = (
        "CREATE OR REPLACE FUNCTION contratos_total() RETURNS numeric LANGUAGE sql "
        "BEGIN ATOMIC SELECT sum(valor_total) FROM contratos; END"
    )
    plain.execute(body)
    r = cli("partition", "migrate", "prep", "contratos", "--column", "data_inicio", "--yes")
    assert r.exit_code == 0, r.stderr
    assert "function contratos_total(): bound to public.contratos by OID" in r.stderr
    _migrate(cli, "fill", "swap", "verify")
    r = cli("partition", "migrate", "cleanup", "contratos", "--yes")
    assert r.exit_code == 3 and "function contratos_total()" in r.stderr
    plain.execute(body)  # re-created: it reads the new table now
    _migrate(cli, "cleanup")
    assert plain.execute("SELECT contratos_total() > 0").fetchone() == (True,)
