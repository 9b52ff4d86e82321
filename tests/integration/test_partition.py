"""partition status/create/ensure/detach against a real PostgreSQL, through the CLI."""

from __future__ import annotations

import datetime as dt
import json
import shlex

import psycopg
import pytest
from psycopg import sql


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


# ---------------------------------------------------------------- helpers


def add_months(d: dt.date, n: int) -> dt.date:
    months = d.year * 12 + d.month - 1 + n
    return dt.date(months // 12, months % 12 + 1, 1)


def periodic(
    conn: psycopg.Connection,
    table: str,
    bounds: list[tuple[object, object]],
    *,
    key: str = "date",
    name: str = "{table}_{lower}",
    schema: str = "public",
) -> None:
    """A table RANGE-partitioned on ``dia`` (of type ``key``) with one partition per
    (lower, upper); partition names from ``name`` ({lower}: 2022_01 / 2022 / 1000)."""
    parent = sql.Identifier(schema, table)
    conn.execute(
        sql.SQL(
            "CREATE TABLE {} (id bigint NOT NULL, dia {} NOT NULL, PRIMARY KEY (id, dia))"
            " PARTITION BY RANGE (dia)"
        ).format(parent, sql.SQL(key))
    )
    for lower, upper in bounds:
        label = lower.strftime("%Y_%m") if isinstance(lower, dt.date) else str(lower)
        part = sql.Identifier(schema, name.format(table=table, lower=label))
        conn.execute(
            sql.SQL("CREATE TABLE {} PARTITION OF {} FOR VALUES FROM ({}) TO ({})").format(
                part, parent, sql.Literal(lower), sql.Literal(upper)
            )
        )


def months_from(first: dt.date, n: int) -> list[tuple[dt.date, dt.date]]:
    return [(add_months(first, i), add_months(first, i + 1)) for i in range(n)]


def one_line_error(result, code: int) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == code, (result.exit_code, result.stderr)
    assert result.stderr.startswith("Error: "), result.stderr
    assert result.stderr.strip().count("\n") <= 1, result.stderr  # the error, maybe a hint


# ---------------------------------------------------------------- retention by interval


def test_detach_before_a_month_on_a_monthly_table_keeps_that_month(cli, dsn, conn):
    periodic(conn, "leituras", months_from(dt.date(2021, 11, 1), 6))  # 2021-11 .. 2022-04
    result = cli("partition", "detach", "leituras", "--before", "2022-02", "--yes")
    assert result.exit_code == 0, result.stderr
    assert sorted(partitions(conn, "leituras")) == [
        "leituras_2022_02",
        "leituras_2022_03",
        "leituras_2022_04",
    ]
    # Mid-month: February ends after the 15th, so it stays.
    again = cli("partition", "detach", "leituras", "--before", "2022-02-15", "--yes")
    assert again.exit_code == 0 and "nothing to do" in again.stderr
    # A year on a monthly table: every month that ends by Jan 1 (none left) - and a day.
    result = cli("partition", "detach", "leituras", "--before", "2022-03-01", "--drop", "--yes")
    assert result.exit_code == 0, result.stderr
    assert sorted(partitions(conn, "leituras")) == ["leituras_2022_03", "leituras_2022_04"]
    assert conn.execute("SELECT to_regclass('leituras_2022_02')").fetchone()[0] is None


def test_detach_before_a_month_on_a_yearly_table_keeps_the_unfinished_year(cli, dsn, conn):
    result = cli("partition", "detach", "contratos", "--before", "2022-02", "--yes")
    assert result.exit_code == 0, result.stderr
    names = set(partitions(conn))
    assert not {"contratos_2019", "contratos_2020", "contratos_2021"} & names
    assert {"contratos_2022", "contratos_default"} <= names


def test_detach_older_than_months_relative_to_today(cli, dsn, conn):
    today = conn.execute("SELECT current_date").fetchone()[0]
    first = add_months(dt.date(today.year, today.month, 1), -24)
    periodic(conn, "medidas", months_from(first, 26))  # two years back through next month
    cutoff = conn.execute("SELECT (current_date - interval '18 months')::date").fetchone()[0]
    expected_gone = {f"medidas_{lo:%Y_%m}" for lo, hi in months_from(first, 26) if hi <= cutoff}
    assert expected_gone  # the test means something
    dry = cli("partition", "detach", "medidas", "--older-than", "18months", "--dry-run")
    assert dry.exit_code == 0 and "older than 18 month(s)" in dry.stdout
    result = cli("partition", "detach", "medidas", "--older-than", "18months", "--yes")
    assert result.exit_code == 0, result.stderr
    left = set(partitions(conn, "medidas"))
    assert not expected_gone & left
    assert len(left) == 26 - len(expected_gone)


def test_daily_table_detach_and_ensure(cli, dsn, conn):
    today = conn.execute("SELECT current_date").fetchone()[0]
    days = [today - dt.timedelta(days=n) for n in range(5, -1, -1)]  # today-5 .. today
    conn.execute("CREATE TABLE cliques (id bigint, dia date NOT NULL) PARTITION BY RANGE (dia)")
    for d in days:
        conn.execute(
            sql.SQL("CREATE TABLE {} PARTITION OF cliques FOR VALUES FROM ({}) TO ({})").format(
                sql.Identifier(f"cliques_{d:%Y%m%d}"),
                sql.Literal(d),
                sql.Literal(d + dt.timedelta(days=1)),
            )
        )
    status = json.loads(cli("partition", "status", "cliques", "--format", "json").stdout)
    assert status["interval"] == "day" and status["current_period_covered"] is True
    result = cli("partition", "ensure", "--table", "cliques", "--ahead", "2", "--yes")
    assert result.exit_code == 0, result.stderr
    names = set(partitions(conn, "cliques"))
    for n in (1, 2):  # named like their siblings: cliques_YYYYMMDD
        assert f"cliques_{today + dt.timedelta(days=n):%Y%m%d}" in names
    assert f"cliques_{today + dt.timedelta(days=3):%Y%m%d}" not in names
    cut = today - dt.timedelta(days=3)
    result = cli("partition", "detach", "cliques", "--before", cut.isoformat(), "--yes")
    assert result.exit_code == 0, result.stderr
    left = set(partitions(conn, "cliques"))
    assert {f"cliques_{today - dt.timedelta(days=n):%Y%m%d}" for n in (5, 4)}.isdisjoint(left)
    assert f"cliques_{cut:%Y%m%d}" in left


def test_detach_integer_ranges(cli, dsn, conn):
    bounds = [(0, 1_000_000), (1_000_000, 2_000_000), (2_000_000, 3_000_000)]
    periodic(conn, "lotes", bounds, key="bigint")
    conn.execute("INSERT INTO lotes SELECT g, g FROM generate_series(1, 2999999, 1000) g")
    result = cli("partition", "detach", "lotes", "--before", "1000000", "--yes")
    assert result.exit_code == 0, result.stderr
    assert sorted(partitions(conn, "lotes")) == ["lotes_1000000", "lotes_2000000"]
    before = partitions(conn, "lotes")
    one_line_error(cli("partition", "detach", "lotes", "--before", "2022-02", "--yes"), 2)
    one_line_error(cli("partition", "detach", "lotes", "--older-than", "2years", "--yes"), 2)
    assert partitions(conn, "lotes") == before


def test_detach_list_values(cli, dsn, conn):
    conn.execute("CREATE TABLE vendas (id bigint, uf text NOT NULL) PARTITION BY LIST (uf)")
    for name, values in (
        ("vendas_sp", "'SP'"),
        ("vendas_rj", "'RJ'"),
        ("vendas_sul", "'RS', 'SC'"),
    ):
        conn.execute(f"CREATE TABLE {name} PARTITION OF vendas FOR VALUES IN ({values})")
    conn.execute("CREATE TABLE vendas_outras PARTITION OF vendas DEFAULT")
    mixed = cli("partition", "detach", "vendas", "--values", "SP,RS", "--yes")
    one_line_error(mixed, 3)
    assert "vendas_sul holds RS and also SC" in mixed.stderr
    assert len(partitions(conn, "vendas")) == 4
    result = cli("partition", "detach", "vendas", "--values", "SP,RJ,AM", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "no partition of public.vendas holds AM" in result.stderr
    assert sorted(partitions(conn, "vendas")) == ["vendas_outras", "vendas_sul"]
    assert conn.execute("SELECT to_regclass('vendas_sp')").fetchone()[0] is not None  # kept
    wrong = cli("partition", "detach", "vendas", "--before", "2022", "--yes")
    one_line_error(wrong, 2)
    assert "--values" in wrong.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--before", "2022-13"), "not a real month or day"),
        (("--before", "2022-02-30"), "not a real month or day"),
        (("--before", "abc"), "is not a year (2022), a month (2022-02)"),
        (("--before", "1899"), "year 1899 is outside 1900-2200"),
        (("--older-than", "18 parsecs"), "is not an age like"),
        (("--older-than", "0months"), "is not an age like"),
        (("--older-than", "999years"), "reaches before year 1900"),
        (("--values", " , "), "--values needs at least one value"),
        (("--before", "2020", "--older-than", "2years"), "give exactly one of"),
        ((), "give exactly one of"),
        (("--before", "1000000"), "is not a year (2022), a month (2022-02) or a day"),
    ],
)
def test_bad_retention_is_one_line_exit_2_and_changes_nothing(cli, dsn, conn, args, message):
    before = (partitions(conn), fingerprint(conn))
    result = cli("partition", "detach", "contratos", *args, "--yes")
    one_line_error(result, 2)
    assert message in result.stderr
    assert (partitions(conn), fingerprint(conn)) == before


