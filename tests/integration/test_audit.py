"""audit enable/disable/status/log/prune against a real PostgreSQL, as aurora_admin."""

from __future__ import annotations

import datetime as dt
import json

import psycopg
import pytest

PII = {"nome", "documento_identidade", "telefone", "endereco", "foto_perfil", "email"}


def entries(conn: psycopg.Connection, table: str = "public.usuarios") -> list[dict]:
    rows = conn.execute(
        "SELECT to_jsonb(a) FROM audit.audit_log a WHERE table_name = %s ORDER BY id", [table]
    ).fetchall()
    return [r[0] for r in rows]


@pytest.fixture
def audited(cli, dsn, conn, demo_map):
    result = cli("audit", "enable", "--table", "usuarios", "--table", "contratos", "--yes")
    assert result.exit_code == 0, result.stderr
    return conn


def test_enable_creates_partitioned_log_and_triggers(audited):
    conn = audited
    parts = dict(
        conn.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'audit.audit_log'::regclass"
        ).fetchall()
    )
    today = conn.execute("SELECT (now() AT TIME ZONE 'UTC')::date").fetchone()[0]
    this_month = f"audit_log_{today.year}_{today.month:02d}"
    nxt = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    assert this_month in parts and f"audit_log_{nxt.year}_{nxt.month:02d}" in parts
    assert "audit_log_default" in parts
    triggers = {
        r[0]
        for r in conn.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'usuarios'::regclass "
            "AND NOT tgisinternal"
        )
    }
    # a plain table: statement triggers, one per operation
    assert triggers == {
        "auroractl_audit_insert",
        "auroractl_audit_update",
        "auroractl_audit_delete",
        "auroractl_audit_truncate",
    }
    # row_pk has its own index
    assert conn.execute(
        "SELECT 1 FROM pg_indexes WHERE schemaname = 'audit' AND tablename = 'audit_log' "
        "AND indexdef LIKE '%(table_name, row_pk)%'"
    ).fetchone()


def test_partition_ensure_covers_the_audit_log(cli, audited):
    result = cli("partition", "ensure", "--table", "audit.audit_log", "--ahead", "2", "--yes")
    assert result.exit_code == 0, result.stderr
    status = cli("partition", "status", "audit.audit_log", "--format", "json")
    assert json.loads(status.stdout)["periods_ahead"] == 2


def test_insert_update_delete_truncate_content(audited):
    conn = audited
    conn.execute("SET app.current_user_id = '77'")
    uid = conn.execute(
        "INSERT INTO usuarios (empresa_id, nome, email, telefone, documento_identidade) "
        "VALUES (1, 'Anastacia-canary', 'ana@x.test', '+55 11 99999-0000', '123.456.789-00') "
        "RETURNING id"
    ).fetchone()[0]
    conn.execute(
        "UPDATE usuarios SET ultimo_acesso = now(), telefone = '+55 0' WHERE id = %s", [uid]
    )
    conn.execute("UPDATE usuarios SET nome = nome WHERE id = %s", [uid])  # no-op: not logged
    conn.execute("SET app.current_user_id = 'not-a-number'")
    conn.execute("DELETE FROM usuarios WHERE id = %s", [uid])
    conn.execute("RESET app.current_user_id")
    log = [e for e in entries(conn) if e["row_pk"] == str(uid)]
    assert [e["operation"] for e in log] == ["INSERT", "UPDATE", "DELETE"]
    ins, upd, dele = log
    # the data map's personal columns of usuarios: nome among them
    assert ins["app_user_id"] == 77 and ins["new_values"]["empresa_id"] == 1
    assert ins["old_values"] is None
    assert set(ins["redacted_columns"]) == {"nome", "email", "telefone", "documento_identidade"}
    assert upd["changed_columns"] == ["telefone", "ultimo_acesso"]
    assert upd["old_values"] == {"ultimo_acesso": None} and set(upd["new_values"]) == {
        "ultimo_acesso"
    }
    assert upd["redacted_columns"] == ["telefone"]
    assert dele["app_user_id"] is None  # invalid setting: NULL, never an error
    assert dele["old_values"]["id"] == uid and dele["new_values"] is None
    assert dele["db_user"] == "aurora_admin" and dele["txid"] > 0
    # no personal value anywhere in the log
    text = json.dumps(entries(conn))
    for secret in ("Anastacia-canary", "ana@x.test", "99999-0000", "123.456.789-00", "+55 0"):
        assert secret not in text
    for e in log:
        for side in ("old_values", "new_values"):
            assert not PII & set(e[side] or {})


