"""matview / schedule / cache against a real PostgreSQL (pg_cron) and a real redis-server."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from decimal import Decimal

import psycopg
import pytest

from auroractl.sandbox import free_port

SEED_QUERY = """SELECT e.id, SUM(c.valor_total) FROM empresas e
LEFT JOIN escolas es ON es.empresa_id = e.id LEFT JOIN alunos a ON a.empresa_id = e.id
LEFT JOIN contratos c ON c.empresa_id = e.id GROUP BY e.id ORDER BY e.id"""
# The demo's dashboard, declared as any database other than the sandbox must declare it.
DEMO_DASHBOARD = """[matviews.dashboard]
root = "empresas"
root_key = "id"
root_label = "nome"
tenant_column = "empresa_id"
count = { total_escolas = "escolas", total_alunos = "alunos" }
sum = { receita_total = "contratos.valor_total" }
"""


@pytest.fixture(autouse=True)
def _dashboard_declared(tmp_path):
    (tmp_path / "auroractl.toml").write_text(DEMO_DASHBOARD)


@pytest.fixture
def fanout(conn):
    """A second empresa with 3 escolas, 4 alunos and 2 contratos: the seed's joins fan out."""
    conn.execute("INSERT INTO empresas (id, nome, cnpj) VALUES (900, 'Fan-out', '00000900000191')")
    conn.execute(
        "INSERT INTO escolas (id, empresa_id, nome) SELECT 9000 + i, 900, 'E' "
        "FROM generate_series(1, 3) i"
    )
    conn.execute(
        "INSERT INTO alunos (id, empresa_id, escola_id, nome, matricula) "
        "SELECT 90000 + i, 900, 9001, 'A', 'X' || i FROM generate_series(1, 4) i"
    )
    conn.execute(
        "INSERT INTO contratos (empresa_id, aluno_id, numero, data_inicio, valor_total) "
        "VALUES (900, 90001, 'F1', '2024-05-01', 100.50), "
        "(900, 90002, 'F2', '2025-05-01', 200.25)"
    )
    return conn


def test_dashboard_totals_are_right_where_the_seed_query_is_wrong(cli, dsn, fanout):
    assert cli("matview", "create", "dashboard", "--yes").exit_code == 0
    rows = {
        r[0]: r[1:]
        for r in fanout.execute(
            "SELECT id, total_escolas, total_alunos, receita_total FROM mv_dashboard_empresa"
        )
    }
    for empresa_id, (escolas, alunos, receita) in rows.items():
        expected = fanout.execute(
            """SELECT (SELECT count(*) FROM escolas WHERE empresa_id = %(e)s),
                      (SELECT count(*) FROM alunos WHERE empresa_id = %(e)s),
                      (SELECT coalesce(sum(valor_total), 0) FROM contratos
                       WHERE empresa_id = %(e)s)""",
            {"e": empresa_id},
        ).fetchone()
        assert (escolas, alunos, receita) == expected
    assert rows[900] == (3, 4, Decimal("300.75"))
    seed = dict(fanout.execute(SEED_QUERY).fetchall())
    assert seed[900] == Decimal("300.75") * 3 * 4  # the seed multiplies by the fan-out
    # A unique index exists, so CONCURRENTLY works; creating again is a no-op.
    again = cli("matview", "create", "dashboard", "--yes")
    assert again.exit_code == 0 and "already exists" in again.stderr
    same = cli("matview", "create", "dashboard", "--yes", "--format", "json")
    assert json.loads(same.stdout)["status"] == "nothing-to-do"