# ---------------------------------------------------------------- names, ensure per table


def quoted_monthly(conn: psycopg.Connection, months: int = 2) -> dt.date:
    """public."Eventos", monthly, named "Eventos_p<yyyy>_<mm>", its newest partition the
    month before last (so that this month and the next are missing); returns this month."""
    today = conn.execute("SELECT current_date").fetchone()[0]
    this = dt.date(today.year, today.month, 1)
    periodic(
        conn,
        "Eventos",
        months_from(add_months(this, -months), months),
        key="timestamptz",
        name="{table}_p{lower}",
    )
    return this


def test_names_needing_quotes_resolve_or_say_how_to_quote(cli, dsn, conn):
    quoted_monthly(conn)
    conn.execute('CREATE TABLE "Ações" (id int, dia date NOT NULL) PARTITION BY RANGE (dia)')
    for name in ('"Eventos"', 'public."Eventos"', '"public"."Eventos"', '"Ações"'):
        result = cli("partition", "status", name, "--format", "json")
        assert result.exit_code == 0, (name, result.stderr)
    for name, quoted in (("public.Eventos", 'public."Eventos"'), ("Ações", 'public."Ações"')):
        unquoted = cli("partition", "status", name)
        one_line_error(unquoted, 2)
        assert f"need double quotes: '{quoted}'" in unquoted.stderr
    wrong_case = cli("partition", "status", '"eventos"')
    assert wrong_case.exit_code == 2 and """'public."Eventos"'""" in wrong_case.stderr
    for name in ("a.b.c", "a.b.c.d", '"unterminated', "public."):
        result = cli("partition", "status", name)
        one_line_error(result, 2)
        assert "not a valid name" in result.stderr