def test_truncate_and_partitioned_table(audited):
    conn = audited
    conn.execute(
        "INSERT INTO contratos (empresa_id, numero, data_inicio, valor_total) "
        "VALUES (1, 'X1', '2024-05-01', 10)"
    )
    log = entries(conn, "public.contratos")
    assert log[-1]["operation"] == "INSERT" and json.loads(log[-1]["row_pk"])[1] == "2024-05-01"
    conn.execute("CREATE TABLE scratch (id int PRIMARY KEY)")
    conn.execute("INSERT INTO scratch VALUES (1)")
    conn.execute("TRUNCATE ai_preferences, usuarios CASCADE")
    assert entries(conn)[-1]["operation"] == "TRUNCATE"


def test_app_role_writes_are_audited_without_access_to_the_log(cli, audited):
    conn = audited
    assert cli("rls", "enable", "--table", "usuarios", "--yes").exit_code == 0
    with conn.transaction():
        conn.execute("SET LOCAL ROLE application_user")
        conn.execute("SET LOCAL app.current_empresa_id = '1'")
        conn.execute("SET LOCAL app.current_user_id = '5'")
        conn.execute("UPDATE usuarios SET nome = 'Z' WHERE id = (SELECT min(id) FROM usuarios)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("SELECT count(*) FROM audit.audit_log")
    assert entries(conn)[-1]["app_user_id"] == 5


def test_idempotent_status_log_and_disable(cli, audited):
    conn = audited
    again = cli("audit", "enable", "--table", "usuarios", "--table", "contratos", "--yes")
    assert again.exit_code == 0
    assert "nothing to do" in again.stderr
    st = json.loads(cli("audit", "status", "--format", "json").stdout)
    audited_tables = {t["table"] for t in st["tables"] if t["audited"]}
    assert audited_tables == {"public.usuarios", "public.contratos"}
    conn.execute("UPDATE usuarios SET nome = 'Q' WHERE id IN (1, 2)")
    out = cli("audit", "log", "--table", "usuarios", "--row-id", "2", "--format", "json")
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout)
    assert len(data) == 1 and data[0]["row_pk"] == "2"
    conn.execute("SET app.current_user_id = '31'")
    conn.execute("UPDATE usuarios SET nome = 'S' WHERE id = 4")
    conn.execute("RESET app.current_user_id")
    by_user = json.loads(cli("audit", "log", "--user", "31", "--format", "json").stdout)
    assert [(e["row_pk"], e["changed_columns"]) for e in by_user] == [("4", ["nome"])]
    assert cli("audit", "log", "--since", "yesterday").exit_code == 2
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    assert json.loads(cli("audit", "log", "--since", tomorrow, "--format", "json").stdout) == []
    assert cli("audit", "log", "--limit", "1").exit_code == 0
    off = cli("audit", "disable", "--table", "usuarios", "--yes")
    assert off.exit_code == 0, off.stderr
    before = conn.execute("SELECT count(*) FROM audit.audit_log").fetchone()[0]
    conn.execute("UPDATE usuarios SET nome = 'R' WHERE id = 1")
    assert conn.execute("SELECT count(*) FROM audit.audit_log").fetchone()[0] == before


