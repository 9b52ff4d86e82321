"""partition status/create/ensure/detach against a real PostgreSQL, through the CLI."""

from __future__ import annotations

import json

import psycopg
import pytest


def partitions(conn: psycopg.Connection, parent: str = "contratos") -> dict[str, str]:
    rows = conn.execute(
        """SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
           FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = %s::regclass""",
        [parent],
    ).fetchall()
    return dict(rows)


def fingerprint(conn: psycopg.Connection) -> tuple:
    """Row count and an order-independent checksum of every contratos row."""
    return conn.execute(
        "SELECT count(*), sum(hashtext(c::text)::numeric) FROM contratos c"
    ).fetchone()


def ledger_count(conn: psycopg.Connection) -> int:
    if not conn.execute("SELECT to_regclass('auroractl.operations')").fetchone()[0]:
        return 0
    return conn.execute("SELECT count(*) FROM auroractl.operations").fetchone()[0]


def test_status_json_reports_bounds_default_rows_and_coverage(cli, dsn, conn):
    result = cli("partition", "status", "contratos", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["strategy"] == "range" and data["key"] == "data_inicio"
    assert data["interval"] == "year"
    names = [p["name"] for p in data["partitions"]]
    assert "public.contratos_2019" in names and "public.contratos_default" in names
    in_default = conn.execute("SELECT count(*) FROM ONLY contratos_default").fetchone()[0]
    assert in_default > 0
    assert data["default_rows"] == in_default
    assert data["covered_until"] == "2026-01-01"
    assert data["gaps"] == [] and data["overlaps"] == []


def test_create_moves_default_rows_in_one_go(cli, dsn, conn):
    before = fingerprint(conn)
    in_2026 = conn.execute(
        "SELECT count(*) FROM ONLY contratos_default "
        "WHERE data_inicio >= '2026-01-01' AND data_inicio < '2027-01-01'"
    ).fetchone()[0]
    assert in_2026 > 0
    result = cli("partition", "create", "contratos", "--year", "2026", "--yes")
    assert result.exit_code == 0, result.stderr
    assert partitions(conn)["contratos_2026"] == "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"
    assert conn.execute("SELECT count(*) FROM ONLY contratos_2026").fetchone()[0] == in_2026
    assert (
        conn.execute(
            "SELECT count(*) FROM ONLY contratos_default WHERE data_inicio >= '2026-01-01'"
        ).fetchone()[0]
        == 0
    )
    assert fingerprint(conn) == before  # nothing lost, nothing duplicated
    # The parent's indexes exist on the new partition, attached to the parent's.
    attached = conn.execute(
        """SELECT count(*) FROM pg_inherits i JOIN pg_index x ON x.indexrelid = i.inhrelid
           WHERE x.indrelid = 'contratos_2026'::regclass"""
    ).fetchone()[0]
    parent_indexes = conn.execute(
        "SELECT count(*) FROM pg_index WHERE indrelid = 'contratos'::regclass"
    ).fetchone()[0]
    assert attached == parent_indexes == 3
    # The helper CHECK is gone and the ledger has one row.
    assert (
        conn.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = "
            "'contratos_2026'::regclass AND conname = 'auroractl_partition_bound'"
        ).fetchone()[0]
        == 0
    )
    assert ledger_count(conn) == 1


def test_create_again_is_a_no_op(cli, dsn, conn):
    assert cli("partition", "create", "contratos", "--year", "2026", "--yes").exit_code == 0
    snapshot = (partitions(conn), fingerprint(conn), ledger_count(conn))
    result = cli(
        "partition", "create", "contratos", "--year", "2026"
    )  # no --yes needed: nothing to do
    assert result.exit_code == 0
    assert "already exists" in result.stderr
    assert (partitions(conn), fingerprint(conn), ledger_count(conn)) == snapshot


def test_dry_run_prints_plan_and_changes_nothing(cli, dsn, conn):
    before = partitions(conn)
    result = cli("partition", "create", "contratos", "--year", "2027", "--dry-run")
    assert result.exit_code == 0
    assert "ATTACH PARTITION" in result.stdout and '"contratos_2027"' in result.stdout
    assert partitions(conn) == before
    assert ledger_count(conn) == 0
    plan = json.loads(
        cli(
            "partition", "create", "contratos", "--year", "2027", "--dry-run", "--format", "json"
        ).stdout
    )
    assert any("ATTACH PARTITION" in s["sql"] for s in plan["steps"])