def test_ensure_goes_on_past_a_failing_table_and_reports_each(cli, dsn, conn):
    this = quoted_monthly(conn)
    # An ordinary monthly table whose next partition's name is taken by another table.
    periodic(conn, "acessos", months_from(add_months(this, -1), 1))
    conn.execute(sql.SQL("CREATE TABLE {} (x int)").format(sql.Identifier(f"acessos_{this:%Y_%m}")))
    before_acessos = partitions(conn, "acessos")
    result = cli("partition", "ensure", "--ahead", "1", "--yes", "--format", "json")
    assert result.exit_code == 3, result.stderr  # the failing table's exit code
    report = json.loads(result.stdout)
    assert report["status"] == "incomplete"
    by_table = {t["table"]: t for t in report["tables"]}
    assert by_table['public."Eventos"']["status"] == "applied"
    assert by_table["public.contratos"]["status"] == "applied"
    failed = by_table["public.acessos"]
    assert failed["status"] == "failed" and failed["exit_code"] == 3
    assert f"acessos_{this:%Y_%m} exists and is not a partition" in failed["error"]
    assert "partition ensure failed for 1 of 3 table(s): public.acessos" in result.stderr
    # The quoted table got this month and the next, named like its siblings.
    names = set(partitions(conn, '"Eventos"'))
    assert {f"Eventos_p{this:%Y_%m}", f"Eventos_p{add_months(this, 1):%Y_%m}"} <= names
    assert partitions(conn, "acessos") == before_acessos
    # Each applied table has its own ledger row; the failure wrote none (never planned).
    rows = conn.execute("SELECT command, outcome FROM auroractl.operations ORDER BY id").fetchall()
    assert [o for _, o in rows] == ["applied", "applied"]
    assert any("""--table 'public."Eventos"'""" in c for c, _ in rows)