def test_prune_drops_months_past_retention(cli, audited, tmp_path):
    conn = audited
    assert (
        cli(
            "partition", "create", "--table", "audit.audit_log", "--month", "2001-01", "--yes"
        ).exit_code
        == 0
    )
    (tmp_path / "auroractl.toml").write_text("[audit]\nretention_months = 3\n")
    dry = cli("audit", "prune", "--dry-run")
    assert dry.exit_code == 0 and "audit_log_2001_01" in dry.stdout
    result = cli("audit", "prune", "--yes")
    assert result.exit_code == 0, result.stderr
    assert conn.execute("SELECT to_regclass('audit.audit_log_2001_01')").fetchone()[0] is None
    assert conn.execute("SELECT to_regclass('audit.audit_log_default')").fetchone()[0]


def test_bad_input(cli, dsn, demo_map):
    assert cli("audit", "enable", "--yes").exit_code == 2
    assert cli("audit", "enable", "--table", "nope", "--yes").exit_code == 2
    assert cli("audit", "log").exit_code == 2  # no log yet


def test_enable_all_and_dry_run(cli, dsn, conn, demo_map):
    dry = cli("audit", "enable", "--all", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "CREATE TABLE IF NOT EXISTS" in dry.stdout
    assert conn.execute("SELECT to_regclass('audit.audit_log')").fetchone()[0] is None
    result = cli("audit", "enable", "--all", "--yes")
    assert result.exit_code == 0, result.stderr
    st = json.loads(cli("audit", "status", "--format", "json").stdout)
    assert all(t["audited"] and t["current"] for t in st["tables"])
    conn.execute("DELETE FROM ai_preferences WHERE id = 1")
    entry = conn.execute(
        "SELECT operation, row_pk FROM audit.audit_log WHERE table_name = 'public.ai_preferences'"
    ).fetchall()
    assert entry == [("DELETE", "1")]


def test_format_json_is_one_document_for_every_outcome(cli, dsn, conn, demo_map):
    dry = cli("audit", "enable", "usuarios", "--dry-run", "--format", "json")
    assert dry.exit_code == 0, dry.stderr
    preview = json.loads(dry.stdout)
    assert preview["status"] == "dry-run"
    sql = "\n".join(s["sql"] for s in preview["steps"])
    # One change: the log, its first months and the triggers, previewed together.
    assert "audit_log_default" in sql and "PARTITION OF" in sql and "CREATE TRIGGER" in sql
    applied = cli("audit", "enable", "usuarios", "--yes", "--format", "json")
    assert applied.exit_code == 0, applied.stderr
    outcome = json.loads(applied.stdout)
    assert outcome["status"] == "applied" and outcome["ledger_id"] is not None
    ledger = conn.execute(
        "SELECT count(*) FROM auroractl.operations WHERE command LIKE 'audit enable%'"
    ).fetchone()[0]
    assert ledger == 1  # one change, one ledger row
    again = cli("audit", "enable", "--table", "usuarios", "--yes", "--format", "json")
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["status"] == "nothing-to-do"
    prune = cli("audit", "prune", "--yes", "--format", "json")
    assert prune.exit_code == 0, prune.stderr
    assert json.loads(prune.stdout)["status"] == "nothing-to-do"
    log = cli("audit", "log", "usuarios", "--format", "json")
    assert log.exit_code == 0 and json.loads(log.stdout) == []


def test_enable_without_a_terminal_or_yes_refuses_and_changes_nothing(cli, dsn, conn, demo_map):
    result = cli("audit", "enable", "usuarios")
    assert result.exit_code != 0 and "--yes" in result.stderr
    assert conn.execute("SELECT to_regclass('audit.audit_log')").fetchone()[0] is None


def test_ciphertext_of_a_personal_column_is_redacted_too(cli, dsn, conn, demo_map):
    """`encrypt` writes telefone's ciphertext into telefone_encrypted: it never reaches the
    audit log, before or after `encrypt finalize` drops the plaintext."""
    conn.execute("ALTER TABLE usuarios ADD COLUMN telefone_encrypted bytea")
    assert cli("audit", "enable", "--table", "usuarios", "--yes").exit_code == 0
    uid = conn.execute("SELECT min(id) FROM usuarios").fetchone()[0]
    conn.execute(
        "UPDATE usuarios SET telefone_encrypted = '\\xdeadbeefcafe'::bytea WHERE id = %s", [uid]
    )
    (upd,) = [e for e in entries(conn) if e["row_pk"] == str(uid)]
    assert upd["changed_columns"] == ["telefone_encrypted"]
    assert upd["redacted_columns"] == ["telefone_encrypted"]
    assert "deadbeef" not in json.dumps(upd)


def test_personal_columns_come_only_from_the_data_map(cli, dsn, conn, tmp_path):
    """Without a map (and off the sandbox) enable and status refuse, prune does not need
    one; [audit] personal_columns is refused, naming where they go."""
    for args in (("enable", "usuarios", "--yes"), ("status",)):
        result = cli("audit", *args)
        assert result.exit_code == 3 and "auroractl map propose" in result.stderr, args
    assert conn.execute("SELECT to_regclass('audit.audit_log')").fetchone() == (None,)
    assert cli("audit", "prune", "--dry-run").exit_code == 3  # no log yet, but no map needed
    assert "audit.audit_log does not exist" in cli("audit", "prune").stderr
    (tmp_path / "auroractl.toml").write_text('[audit]\npersonal_columns = ["cpf"]\n')
    result = cli("audit", "status")
    assert result.exit_code == 2 and "move them into it" in result.stderr


def test_log_of_an_unknown_table_says_so_and_a_dropped_tables_history_stays(cli, audited):
    conn = audited
    unknown = cli("audit", "log", "--table", "contratoz", "--format", "json")
    assert unknown.exit_code == 2
    assert unknown.stderr.splitlines()[0] == 'Error: table "contratoz" does not exist'
    assert json.loads(unknown.stdout)["exit_code"] == 2
    hostile = cli("audit", "log", "--table", 'x"; DROP TABLE usuarios; --')
    assert hostile.exit_code == 2 and hostile.stderr.startswith("Error: ")
    # a table that exists but was never changed: no entries, exit 0
    assert json.loads(cli("audit", "log", "escolas", "--format", "json").stdout) == []
    # the history of a table dropped since is still shown
    conn.execute("CREATE TABLE gone (id int PRIMARY KEY)")
    assert cli("audit", "enable", "gone", "--yes").exit_code == 0
    conn.execute("INSERT INTO gone VALUES (7)")
    conn.execute("DROP TABLE gone")
    dropped = cli("audit", "log", "--table", "gone", "--format", "json")
    assert dropped.exit_code == 0, dropped.stderr
    assert [e["row_pk"] for e in json.loads(dropped.stdout)] == ["7"]


# ---------------------------------------------------------------- statement triggers

TWIN = """
CREATE TABLE shop.{t} (
    id int, part text, amount numeric, doc jsonb, span interval, email text, note varchar(20),
    seen timestamptz, flags int[], PRIMARY KEY (id, part)
)
"""
ROWS = 80  # a statement of 64 rows or more takes the bulk path
FEW = 5  # 2 to 63 rows: the generic path


def _logged(conn: psycopg.Connection, table: str) -> list[tuple]:
    return conn.execute(
        "SELECT operation, row_pk, changed_columns, redacted_columns, old_values, new_values, "
        "db_user, txid > 0, app_user_id FROM audit.audit_entries WHERE table_name = %s "
        "ORDER BY operation, row_pk",
        [table],
    ).fetchall()


def test_a_large_statement_logs_what_row_by_row_statements_log(cli, en_dsn):
    """The bulk path (one INSERT ... SELECT written for the table's columns), the generic
    path of a few rows and that of one row log the same entries: changed columns as text
    compares them (numeric 1 -> 1.0 changed), personal values redacted, no-op rows not
    logged, a changed key paired with its old row, composite keys as JSON."""
    from tests.integration.conftest import write_map

    with psycopg.connect(en_dsn, autocommit=True) as conn:
        for t in ("twin_bulk", "twin_rows", "twin_few"):
            conn.execute(TWIN.format(t=t))
        write_map(en_dsn, "shop.people")  # email: personal, by its name
        ok = cli("audit", "enable", "shop.twin_bulk", "shop.twin_rows", "shop.twin_few", "--yes")
        assert ok.exit_code == 0, ok.stderr
        conn.execute("SET app.current_user_id = '9'")
        values = (
            "SELECT i, 'p' || i, i, jsonb_build_object('k', i), make_interval(hours => i), "
            "CASE WHEN i % 2 = 0 THEN 'x' || i || '@example.test' END, 'n' || i, "
            "'2026-01-01'::timestamptz + make_interval(mins => i), ARRAY[i] "
            "FROM generate_series({a}, {b}) i"
        )
        conn.execute("INSERT INTO shop.twin_bulk " + values.format(a=1, b=ROWS))
        for i in range(1, ROWS + 1):
            conn.execute("INSERT INTO shop.twin_rows " + values.format(a=i, b=i))
        for i in range(1, ROWS + 1, FEW):
            conn.execute("INSERT INTO shop.twin_few " + values.format(a=i, b=i + FEW - 1))
        change = (
            "UPDATE shop.twin_{t} SET "
            "amount = CASE WHEN id % 3 = 0 THEN amount ELSE amount * 1.0 END, "
            "email = CASE WHEN id % 4 = 0 THEN 'new@example.test' ELSE email END, "
            "part = CASE WHEN id % 10 = 0 THEN part || 'x' ELSE part END, "
            "doc = doc, seen = seen, span = span, flags = flags{where}"
        )
        conn.execute(change.format(t="bulk", where=""))
        for i in range(1, ROWS + 1):
            conn.execute(change.format(t="rows", where=f" WHERE id = {i}"))
        for i in range(1, ROWS + 1, FEW):
            conn.execute(change.format(t="few", where=f" WHERE id BETWEEN {i} AND {i + FEW - 1}"))
        conn.execute("DELETE FROM shop.twin_bulk WHERE id > 10")
        for i in range(11, ROWS + 1):
            conn.execute("DELETE FROM shop.twin_rows WHERE id = %s", [i])
        for i in range(11, ROWS + 1, FEW):
            conn.execute("DELETE FROM shop.twin_few WHERE id BETWEEN %s AND %s", [i, i + FEW - 1])
        bulk, rows = _logged(conn, "shop.twin_bulk"), _logged(conn, "shop.twin_rows")
        few = _logged(conn, "shop.twin_few")
    assert bulk == rows == few
    updates = [e for e in bulk if e[0] == "UPDATE"]
    # a row whose SET changed no value is not logged
    same = [i for i in range(1, ROWS + 1) if i % 3 == 0 and i % 4 and i % 10]
    assert len(updates) == ROWS - len(same) and same
    by_pk = {e[1]: e for e in updates}
    assert by_pk['[4, "p4"]'][2:6] == (
        ["email", "amount"],
        ["email"],
        {"amount": 4},
        {"amount": 4.0},
    )
    assert by_pk['[30, "p30x"]'][2] == ["part"] and by_pk['[30, "p30x"]'][4] == {"part": "p30"}
    assert "@example.test" not in json.dumps([e[3:6] for e in bulk])
    inserted = [e for e in bulk if e[0] == "INSERT"]
    assert len(inserted) == ROWS and inserted[0][6:] == ("aurora_admin", True, 9)


def test_columns_added_or_dropped_after_enable_are_followed(cli, en_dsn, en_map):
    """The bulk statement is written from the catalog at each call: a new column's changes
    are logged, a dropped one is no error; small statements diff whole rows anyway."""
    with psycopg.connect(en_dsn, autocommit=True) as conn:
        assert cli("audit", "enable", "shop.products", "--yes").exit_code == 0
        conn.execute("ALTER TABLE shop.products ADD COLUMN colour text")
        conn.execute(
            "INSERT INTO shop.products (tenant_id, sku, title, price) "
            "SELECT (SELECT min(id::text)::uuid FROM shop.tenants), 'S' || i, 'T', 1 "
            "FROM generate_series(1, 70) i"
        )
        conn.execute("UPDATE shop.products SET colour = 'red'")
        changed = conn.execute(
            "SELECT DISTINCT changed_columns FROM audit.audit_log "
            "WHERE table_name = 'shop.products' AND operation = 'UPDATE'"
        ).fetchall()
        assert changed == [(["colour"],)]
        conn.execute("ALTER TABLE shop.products DROP COLUMN colour")
        conn.execute("UPDATE shop.products SET title = title || '!'")
        (logged,) = conn.execute(
            "SELECT count(*) FROM audit.audit_entries WHERE table_name = 'shop.products' "
            "AND changed_columns = '{title}'"
        ).fetchone()
        assert logged == conn.execute("SELECT count(*) FROM shop.products").fetchone()[0]


def test_a_row_trigger_install_is_upgraded_by_enable_and_partitioned_tables_keep_row_triggers(
    cli, audited
):
    """An installation of the previous design (row triggers on every table) is upgraded in
    place by `audit enable`; a partitioned table keeps row triggers, which PostgreSQL clones
    onto each partition, so a write straight into a partition is logged too."""
    from auroractl import runner
    from auroractl.ops import audit
    from auroractl.plan import Plan

    conn = audited
    (t,) = [t for t in audit.tables(conn) if t.name == "usuarios"]
    cfg = audit.AuditConfig(personal={"public.usuarios": ("nome",)})
    old = Plan("old", "row triggers", tuple(audit.trigger_steps(t, cfg, per_row=True)))
    runner.apply(conn, old, runner.Options(yes=True))

    def names(table: str) -> set[str]:
        return {
            r[0]
            for r in conn.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                [table],
            )
        }

    assert "auroractl_audit_row" in names("usuarios")
    st = json.loads(cli("audit", "status", "--format", "json").stdout)
    (u,) = [x for x in st["tables"] if x["table"] == "public.usuarios"]
    assert u["audited"] and not u["current"]
    again = cli("audit", "enable", "--table", "usuarios", "--table", "contratos", "--yes")
    assert again.exit_code == 0, again.stderr
    assert names("usuarios") == {
        "auroractl_audit_insert",
        "auroractl_audit_update",
        "auroractl_audit_delete",
        "auroractl_audit_truncate",
    }
    assert names("contratos") == {
        "auroractl_audit_row",
        "auroractl_audit_update",
        "auroractl_audit_truncate",
    }
    part = conn.execute(
        "SELECT inhrelid::regclass::text FROM pg_inherits "
        "WHERE inhparent = 'contratos'::regclass LIMIT 1"
    ).fetchone()[0]
    conn.execute(f"DELETE FROM {part} WHERE id = (SELECT min(id) FROM {part})")
    assert entries(conn, "public.contratos")[-1]["operation"] == "DELETE"
    off = cli("audit", "disable", "--table", "usuarios", "--yes")
    assert off.exit_code == 0 and names("usuarios") == set()