def test_change_without_tty_or_yes_is_refused(cli, dsn, conn):
    before = partitions(conn)
    result = cli("partition", "create", "contratos", "--year", "2027")
    assert result.exit_code == 4
    assert "--yes" in result.stderr
    assert partitions(conn) == before


def test_ensure_creates_missing_years_ahead(cli, dsn, conn):
    today = conn.execute("SELECT current_date").fetchone()[0]
    result = cli("partition", "ensure", "--ahead", "2", "--yes")
    assert result.exit_code == 0, result.stderr
    names = set(partitions(conn))
    for year in range(2026, today.year + 3):
        assert f"contratos_{year}" in names
    assert f"contratos_{today.year + 3}" not in names
    again = cli("partition", "ensure", "--ahead", "2", "--yes")
    assert again.exit_code == 0 and "nothing to do" in again.stderr
    assert set(partitions(conn)) == names


def test_detach_with_default_falls_back_to_plain_detach_and_archives(cli, dsn, conn):
    before = fingerprint(conn)
    rows_2019 = conn.execute("SELECT count(*) FROM contratos_2019").fetchone()[0]
    result = cli(
        "partition",
        "detach",
        "contratos",
        "--before",
        "2020",
        "--archive-schema",
        "archive",
        "--yes",
    )
    assert result.exit_code == 0, result.stderr
    assert "DEFAULT" in result.stderr  # says why CONCURRENTLY was not used
    assert "contratos_2019" not in partitions(conn)
    assert conn.execute("SELECT count(*) FROM archive.contratos_2019").fetchone()[0] == rows_2019
    assert fingerprint(conn)[0] == before[0] - rows_2019


def test_detach_concurrently_without_default_and_drop(cli, dsn, conn):
    conn.execute("ALTER TABLE contratos DETACH PARTITION contratos_default")
    result = cli("partition", "detach", "contratos", "--before", "2021", "--drop", "--dry-run")
    assert "DETACH PARTITION" in result.stdout and "CONCURRENTLY" in result.stdout
    result = cli("partition", "detach", "contratos", "--before", "2021", "--drop", "--yes")
    assert result.exit_code == 0, result.stderr
    names = partitions(conn)
    assert "contratos_2019" not in names and "contratos_2020" not in names
    assert conn.execute("SELECT to_regclass('contratos_2019')").fetchone()[0] is None


def test_monthly_parent_create_and_ensure(cli, dsn, conn):
    conn.execute("""CREATE TABLE eventos (id bigint, em timestamptz NOT NULL, dado text)
                    PARTITION BY RANGE (em)""")
    conn.execute("""CREATE TABLE eventos_2026_01 PARTITION OF eventos
                    FOR VALUES FROM ('2026-01-01 00:00+00') TO ('2026-02-01 00:00+00')""")
    conn.execute("CREATE TABLE eventos_default PARTITION OF eventos DEFAULT")
    conn.execute(
        "INSERT INTO eventos SELECT i, '2026-02-10 00:00+00'::timestamptz "
        "+ i * interval '1 minute', 'x' FROM generate_series(1, 100) i"
    )
    wrong = cli("partition", "create", "--year", "2026", "--table", "eventos", "--yes")
    assert wrong.exit_code == 2 and "--month" in wrong.stderr
    result = cli("partition", "create", "--month", "2026-02", "--table", "eventos", "--yes")
    assert result.exit_code == 0, result.stderr
    assert conn.execute("SELECT count(*) FROM ONLY eventos_2026_02").fetchone()[0] == 100
    assert conn.execute("SELECT count(*) FROM ONLY eventos_default").fetchone()[0] == 0
    today = conn.execute("SELECT current_date").fetchone()[0]
    result = cli("partition", "ensure", "--table", "eventos", "--ahead", "1", "--yes")
    assert result.exit_code == 0, result.stderr
    nxt = (today.month % 12) + 1
    nxt_year = today.year + (1 if today.month == 12 else 0)
    assert f"eventos_{nxt_year}_{nxt:02d}" in partitions(conn, "eventos")