def test_ensure_text_report_and_single_table_error(cli, dsn, conn):
    quoted_monthly(conn)
    result = cli("partition", "ensure", "--table", '"Eventos"', "--yes")
    assert result.exit_code == 0, result.stderr
    assert 'public."Eventos": created' in result.stderr
    missing = cli("partition", "ensure", "--table", "contratoz", "--table", "contratos", "--yes")
    assert missing.exit_code == 2, missing.stderr
    assert 'contratoz: FAILED (exit 2): table "contratoz" does not exist' in missing.stderr
    assert "public.contratos: created" in missing.stderr
    # A dry run shows what it can and still says that a table failed.
    dry = cli("partition", "ensure", "--table", "contratoz", "--table", '"Eventos"', "--dry-run")
    assert dry.exit_code == 2, dry.stderr
    assert 'contratoz: FAILED: table "contratoz" does not exist' in dry.stdout + dry.stderr
    assert "partition ensure failed for 1 of 2 table(s): contratoz" in dry.stderr


def test_health_advice_runs_as_printed(cli, dsn, conn):
    quoted_monthly(conn)
    report = json.loads(cli("health", "--only", "partitions", "--format", "json").stdout)
    (section,) = [s for s in report["sections"] if s["name"] == "partitions"]
    advice = [
        f["message"].split("run ", 1)[1]
        for f in section["findings"]
        if f["object"] == 'public."Eventos"' and "run auroractl" in f["message"]
    ]
    assert advice, section["findings"]
    for command in advice:
        assert """--table 'public."Eventos"'""" in command
        argv = shlex.split(command)
        assert argv[0] == "auroractl"
        result = cli(*argv[1:], "--yes")
        assert result.exit_code == 0, (command, result.stderr)
    report = json.loads(cli("health", "--only", "partitions", "--format", "json").stdout)
    (section,) = [s for s in report["sections"] if s["name"] == "partitions"]
    assert not [f for f in section["findings"] if f["object"] == 'public."Eventos"']