def test_a_large_statement_is_logged_grouped_and_read_one_row_each(cli, audited):
    """A statement of many rows writes one entry per set of changed columns per 1,000 rows
    (the keys in row_pks, GIN-indexed); `audit log --row-id`, the view audit.audit_entries
    and the small statements' entries all read one row each."""
    conn = audited
    conn.execute(
        "INSERT INTO usuarios (empresa_id, nome, email, telefone) "
        "SELECT 1, 'Bulk ' || i, 'bulk' || i || '@example.test', 'T' || i "
        "FROM generate_series(1, 1500) i"
    )
    conn.execute("UPDATE usuarios SET ultimo_acesso = '2026-05-01' WHERE nome LIKE 'Bulk %'")
    logged = conn.execute(
        "SELECT operation, cardinality(row_pks), row_pk FROM audit.audit_log "
        "WHERE table_name = 'public.usuarios' AND row_pks IS NOT NULL ORDER BY operation, 2"
    ).fetchall()
    # 1,500 rows: two entries a statement (1,000 + 500), the keys in the array
    assert logged == [
        ("INSERT", 500, None),
        ("INSERT", 1000, None),
        ("UPDATE", 500, None),
        ("UPDATE", 1000, None),
    ]
    pk = conn.execute("SELECT id FROM usuarios WHERE nome = 'Bulk 1234'").fetchone()[0]
    out = cli("audit", "log", "--table", "usuarios", "--row-id", str(pk), "--format", "json")
    assert out.exit_code == 0, out.stderr
    got = {e["operation"]: e for e in json.loads(out.stdout)}
    assert set(got) == {"INSERT", "UPDATE"} and all(e["row_pk"] == str(pk) for e in got.values())
    assert got["UPDATE"]["changed_columns"] == ["ultimo_acesso"]
    assert got["UPDATE"]["old_values"] == {"ultimo_acesso": None}
    assert got["UPDATE"]["new_values"] == {"ultimo_acesso": "2026-05-01T00:00:00+00:00"}
    assert got["INSERT"]["new_values"]["id"] == pk and "email" not in got["INSERT"]["new_values"]
    assert set(got["INSERT"]["redacted_columns"]) == {"nome", "email", "telefone"}
    (n,) = conn.execute(
        "SELECT count(*) FROM audit.audit_entries WHERE table_name = 'public.usuarios' "
        "AND operation = 'UPDATE' AND new_values = %s",
        [json.dumps({"ultimo_acesso": "2026-05-01T00:00:00+00:00"})],
    ).fetchone()
    assert n == 1500
    plan = conn.execute(
        "EXPLAIN SELECT 1 FROM audit.audit_log WHERE row_pks @> ARRAY['1']::text[]"
    ).fetchall()
    assert "audit_log" in str(plan) and "row_pks" in str(plan)