def test_list_partition_by_tenant(cli, dsn, conn):
    conn.execute("""CREATE TABLE notas (id bigint, empresa_id integer NOT NULL, nota numeric)
                    PARTITION BY LIST (empresa_id)""")
    conn.execute("CREATE TABLE notas_outros PARTITION OF notas DEFAULT")
    conn.execute("INSERT INTO notas SELECT i, 1 + i % 3, i FROM generate_series(1, 300) i")
    result = cli("partition", "create", "--tenant", "2", "--table", "notas", "--yes")
    assert result.exit_code == 0, result.stderr
    assert partitions(conn, "notas")["notas_empresa_2"] == "FOR VALUES IN (2)"
    assert conn.execute("SELECT count(*) FROM ONLY notas_empresa_2").fetchone()[0] == 100
    assert conn.execute("SELECT count(*) FROM notas").fetchone()[0] == 300
    again = cli("partition", "create", "--tenant", "2", "--table", "notas")
    assert again.exit_code == 0 and "already exists" in again.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ("create", "--year", "2026", "--table", "contratoz"),
            2,
            'table "contratoz" does not exist',
        ),
        (("create", "--year", "1899"), 2, "year 1899 is outside 1900-2200"),
        (("create", "--month", "2026-13", "--table", "contratos"), 2, "is not a month"),
        (("create", "--year", "2026", "--table", "alunos"), 3, "is not partitioned"),
        (("create", "--year", "2026", "--table", 'x"; drop table y'), 2, "does not exist"),
        (("status", "empresas"), 3, "is not partitioned"),
        (
            ("detach", "contratos", "--before", "2020", "--drop", "--archive-schema", "a"),
            2,
            "exclude",
        ),
        # not the sandbox: the demo's table is not assumed
        (("create", "--year", "2026"), 2, "give the table (an argument or --table)"),
        (("status",), 2, "give the table"),
    ],
)
def test_bad_input_is_one_line_nonzero_and_changes_nothing(cli, dsn, conn, args, code, message):
    before = (partitions(conn), fingerprint(conn))
    result = cli("partition", *args, "--yes") if args[0] != "status" else cli("partition", *args)
    assert result.exit_code == code, result.stderr
    assert message in result.stderr
    assert result.stderr.strip().count("\n") <= 1  # the error, maybe a hint
    assert (partitions(conn), fingerprint(conn)) == before


def test_overlap_with_an_existing_partition_is_refused(cli, dsn, conn):
    conn.execute("""CREATE TABLE contratos_2027h1 PARTITION OF contratos
                    FOR VALUES FROM ('2027-01-01') TO ('2027-07-01')""")
    before = partitions(conn)
    result = cli("partition", "create", "contratos", "--year", "2027", "--yes")
    assert result.exit_code == 3
    assert "overlaps existing partition public.contratos_2027h1" in result.stderr
    assert partitions(conn) == before


def test_lock_timeout_names_the_blocker_and_leaves_nothing(cli, dsn, conn):
    before = partitions(conn)
    with psycopg.connect(dsn) as blocker:  # idle in transaction after writing to DEFAULT
        blocker.execute(
            "UPDATE contratos_default SET status = status WHERE id = "
            "(SELECT min(id) FROM contratos_default)"
        )
        pid = blocker.info.backend_pid
        result = cli(
            "--lock-timeout", "200ms", "partition", "create", "contratos", "--year", "2026", "--yes"
        )
        blocker.rollback()
    assert result.exit_code == 6, result.stderr
    assert f"blocked by pid {pid} (idle in transaction: UPDATE contratos_default" in result.stderr
    assert "after 2 attempts" in result.stderr  # AURORACTL_LOCK_RETRIES=1 in tests
    assert partitions(conn) == before
    row = conn.execute(
        "SELECT outcome FROM auroractl.operations ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert row == ("failed",)


def test_read_blocked_by_exclusive_lock_names_the_blocker(cli, dsn, conn):
    with psycopg.connect(dsn) as blocker:
        blocker.execute("LOCK TABLE contratos_default IN ACCESS EXCLUSIVE MODE")
        pid = blocker.info.backend_pid
        result = cli("--lock-timeout", "200ms", "partition", "status", "contratos")
        blocker.rollback()
    assert result.exit_code == 6
    assert f"blocked by pid {pid}" in result.stderr


def test_unreachable_host_is_one_line_exit_5(cli):
    result = cli(
        "--dsn",
        "host=127.0.0.1 port=1 dbname=x user=y connect_timeout=2",
        "partition",
        "status",
        "contratos",
    )
    assert result.exit_code == 5
    assert result.stderr.startswith("Error: cannot connect to --dsn (127.0.0.1:1/x as y)")


def test_history_lists_applied_plans(cli, dsn, conn):
    cli("partition", "create", "contratos", "--year", "2026", "--yes")
    data = json.loads(cli("history", "--format", "json").stdout)
    assert data[0]["command"].startswith("partition create --year 2026")
    assert data[0]["outcome"] == "applied" and data[0]["db_user"] == "aurora_admin"