def test_a_gap_of_years_needs_max_new(cli, dsn, conn):
    this = quoted_monthly(conn, months=1)
    conn.execute('DROP TABLE "Eventos"')
    periodic(conn, "antigos", months_from(add_months(this, -40), 1))  # a gap of ~3 years
    before = partitions(conn, "antigos")
    refused = cli("partition", "ensure", "--table", "antigos", "--yes")
    assert refused.exit_code == 4, refused.stderr
    assert "more than --max-new 12" in refused.stderr
    assert "--max-new 41" in refused.stderr  # the hint names the limit that would do
    assert partitions(conn, "antigos") == before
    dry = cli("partition", "ensure", "--table", "antigos", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "refused when applied" in dry.stdout and "ATTACH PARTITION" in dry.stdout
    # The hint is the command to run, as printed.
    hint = next(line for line in refused.stderr.splitlines() if "raise the limit: " in line)
    argv = shlex.split(hint.split("raise the limit: ", 1)[1])
    assert argv[:3] == ["auroractl", "partition", "ensure"] and "41" in argv
    result = cli(*argv[1:], "--yes")
    assert result.exit_code == 0, result.stderr
    assert len(partitions(conn, "antigos")) == 42


# ---------------------------------------------------------------- naming, siblings


def test_new_partitions_follow_the_siblings_naming(cli, dsn, conn):
    this = quoted_monthly(conn)
    conn.execute('DROP TABLE "Eventos"')
    periodic(conn, "x", months_from(add_months(this, -2), 2), name="{table}_p{lower}")
    result = cli("partition", "ensure", "--table", "x", "--ahead", "1", "--dry-run")
    assert f"named like public.x_p{add_months(this, -1):%Y_%m}" in result.stdout
    assert cli("partition", "ensure", "--table", "x", "--ahead", "1", "--yes").exit_code == 0
    assert sorted(partitions(conn, "x"))[-2:] == [
        f"x_p{this:%Y_%m}",
        f"x_p{add_months(this, 1):%Y_%m}",
    ]


def test_configured_names(cli, dsn, conn, tmp_path):
    (tmp_path / "auroractl.toml").write_text(
        '[partition.names]\nmonth = "{table}_m{year}{month}"\n'
        '[partition.names."public.contratos"]\nyear = "{table}_ano_{year}"\n'
    )
    conn.execute("CREATE TABLE novos (id int, dia date NOT NULL) PARTITION BY RANGE (dia)")
    result = cli("partition", "create", "novos", "--month", "2026-03", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "novos_m202603" in partitions(conn, "novos")
    # The table's own template wins over the convention its partitions show.
    assert cli("partition", "create", "contratos", "--year", "2027", "--yes").exit_code == 0
    assert "contratos_ano_2027" in partitions(conn)
    (tmp_path / "auroractl.toml").write_text('[partition.names]\nmonth = "{table}_{year}"\n')
    bad = cli("partition", "create", "novos", "--month", "2026-04", "--yes")
    one_line_error(bad, 2)
    assert "lacks {month}" in bad.stderr


def test_new_partition_copies_what_its_newest_sibling_has_of_its_own(cli, dsn, conn):
    conn.execute("CREATE ROLE leitor_eventos NOLOGIN")
    conn.execute("""CREATE TABLE pedidos (id bigint, dia date NOT NULL, empresa_id int NOT NULL,
                    cliente text, nota text) PARTITION BY RANGE (dia)""")
    conn.execute("COMMENT ON COLUMN pedidos.nota IS 'free text'")
    conn.execute("""CREATE TABLE pedidos_2026_01 PARTITION OF pedidos
                    FOR VALUES FROM ('2026-01-01') TO ('2026-02-01')""")
    for statement in (
        "ALTER TABLE pedidos_2026_01 ADD CONSTRAINT pedidos_2026_01_empresa_fk"
        " FOREIGN KEY (empresa_id) REFERENCES empresas (id)",
        "CREATE INDEX pedidos_2026_01_cliente_idx ON pedidos_2026_01 (cliente)",
        "ALTER TABLE pedidos_2026_01 ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE pedidos_2026_01 FORCE ROW LEVEL SECURITY",
        "CREATE POLICY por_empresa ON pedidos_2026_01 AS RESTRICTIVE FOR SELECT"
        " TO leitor_eventos USING (empresa_id = 1)",
        "CREATE POLICY todos ON pedidos_2026_01 USING (true) WITH CHECK (empresa_id > 0)",
        "GRANT SELECT, INSERT ON pedidos_2026_01 TO leitor_eventos",
        "GRANT UPDATE (nota) ON pedidos_2026_01 TO leitor_eventos",
        "ALTER TABLE pedidos_2026_01 SET (fillfactor = 70, autovacuum_enabled = false)",
        "COMMENT ON TABLE pedidos_2026_01 IS 'orders of pedidos_2026_01'",
        "COMMENT ON COLUMN pedidos_2026_01.cliente IS 'who'",
    ):
        conn.execute(statement)
    empresa = conn.execute("SELECT min(id) FROM empresas").fetchone()[0]
    conn.execute(f"INSERT INTO pedidos VALUES (1, '2026-01-05', {empresa}, 'a', 'n')")
    dry = cli("partition", "create", "pedidos", "--month", "2026-02", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "copied from the newest partition public.pedidos_2026_01" in dry.stdout
    for what in (
        "foreign keys pedidos_2026_01_empresa_fk",
        "indexes pedidos_2026_01_cliente_idx",
        "row level security (forced)",
        "policies por_empresa, todos",
        "grants to leitor_eventos",
        "fillfactor=70",
        "table comment",
        "comments on cliente",
    ):
        assert what in dry.stdout, what
    result = cli("partition", "create", "pedidos", "--month", "2026-02", "--yes")
    assert result.exit_code == 0, result.stderr
    new = "pedidos_2026_02"
    fks = conn.execute(
        "SELECT conname, convalidated FROM pg_constraint WHERE conrelid = %s::regclass"
        " AND contype = 'f'",
        [new],
    ).fetchall()
    assert fks == [("pedidos_2026_02_empresa_fk", True)]
    indexes = conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [new]).fetchall()
    assert any("(cliente)" in d for (d,) in indexes)
    flags = conn.execute(
        "SELECT relrowsecurity, relforcerowsecurity, reloptions, obj_description(oid, 'pg_class')"
        " FROM pg_class WHERE oid = %s::regclass",
        [new],
    ).fetchone()
    assert flags == (
        True,
        True,
        ["fillfactor=70", "autovacuum_enabled=false"],
        "orders of pedidos_2026_02",
    )
    policies = conn.execute(
        "SELECT policyname, permissive, roles, cmd, qual, with_check FROM pg_policies"
        " WHERE tablename = %s ORDER BY 1",
        [new],
    ).fetchall()
    assert policies == [
        ("por_empresa", "RESTRICTIVE", ["leitor_eventos"], "SELECT", "(empresa_id = 1)", None),
        ("todos", "PERMISSIVE", ["public"], "ALL", "true", "(empresa_id > 0)"),
    ]
    grants = conn.execute(
        "SELECT privilege_type FROM information_schema.role_table_grants"
        " WHERE table_name = %s AND grantee = 'leitor_eventos' ORDER BY 1",
        [new],
    ).fetchall()
    assert grants == [("INSERT",), ("SELECT",)]
    column_grant = conn.execute(
        "SELECT has_column_privilege('leitor_eventos', %s, 'nota', 'UPDATE'),"
        " has_column_privilege('leitor_eventos', %s, 'cliente', 'UPDATE')",
        [new, new],
    ).fetchone()
    assert column_grant == (True, False)
    comments = conn.execute(
        "SELECT col_description(%s::regclass, 4), col_description(%s::regclass, 5)", [new, new]
    ).fetchone()
    assert comments == ("who", "free text")
    # The foreign key is enforced on the new partition.
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute("INSERT INTO pedidos VALUES (2, '2026-02-05', -1, 'b', 'n')")


def test_en_payments_new_months_get_the_per_partition_foreign_keys(cli, en_dsn):
    with psycopg.connect(en_dsn, autocommit=True) as conn:
        result = cli(
            "partition",
            "ensure",
            "--table",
            "shop.payments",
            "--ahead",
            "1",
            "--max-new",
            "100",
            "--yes",
        )
        assert result.exit_code == 0, result.stderr
        names = sorted(partitions(conn, "shop.payments"))
        assert names[:4] == [f"payments_2026_0{m}" for m in (1, 2, 3, 4)]
        for name in names[3:]:
            fks = conn.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY 1",
                [f"shop.{name}"],
            ).fetchall()
            assert fks == [
                (
                    f"{name}_order_fk",
                    "FOREIGN KEY (tenant_id, order_id) REFERENCES shop.orders(tenant_id, id)",
                ),
                (f"{name}_person_fk", "FOREIGN KEY (person_id) REFERENCES shop.people(id)"),
            ], name
        tenant, order = conn.execute("SELECT tenant_id, id FROM shop.orders LIMIT 1").fetchone()
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute(
                "INSERT INTO shop.payments (id, tenant_id, order_id, person_id, paid_on, amount)"
                " VALUES (999999, %s, %s, -1, '2026-04-02', 1)",
                [tenant, order],
            )