def test_enable_upgrades_a_log_from_before_grouped_entries_without_blocking_writes(cli, audited):
    """A log without row_pks (an earlier auroractl's) gets the column, each partition's
    GIN index built CONCURRENTLY and attached to the log's, then grouped entries."""
    conn = audited
    conn.execute("DROP VIEW audit.audit_entries")
    conn.execute("ALTER TABLE audit.audit_log DROP COLUMN row_pks")
    conn.execute("COMMENT ON FUNCTION audit.log_change() IS 'auroractl audit v3 sha256=old'")
    dry = cli("audit", "enable", "usuarios", "--dry-run", "--format", "json")
    sql = [s["sql"] for s in json.loads(dry.stdout)["steps"]]
    assert any("ADD COLUMN IF NOT EXISTS row_pks" in s for s in sql)
    assert sum("CREATE INDEX CONCURRENTLY" in s for s in sql) == len(
        conn.execute(
            "SELECT 1 FROM pg_inherits WHERE inhparent = 'audit.audit_log'::regclass"
        ).fetchall()
    )
    assert cli("audit", "enable", "usuarios", "--yes").exit_code == 0
    conn.execute(
        "INSERT INTO usuarios (empresa_id, nome, email) "
        "SELECT 1, 'U' || i, 'u' || i || '@example.test' FROM generate_series(1, 100) i"
    )
    (valid,) = conn.execute(
        "SELECT indisvalid FROM pg_index WHERE indexrelid = 'audit.audit_log_rows_idx'::regclass"
    ).fetchone()
    assert valid
    conn.execute("UPDATE usuarios SET ultimo_acesso = '2026-06-01'")
    (grouped,) = conn.execute(
        "SELECT count(*) FROM audit.audit_log WHERE row_pks IS NOT NULL AND operation = 'UPDATE'"
    ).fetchone()
    total = conn.execute("SELECT count(*) FROM usuarios").fetchone()[0]
    assert grouped == -(-total // 1000)  # every row changed ultimo_acesso: one set of columns
    again = cli("audit", "enable", "usuarios", "--dry-run", "--format", "json")
    assert "nothing to do" in json.loads(again.stdout)["summary"]