def test_refresh_logs_rows_and_status_reports_it(cli, dsn, fanout):
    cli("matview", "create", "dashboard", "--yes")
    fanout.execute("INSERT INTO empresas (id, nome, cnpj) VALUES (901, 'Nova', '00000901000191')")
    result = cli("matview", "refresh", "dashboard", "--concurrently", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    [refreshed] = doc["result"]
    total = fanout.execute("SELECT count(*) FROM empresas").fetchone()[0]
    assert refreshed["row_count"] == total and refreshed["concurrently"] is True
    assert doc["status"] == "applied" and doc["kind"] == "job" and doc["rows"] == total
    assert fanout.execute("SELECT count(*) FROM mv_dashboard_empresa").fetchone()[0] == total
    status = json.loads(cli("matview", "status", "--format", "json").stdout)
    [dash] = [s for s in status if s["name"] == "public.mv_dashboard_empresa"]
    assert dash["rows"] == total and dash["rows_exact"] and dash["has_unique_index"]
    assert dash["staleness"] == "OK" and dash["populated"]


def test_concurrently_refuses_without_unique_index_or_population(cli, dsn, conn):
    conn.execute("CREATE MATERIALIZED VIEW mv_sem_indice AS SELECT id FROM empresas")
    r = cli("matview", "refresh", "mv_sem_indice", "--concurrently")
    assert r.exit_code == 3 and "unique index" in r.stderr
    conn.execute("CREATE MATERIALIZED VIEW mv_vazia AS SELECT id FROM empresas WITH NO DATA")
    conn.execute("CREATE UNIQUE INDEX ON mv_vazia (id)")
    r = cli("matview", "refresh", "mv_vazia", "--concurrently")
    assert r.exit_code == 3 and "never populated" in r.stderr
    assert cli("matview", "refresh", "mv_vazia").exit_code == 0
    assert cli("matview", "refresh", "nao_existe").exit_code == 2


def test_concurrent_refresh_lets_readers_proceed(cli, dsn, conn):
    cli("matview", "create", "dashboard", "--yes")
    with psycopg.connect(dsn) as reader:  # a reader inside an open transaction
        reader.execute("SELECT count(*) FROM mv_dashboard_empresa").fetchone()
        pid = reader.info.backend_pid
        concurrent = cli(
            "--lock-timeout", "300ms", "matview", "refresh", "dashboard", "--concurrently"
        )
        plain = cli("--lock-timeout", "300ms", "matview", "refresh", "dashboard")
        reader.rollback()
    assert concurrent.exit_code == 0, concurrent.stderr
    assert plain.exit_code == 6 and f"blocked by pid {pid}" in plain.stderr


# ------------------------------------------------------------------ pg_cron


def test_schedule_add_list_run_remove(cli, dsn, dbname, conn, cron):
    cli("matview", "create", "dashboard", "--yes")
    add = cli(
        "schedule",
        "add",
        "refresh-dashboard",
        "--cron",
        "0 2 * * *",
        "--matview",
        "dashboard",
        "--yes",
    )
    assert add.exit_code == 0, add.stderr
    assert "UTC" in add.stderr
    again = cli(
        "schedule",
        "add",
        "refresh-dashboard",
        "--cron",
        "0 2 * * *",
        "--matview",
        "dashboard",
        "--yes",
    )
    assert again.exit_code == 0
    jobs = cron.execute("SELECT jobname, schedule, command, database FROM cron.job").fetchall()
    assert len(jobs) == 1
    name, schedule, command, database = jobs[0]
    assert (name, schedule, database) == ("refresh-dashboard", "0 2 * * *", dbname)
    # Run the job's command as pg_cron would, in the application database.
    conn.execute("INSERT INTO empresas (id, nome, cnpj) VALUES (950, 'J', '00000950000191')")
    conn.execute(command)
    assert conn.execute("SELECT 1 FROM mv_dashboard_empresa WHERE id = 950").fetchone()
    listed = json.loads(cli("schedule", "list", "--format", "json").stdout)
    assert listed[0]["name"] == "refresh-dashboard"
    assert [t[11:16] for t in listed[0]["next_runs_utc"]] == ["02:00"] * 3
    status = json.loads(cli("matview", "status", "--format", "json").stdout)
    assert status[0]["scheduled"] is True
    assert cli("schedule", "runs", "--format", "json").exit_code == 0
    assert cli("schedule", "remove", "refresh-dashboard", "--yes").exit_code == 0
    assert cron.execute("SELECT count(*) FROM cron.job").fetchone()[0] == 0
    assert cli("schedule", "remove", "refresh-dashboard", "--yes").exit_code == 2


def test_bad_cron_expression_is_refused_before_connecting(cli):
    r = cli(
        "--dsn",
        "host=127.0.0.1 port=1",
        "schedule",
        "add",
        "x",
        "--cron",
        "61 2 * * *",
        "--sql",
        "SELECT 1",
    )
    assert r.exit_code == 2 and "not a 5-field cron expression" in r.stderr


# ------------------------------------------------------------------ redis


@pytest.fixture(scope="module")
def redis_url():
    server = shutil.which("redis-server")
    if not server:
        pytest.skip("redis-server is not installed (Debian package redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


def test_publish_replaces_the_dashboard_set_atomically(cli, dsn, fanout, redis_url):
    import redis

    r = redis.Redis.from_url(redis_url)
    r.flushdb()
    r.set("dashboard:empresa:424242", "stale")
    r.set("other:key", "kept")
    cli("matview", "create", "dashboard", "--yes")
    result = cli(
        "matview",
        "refresh",
        "dashboard",
        "--concurrently",
        "--publish-redis",
        redis_url,
        "--ttl",
        "3600",
    )
    assert result.exit_code == 0, result.stderr
    rows = fanout.execute(
        "SELECT id, total_alunos, receita_total FROM mv_dashboard_empresa"
    ).fetchall()
    keys = {k.decode() for k in r.scan_iter("dashboard:empresa:*")}
    assert keys == {f"dashboard:empresa:{i}" for i, _, _ in rows}
    for i, alunos, receita in rows:
        doc = json.loads(r.get(f"dashboard:empresa:{i}"))
        assert doc["total_alunos"] == alunos and Decimal(str(doc["receita_total"])) == receita
        assert 0 < r.ttl(f"dashboard:empresa:{i}") <= 3600
    assert r.get("other:key") == b"kept"
    again = json.loads(
        cli("cache", "publish", "dashboard", "--redis", redis_url, "--format", "json").stdout
    )
    assert again["keys"] == len(rows) and again["removed"] == 0


def test_cache_candidates_rank_read_only_statements(cli, dsn, conn):
    for _ in range(30):
        conn.execute("SELECT count(*) FROM alunos WHERE empresa_id = %s", [1]).fetchone()
    data = json.loads(cli("cache", "candidates", "--limit", "50", "--format", "json").stdout)
    [hit] = [c for c in data if "FROM alunos WHERE empresa_id" in c["query"]]
    assert hit["calls"] >= 30 and hit["tables"] == ["alunos"]
    assert all(not c["query"].lower().startswith(("insert", "update", "delete")) for c in data)


def ledger(conn: psycopg.Connection) -> list[tuple]:
    if not conn.execute("SELECT to_regclass('auroractl.operations')").fetchone()[0]:
        return []
    return conn.execute(
        "SELECT command, kind, outcome, rows FROM auroractl.operations ORDER BY id"
    ).fetchall()


def test_refresh_all_is_one_job_previewed_in_one_document(cli, dsn, fanout):
    assert cli("matview", "create", "dashboard", "--yes").exit_code == 0
    fanout.execute("CREATE MATERIALIZED VIEW mv_outra AS SELECT id FROM empresas WITH NO DATA")
    before = ledger(fanout)
    dry = cli("matview", "refresh", "--all", "--dry-run", "--format", "json")
    assert dry.exit_code == 0, dry.stderr
    doc = json.loads(dry.stdout)
    assert doc["status"] == "dry-run" and len(doc["steps"]) == 2
    assert fanout.execute(
        "SELECT ispopulated FROM pg_matviews WHERE matviewname = 'mv_outra'"
    ).fetchone() == (False,)
    assert ledger(fanout) == before
    result = cli("matview", "refresh", "--all", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert sorted(r["matview"] for r in doc["result"]) == [
        "public.mv_dashboard_empresa",
        "public.mv_outra",
    ]
    rows = sum(r["row_count"] for r in doc["result"])
    assert ledger(fanout)[len(before) :] == [("matview refresh --all", "job", "applied", rows)]


def test_create_and_drop_refuse_without_yes(cli, dsn, conn):
    assert cli("matview", "create", "dashboard").exit_code == 4
    assert cli("matview", "create", "dashboard", "--format", "json").exit_code == 4
    dry = cli("matview", "create", "dashboard", "--dry-run", "--format", "json")
    assert json.loads(dry.stdout)["status"] == "dry-run"
    assert conn.execute("SELECT to_regclass('mv_dashboard_empresa')").fetchone()[0] is None
    assert cli("matview", "create", "dashboard", "--yes").exit_code == 0
    assert cli("matview", "drop", "dashboard").exit_code == 4
    assert conn.execute("SELECT to_regclass('mv_dashboard_empresa')").fetchone()[0]


def test_dashboard_refuses_without_the_demo_tables_naming_the_config(cli, dsn, conn):
    conn.execute("DROP TABLE empresas CASCADE")
    for args in (("--dry-run",), ("--yes",), ("--dry-run", "--format", "json")):
        res = cli("matview", "create", "dashboard", *args)
        assert res.exit_code == 3, res.stderr
        assert "table empresas" in res.stderr and "[matviews.dashboard]" in res.stderr
    assert conn.execute("SELECT to_regclass('mv_dashboard_empresa')").fetchone()[0] is None


def test_dashboard_is_not_assumed_outside_the_sandbox(cli, dsn, conn, tmp_path):
    (tmp_path / "auroractl.toml").unlink()
    for args in (("--dry-run",), ("--yes",), ("--dry-run", "--format", "json")):
        res = cli("matview", "create", "dashboard", *args)
        assert res.exit_code == 2, res.stderr
        assert "give [matviews.dashboard] in auroractl.toml" in res.stderr
    assert conn.execute("SELECT to_regclass('mv_dashboard_empresa')").fetchone()[0] is None
    assert cli("matview", "refresh", "dashboard").exit_code == 2  # no such view


def test_dashboard_names_a_missing_demo_column(cli, dsn, conn):
    conn.execute("ALTER TABLE contratos DROP COLUMN valor_total")
    res = cli("matview", "create", "dashboard", "--dry-run")
    assert res.exit_code == 3
    assert "column contratos.valor_total" in res.stderr
    assert "table" not in res.stderr.split("[matviews")[0].replace("tables and", "")


def test_dashboard_from_configured_tables(cli, dsn, conn, tmp_path):
    conn.execute("CREATE SCHEMA shop")
    conn.execute("CREATE TABLE shop.tenants (tenant_id int PRIMARY KEY, title text)")
    conn.execute("CREATE TABLE shop.stores (id int PRIMARY KEY, tenant int)")
    conn.execute("CREATE TABLE shop.orders (id int PRIMARY KEY, tenant int, amount numeric)")
    conn.execute("INSERT INTO shop.tenants VALUES (1, 'One'), (2, 'Two')")
    conn.execute("INSERT INTO shop.stores VALUES (1, 1), (2, 1), (3, 1)")
    conn.execute("INSERT INTO shop.orders VALUES (1, 1, 10.5), (2, 1, 4.5), (3, 2, 1)")
    config = (
        "[matviews.dashboard]\n"
        'name = "shop.mv_tenants"\n'
        'root = "shop.tenants"\nroot_key = "tenant_id"\nroot_label = "title"\n'
        'tenant_column = "tenant"\n'
        'count = { stores = "shop.stores" }\n'
        'sum = { revenue = "shop.orders.%s" }\n'
    )
    (tmp_path / "auroractl.toml").write_text(config % "amountz")
    res = cli("matview", "create", "dashboard", "--dry-run")
    assert res.exit_code == 3
    assert "[matviews.dashboard] names what this database does not have" in res.stderr
    assert "column shop.orders.amountz" in res.stderr

    (tmp_path / "auroractl.toml").write_text(config % "amount")
    res = cli("matview", "create", "dashboard", "--yes")
    assert res.exit_code == 0, res.stderr
    rows = conn.execute("SELECT id, title, stores, revenue FROM shop.mv_tenants ORDER BY id")
    assert rows.fetchall() == [(1, "One", 3, Decimal("15.0")), (2, "Two", 0, Decimal("1"))]
    res = cli("matview", "refresh", "dashboard", "--concurrently")
    assert res.exit_code == 0, res.stderr

    (tmp_path / "auroractl.toml").write_text("[matviews.dashboard]\nroot = 'x'\n")
    res = cli("matview", "create", "dashboard", "--dry-run")
    assert res.exit_code == 2
    assert "needs root, root_key" in res.stderr


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "http://127.0.0.1:6379/0",
        "redis://",
        "redis://127.0.0.1:notaport/0",
        "redis://127.0.0.1:6379/zero",
        "redis://:s3cr3t@127.0.0.1:99999/0",
    ],
)
def test_a_bad_redis_url_is_refused_before_the_refresh_commits(cli, dsn, conn, url):
    assert cli("matview", "create", "dashboard", "--yes").exit_code == 0
    ledger = conn.execute("SELECT count(*) FROM auroractl.operations").fetchone()[0]
    for args in (
        ("matview", "refresh", "dashboard", "--publish-redis", url),
        ("cache", "publish", "dashboard", "--redis", url, "--format", "json"),
    ):
        result = cli(*args)
        assert result.exit_code == 2, (args, result.stderr)
        assert result.stderr.startswith("Error: --") and "is not a Redis URL" in result.stderr
        assert "s3cr3t" not in result.stderr + result.stdout
    # no refresh ran: the refresh records a ledger row and matview_refreshes history
    assert conn.execute("SELECT count(*) FROM auroractl.operations").fetchone()[0] == ledger
    assert json.loads(result.stdout)["status"] == "error"


@pytest.mark.parametrize("args", [("--ttl", "-5"), ("--ttl", "0"), ("--ttl", "60")])
def test_matview_refresh_ttl_is_checked_like_cache_publish(cli, dsn, conn, args):
    assert cli("matview", "create", "dashboard", "--yes").exit_code == 0
    ledger = conn.execute("SELECT count(*) FROM auroractl.operations").fetchone()[0]
    refresh = cli("matview", "refresh", "dashboard", *args)
    assert refresh.exit_code == 2
    if args[1] == "60":  # a TTL without Redis to publish to
        assert "--ttl is the Redis keys' TTL: it needs --publish-redis" in refresh.stderr
    else:
        publish = cli("cache", "publish", "dashboard", *args)
        assert publish.exit_code == 2 and publish.stderr == refresh.stderr
    assert conn.execute("SELECT count(*) FROM auroractl.operations").fetchone()[0] == ledger
