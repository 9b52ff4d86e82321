"""encrypt backfill/status/finalize/rotate against a real PostgreSQL, incl. kill -9 resumes."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

import psycopg
import pytest

KEY = "k3y-for-tests-0123456789abcdef=="
NEW_KEY = "another-key-for-tests-0123456789=="
# The demo's table and column, named: only the sandbox assumes them.
NAMES = ("usuarios", "--column", "documento_identidade")


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv("AURORACTL_ENCRYPTION_KEY", KEY)
    return KEY


def decrypted(conn: psycopg.Connection, key: str = KEY) -> dict[int, str | None]:
    rows = conn.execute(
        "SELECT id, pgp_sym_decrypt(documento_identidade_encrypted, %s) FROM usuarios "
        "WHERE documento_identidade_encrypted IS NOT NULL",
        [key],
    ).fetchall()
    return dict(rows)


def test_dry_run_changes_nothing_and_needs_no_key(cli, dsn, conn):
    result = cli("encrypt", "backfill", *NAMES, "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "pgp_sym_encrypt" in result.stdout
    assert "current_setting('auroractl.encryption_key')" in result.stdout
    assert (
        conn.execute(
            "SELECT 1 FROM pg_attribute WHERE attrelid = 'usuarios'::regclass "
            "AND attname = 'documento_identidade_encrypted'"
        ).fetchone()
        is None
    )


def test_backfill_status_finalize(cli, key, conn):
    before = dict(conn.execute("SELECT id, documento_identidade FROM usuarios").fetchall())
    st = cli("encrypt", "status", *NAMES, "--format", "json")
    assert st.exit_code == 0, st.stderr
    assert json.loads(st.stdout)["plaintext_only"] == sum(v is not None for v in before.values())
    result = cli("encrypt", "backfill", *NAMES, "--batch-size", "700", "--jobs", "2", "--yes")
    assert result.exit_code == 0, result.stderr
    assert KEY not in result.stdout + result.stderr
    got = decrypted(conn)
    assert got == {k: v for k, v in before.items() if v is not None}
    # the options the backfill chose: aes256 (cipher 9), s2k mode 1
    head = conn.execute(
        "SELECT substring(documento_identidade_encrypted FROM 1 FOR 5) FROM usuarios "
        "WHERE documento_identidade_encrypted IS NOT NULL LIMIT 1"
    ).fetchone()[0]
    assert head[3] == 9 and head[4] == 1  # SKESK v4: version, cipher algo, S2K specifier
    # the key never appears in SQL text kept by the server
    assert not conn.execute(
        "SELECT 1 FROM pg_stat_statements WHERE query LIKE %s", [f"%{KEY}%"]
    ).fetchone()
    again = cli("encrypt", "backfill", *NAMES, "--yes", "--format", "json")
    assert again.exit_code == 0 and json.loads(again.stdout)["result"]["encrypted"] == 0
    st = json.loads(cli("encrypt", "status", *NAMES, "--format", "json").stdout)
    assert st["both"] == len(got) and st["plaintext_only"] == 0 and st["mismatch"] == 0
    sample = json.loads(
        cli("encrypt", "status", *NAMES, "--sample", "50", "--format", "json").stdout
    )
    assert sample["total"] == 50
    # a tampered row: finalize keeps its plaintext and reports it
    conn.execute(
        "UPDATE usuarios SET documento_identidade_encrypted = pgp_sym_encrypt('other', %s) "
        "WHERE id = 3",
        [KEY],
    )
    bad = cli("encrypt", "status", *NAMES, "--format", "json")
    assert bad.exit_code == 1 and json.loads(bad.stdout)["mismatch"] == 1
    fin = cli("encrypt", "finalize", *NAMES, "--yes", "--batch-size", "999")
    assert fin.exit_code == 1, fin.stderr
    assert "id in (3)" in fin.stderr
    left = conn.execute("SELECT id FROM usuarios WHERE documento_identidade IS NOT NULL").fetchall()
    assert left == [(3,)]
    assert decrypted(conn) == {k: (v if k != 3 else "other") for k, v in got.items()}


def test_plaintext_update_clears_stale_ciphertext(cli, key, conn):
    assert cli("encrypt", "backfill", *NAMES, "--yes").exit_code == 0
    conn.execute("UPDATE usuarios SET documento_identidade = 'changed' WHERE id = 1")
    assert decrypted(conn).get(1) is None
    conn.execute("UPDATE usuarios SET nome = 'x' WHERE id = 2")  # not the plaintext
    assert decrypted(conn).get(2) is not None
    assert cli("encrypt", "backfill", *NAMES, "--yes").exit_code == 0
    assert decrypted(conn)[1] == "changed"


def test_rotate_is_resumable(cli, key, conn, monkeypatch):
    assert cli("encrypt", "backfill", *NAMES, "--yes").exit_code == 0
    plain = decrypted(conn)
    # half the rows already rotated (as if a previous run was killed)
    conn.execute(
        "UPDATE usuarios SET documento_identidade_encrypted = pgp_sym_encrypt("
        "pgp_sym_decrypt(documento_identidade_encrypted, %s), %s) WHERE id %% 2 = 0",
        [KEY, NEW_KEY],
    )
    monkeypatch.setenv("AURORACTL_NEW_ENCRYPTION_KEY", NEW_KEY)
    result = cli("encrypt", "rotate", *NAMES, "--yes", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["result"]["rotated"] == sum(1 for k in plain if k % 2)
    assert decrypted(conn, NEW_KEY) == plain


def test_refusals_and_bad_input(cli, dsn, monkeypatch):
    assert cli("encrypt", "backfill", *NAMES, "--yes").exit_code == 2  # no key
    monkeypatch.setenv("AURORACTL_ENCRYPTION_KEY", "short")
    assert cli("encrypt", "backfill", *NAMES, "--yes").exit_code == 2
    monkeypatch.setenv("AURORACTL_ENCRYPTION_KEY", KEY)
    assert cli("encrypt", "backfill", *NAMES).exit_code == 4  # no TTY, no --yes
    # not the sandbox: the demo's table and column are not assumed
    for verb in ("backfill", "status", "finalize", "rotate"):
        bare = cli("encrypt", verb, "--yes" if verb != "status" else "--sample=1")
        assert bare.exit_code == 2 and "give the table" in bare.stderr, verb
        no_column = cli("encrypt", verb, "usuarios")
        assert no_column.exit_code == 2 and "give --column" in no_column.stderr, verb
    assert cli("encrypt", "backfill", "usuarios", "--column", "nope", "--yes").exit_code == 2
    assert (
        cli(
            "encrypt", "backfill", "--column", "documento_identidade", "--table", "nope", "--yes"
        ).exit_code
        == 2
    )
    assert cli("encrypt", "backfill", *NAMES, "--batch-size", "0", "--yes").exit_code == 2
    assert cli("encrypt", "backfill", "usuarios", "--column", "criado_em", "--yes").exit_code == 3


def test_backfill_sees_every_row_after_rls_enable_as_the_owner(cli, key, conn, demo_map):
    assert cli("rls", "enable", "--all", "--yes").exit_code == 0
    assert conn.execute("SELECT count(*) FROM usuarios").fetchone()[0] == 0  # FORCE binds us
    result = cli("encrypt", "backfill", *NAMES, "--yes", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["result"]["encrypted"] == 5000
    st = json.loads(cli("encrypt", "status", *NAMES, "--format", "json").stdout)
    assert st["both"] == 5000 and st["plaintext_only"] == 0


def _progress(conn: psycopg.Connection) -> tuple[int, int]:
    """(rows encrypted, rows with plaintext still waiting); (0, 0) before the column exists."""
    if not conn.execute(
        "SELECT 1 FROM pg_attribute WHERE attrelid = 'usuarios'::regclass "
        "AND attname = 'documento_identidade_encrypted'"
    ).fetchone():
        return (0, 0)
    return conn.execute(
        "SELECT count(documento_identidade_encrypted), count(*) FILTER (WHERE "
        "documento_identidade IS NOT NULL AND documento_identidade_encrypted IS NULL) "
        "FROM usuarios"
    ).fetchone()


class Writer(threading.Thread):
    """Inserts and updates usuarios rows, remembering the last plaintext it wrote per id."""

    def __init__(self, dsn: str) -> None:
        super().__init__(daemon=True)
        self.dsn = dsn
        self.expected: dict[int, str] = {}
        self.inserted = 0
        self.updated = 0
        self.halt = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        rnd = random.Random(7)
        try:
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                i = 0
                while not self.halt.is_set():
                    i += 1
                    doc = f"W{i:06d}"
                    if i % 2:
                        uid = conn.execute(
                            "INSERT INTO usuarios (empresa_id, nome, email, documento_identidade)"
                            " VALUES (1, 'w', %s, %s) RETURNING id",
                            [f"w{i}@t", doc],
                        ).fetchone()[0]
                        self.inserted += 1
                    else:
                        uid = rnd.randint(1, 5000)
                        conn.execute(
                            "UPDATE usuarios SET documento_identidade = %s WHERE id = %s",
                            [doc, uid],
                        )
                        self.updated += 1
                    self.expected[uid] = doc
                    time.sleep(0.002)
        except BaseException as exc:
            self.error = exc


def test_backfill_killed_repeatedly_with_a_concurrent_writer(dsn, conn, key):
    before = dict(conn.execute("SELECT id, documento_identidade FROM usuarios").fetchall())
    count_before = len(before)
    env = {**os.environ, "AURORACTL_ENCRYPTION_KEY": KEY}
    cmd = [
        sys.executable,
        "-m",
        "auroractl",
        "--quiet",
        "encrypt",
        "backfill",
        *NAMES,
        "--batch-size",
        "20",
        "--sleep-ms",
        "20",
        "--yes",
    ]
    writer = Writer(dsn)
    writer.start()
    rnd = random.Random(1234)
    kills = 0
    progress = []
    try:
        for _ in range(6):
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(rnd.uniform(0.8, 1.6))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(timeout=30)
            progress.append(_progress(conn))
        assert kills >= 5, f"the backfill finished too early to be killed ({progress})"
        # a complete run while the writer still writes
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode in (0, 1), done.stderr
    finally:
        writer.halt.set()
        writer.join(timeout=30)
    assert writer.error is None, writer.error
    assert writer.inserted > 10 and writer.updated > 10
    final = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr
    # most kills landed mid-backfill (some rows done, some left). The encrypted count
    # may dip: the writer's plaintext updates clear stale ciphertexts on purpose.
    assert sum(1 for done, left in progress if done and left) >= 3, progress
    expected = {**{k: v for k, v in before.items() if v is not None}, **writer.expected}
    rows = conn.execute("SELECT count(*) FROM usuarios").fetchone()[0]
    assert rows == count_before + writer.inserted  # no row lost
    assert decrypted(conn) == expected
    assert not conn.execute(
        "SELECT 1 FROM usuarios WHERE documento_identidade IS NOT NULL "
        "AND documento_identidade_encrypted IS NULL"
    ).fetchone()
    plain = dict(conn.execute("SELECT id, documento_identidade FROM usuarios").fetchall())
    assert {k: v for k, v in plain.items() if v is not None} == expected


def ledger(conn: psycopg.Connection) -> list[tuple]:
    """(command, kind, outcome, rows) of auroractl.operations, oldest first."""
    if not conn.execute("SELECT to_regclass('auroractl.operations')").fetchone()[0]:
        return []
    return conn.execute(
        "SELECT command, kind, outcome, rows FROM auroractl.operations ORDER BY id"
    ).fetchall()


def test_each_job_refuses_without_yes_and_previews_one_json_document(cli, key, conn, monkeypatch):
    monkeypatch.setenv("AURORACTL_NEW_ENCRYPTION_KEY", NEW_KEY)
    assert cli("encrypt", "backfill", *NAMES, "--yes").exit_code == 0
    before = dict(
        conn.execute("SELECT id, documento_identidade_encrypted FROM usuarios").fetchall()
    )
    rows = len(ledger(conn))
    for verb in ("backfill", "finalize", "rotate"):
        refused = cli("encrypt", verb, *NAMES)
        assert refused.exit_code == 4, (verb, refused.stderr)
        dry = cli(
            "encrypt",
            verb,
            "--table",
            "usuarios",
            "--column",
            "documento_identidade",
            "--dry-run",
            "--format",
            "json",
        )
        assert dry.exit_code == 0, (verb, dry.stderr)
        doc = json.loads(dry.stdout)  # exactly one document, the plan
        assert doc["status"] == "dry-run" and doc["kind"] == "job" and doc["steps"]
        assert KEY not in dry.stdout and NEW_KEY not in dry.stdout
    after = conn.execute("SELECT id, documento_identidade_encrypted FROM usuarios").fetchall()
    assert dict(after) == before and len(ledger(conn)) == rows


def test_backfill_dry_run_shows_prepare_and_batches_in_one_document(cli, dsn, conn):
    result = cli("encrypt", "backfill", *NAMES, "--dry-run", "--format", "json")
    assert result.exit_code == 0, result.stderr
    sql = [s["sql"] for s in json.loads(result.stdout)["steps"]]
    assert any("ADD COLUMN" in s.upper() for s in sql) and "pgp_sym_encrypt" in sql[-1]
    assert ledger(conn) == []


def test_applied_job_writes_one_ledger_row_with_its_rows(cli, key, conn):
    result = cli("encrypt", "backfill", *NAMES, "--yes", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    encrypted = doc["result"]["encrypted"]
    assert doc["status"] == "applied" and doc["rows"] == encrypted > 0
    assert ledger(conn) == [
        (
            "encrypt backfill --table usuarios --column documento_identidade",
            "job",
            "applied",
            encrypted,
        )
    ]
    finalize = cli("encrypt", "finalize", *NAMES, "--yes", "--format", "json")
    assert finalize.exit_code == 0, finalize.stderr
    cleared = json.loads(finalize.stdout)["result"]["cleared"]
    assert ledger(conn)[1:] == [
        (
            "encrypt finalize --table usuarios --column documento_identidade",
            "job",
            "applied",
            cleared,
        )
    ]
    assert KEY not in str(conn.execute("SELECT * FROM auroractl.operations").fetchall())


def test_rows_left_locked_make_the_job_incomplete(cli, key, dsn, conn):
    assert cli("encrypt", "backfill", *NAMES, "--yes").exit_code == 0
    conn.execute("UPDATE usuarios SET documento_identidade = 'changed' WHERE id = 1")
    rows = len(ledger(conn))
    with psycopg.connect(dsn) as writer:  # holds the row for the whole run
        writer.execute("SELECT 1 FROM usuarios WHERE id = 1 FOR UPDATE")
        result = cli("encrypt", "backfill", *NAMES, "--yes", "--format", "json")
        writer.rollback()
    assert result.exit_code == 1, result.stderr
    doc = json.loads(result.stdout)
    assert doc["status"] == "incomplete" and doc["result"]["remaining"] == 1
    assert "still locked by writers" in result.stderr
    assert ledger(conn)[rows:] == [
        ("encrypt backfill --table usuarios --column documento_identidade", "job", "applied", 0)
    ]
    assert cli("encrypt", "backfill", *NAMES, "--yes").exit_code == 0
    assert decrypted(conn)[1] == "changed"


def test_rotate_to_the_same_key_is_refused_alike_in_a_dry_run(cli, key, conn, monkeypatch):
    assert cli("encrypt", "backfill", *NAMES, "--yes").exit_code == 0
    monkeypatch.setenv("AURORACTL_NEW_ENCRYPTION_KEY", KEY)
    dry = cli("encrypt", "rotate", *NAMES, "--dry-run")
    real = cli("encrypt", "rotate", *NAMES, "--yes")
    assert dry.exit_code == real.exit_code == 2
    assert dry.stderr == real.stderr and "the new key is the same as the current key" in dry.stderr
    assert KEY not in dry.stdout + dry.stderr
    monkeypatch.delenv("AURORACTL_NEW_ENCRYPTION_KEY")  # a dry run without both keys previews
    assert cli("encrypt", "rotate", *NAMES, "--dry-run").exit_code == 0


def _force_parallel(conn: psycopg.Connection, dbname: str) -> None:
    """Every parallel-safe plan of a new session of ``dbname`` runs under a Gather."""
    from psycopg import sql

    version = int(conn.execute("SHOW server_version_num").fetchone()[0])
    force = "debug_parallel_query" if version >= 160000 else "force_parallel_mode"
    for name, value in ((force, "on"), ("parallel_setup_cost", "0"), ("parallel_tuple_cost", "0")):
        conn.execute(
            sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                sql.Identifier(dbname), sql.Identifier(name), sql.Literal(value)
            )
        )


DECRYPT_ALL = (
    "SELECT count(auroractl.encrypt_try_decrypt(documento_identidade_encrypted, %s)) FROM usuarios"
)


def test_status_runs_under_a_parallel_plan_and_the_old_helper_is_replaced(
    cli, key, dsn, dbname, conn
):
    """The helper once declared PARALLEL SAFE failed in a parallel query (its exception
    block is a subtransaction): status over a large table crashed."""
    assert cli("encrypt", "backfill", *NAMES, "--yes").exit_code == 0
    _force_parallel(conn, dbname)
    # an install from before: the declaration that crashed, seen crashing
    conn.execute("ALTER FUNCTION auroractl.encrypt_try_decrypt(bytea, text) PARALLEL SAFE")
    with psycopg.connect(dsn) as c, pytest.raises(psycopg.Error, match="subtransactions"):
        c.execute(DECRYPT_ALL, [KEY])
    st = cli("encrypt", "status", *NAMES, "--format", "json")  # works with the old helper
    assert st.exit_code == 0, st.stderr
    assert json.loads(st.stdout)["both"] == 5000
    dry = cli("encrypt", "finalize", *NAMES, "--dry-run")
    assert dry.exit_code == 0 and "PARALLEL UNSAFE" in dry.stdout
    assert cli("encrypt", "backfill", *NAMES, "--yes").exit_code == 0  # replaces it
    parallel = conn.execute(
        "SELECT proparallel FROM pg_proc "
        "WHERE oid = 'auroractl.encrypt_try_decrypt(bytea, text)'::regprocedure"
    ).fetchone()[0]
    assert parallel == "u"
    with psycopg.connect(dsn) as c:
        assert c.execute(DECRYPT_ALL, [KEY]).fetchone()[0] == 5000
    st = cli("encrypt", "status", *NAMES, "--format", "json")
    assert st.exit_code == 0 and json.loads(st.stdout)["mismatch"] == 0


def test_backfill_of_a_partitioned_table_writes_each_row_once(cli, key, conn):
    """A table partitioned on its key: every row gets its own ciphertext, counted once."""
    conn.execute(
        "CREATE TABLE people (id bigint PRIMARY KEY, doc text) PARTITION BY RANGE (id);"
        "CREATE TABLE people_a PARTITION OF people FOR VALUES FROM (1) TO (1001);"
        "CREATE TABLE people_b PARTITION OF people FOR VALUES FROM (1001) TO (3001);"
        "INSERT INTO people SELECT i, 'doc-' || i FROM generate_series(1, 3000) i"
    )
    result = cli(
        "encrypt", "backfill", "people", "--column", "doc", "--batch-size", "400",
        "--yes", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["result"]["encrypted"] == 3000
    rows = conn.execute(
        "SELECT count(*) FILTER (WHERE pgp_sym_decrypt(doc_encrypted, %s) = doc), count(*) "
        "FROM people",
        [KEY],
    ).fetchone()
    assert rows == (3000, 3000)
