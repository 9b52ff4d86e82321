"""auroractl metrics: the business metrics view against the real PostgreSQL."""

from __future__ import annotations

import json

import pytest

from tests.conftest import superuser

VIEW_SQL = "SELECT * FROM public.v_metricas_negocio"
USERS = '[metrics]\ntable = "usuarios"\n'  # the demo's users table, named


@pytest.fixture(autouse=True)
def _users_table(tmp_path):
    (tmp_path / "auroractl.toml").write_text(USERS)


def add_users(conn, rows):
    """rows: (criado_em SQL expression, ultimo_acesso SQL expression or None)."""
    for created, accessed in rows:
        conn.execute(
            "INSERT INTO usuarios (id, empresa_id, nome, email, criado_em, ultimo_acesso) "
            "SELECT coalesce(max(id), 0) + 1, 1, 'Teste', 't' || gen_random_uuid() || '@x.com', "
            f"{created}, {accessed or 'NULL'} FROM usuarios"
        )


def test_apply_creates_the_view_with_the_intended_numbers(cli, conn, dbname):
    # Today in São Paulo: 3 new users, of whom 2 accessed (after 2 h and 4 h);
    # 1 old user (created 10 days ago) accessed today, after 240 h; 1 new user never accessed.
    add_users(
        conn,
        [
            ("now()", "now()"),  # 0 h
            ("now() - interval '4 hours'", "now()"),
            ("now()", None),
            ("now() - interval '10 days'", "now()"),
        ],
    )
    result = cli("metrics", "apply", "--yes")
    assert result.exit_code == 0, result.stderr
    kind = conn.execute(
        "SELECT relkind FROM pg_class WHERE oid = 'public.v_metricas_negocio'::regclass"
    ).fetchone()[0]
    assert kind == "v"

    shown = cli("metrics", "show", "--format", "json")
    assert shown.exit_code == 0, shown.stderr
    data = json.loads(shown.stdout)
    today = conn.execute("SELECT (now() AT TIME ZONE 'America/Sao_Paulo')::date").fetchone()[0]
    assert data["data"] == today.isoformat()
    new_today = conn.execute(
        "SELECT count(*) FROM usuarios WHERE (criado_em AT TIME ZONE 'America/Sao_Paulo')::date"
        " = (now() AT TIME ZONE 'America/Sao_Paulo')::date"
    ).fetchone()[0]
    assert data["novos_usuarios_hoje"] == new_today
    assert new_today >= 2  # the demo data may hold no other user created today
    active_today = conn.execute(
        "SELECT count(*) FROM usuarios WHERE"
        " (ultimo_acesso AT TIME ZONE 'America/Sao_Paulo')::date"
        " = (now() AT TIME ZONE 'America/Sao_Paulo')::date"
    ).fetchone()[0]
    assert data["usuarios_ativos_hoje"] == active_today >= 3
    # Only users who accessed, created in the last 30 days: (0 + 4 + 240) / 3 = 81.3 h,
    # unless demo users of the last 30 days exist (the demo data ends years ago).
    assert data["horas_ate_primeiro_acesso"] == 81.3

    # The ledger recorded the change; a re-run changes nothing.
    rerun = cli("metrics", "apply", "--yes")
    assert rerun.exit_code == 0 and "up to date" in rerun.stderr
    ops = conn.execute(
        "SELECT count(*) FROM auroractl.operations WHERE command = 'metrics apply'"
    ).fetchone()[0]
    assert ops == 1


def test_nobody_accessed_gives_null_hours_not_an_error(cli, conn):
    conn.execute("UPDATE usuarios SET ultimo_acesso = NULL")
    assert cli("metrics", "apply", "--yes").exit_code == 0
    data = json.loads(cli("metrics", "show", "--format", "json").stdout)
    assert data["horas_ate_primeiro_acesso"] is None
    assert data["usuarios_ativos_hoje"] == 0


def test_dry_run_prints_the_plan_and_changes_nothing(cli, conn):
    result = cli("metrics", "apply", "--dry-run")
    assert result.exit_code == 0
    assert "CREATE OR REPLACE VIEW" in result.stdout
    assert conn.execute("SELECT to_regclass('public.v_metricas_negocio')").fetchone()[0] is None


def test_without_yes_and_no_terminal_it_refuses(cli, conn):
    result = cli("metrics", "apply")
    assert result.exit_code == 4
    assert conn.execute("SELECT to_regclass('public.v_metricas_negocio')").fetchone()[0] is None


def test_seed_view_with_other_column_types_is_replaced(cli, conn, cluster, dbname):
    # The seed's own snippet: data is a timestamptz and hours an integer.
    conn.execute(
        """CREATE VIEW v_metricas_negocio AS
        SELECT DATE_TRUNC('day', CURRENT_TIMESTAMP) as data,
          COUNT(*) FILTER (WHERE criado_em >= CURRENT_DATE) as novos_usuarios_hoje,
          COUNT(*) FILTER (WHERE ultimo_acesso >= CURRENT_DATE) as usuarios_ativos_hoje,
          AVG(EXTRACT(EPOCH FROM (ultimo_acesso - criado_em))/3600)::INTEGER
            as horas_ate_primeiro_acesso
        FROM usuarios"""
    )
    result = cli("metrics", "apply", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "dropped and re-created" in result.stderr
    types = conn.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
        " WHERE attrelid = 'v_metricas_negocio'::regclass AND attnum > 0 ORDER BY attnum"
    ).fetchall()
    assert [t[0] for t in types] == ["date", "bigint", "bigint", "numeric"]


def test_primeiro_acesso_column_is_used_when_present(cli, conn, cluster, dbname):
    with superuser(cluster, dbname) as su:
        su.execute("ALTER TABLE usuarios ADD COLUMN primeiro_acesso timestamptz")
    conn.execute("UPDATE usuarios SET ultimo_acesso = NULL")
    add_users(conn, [("now() - interval '2 days'", "now()")])
    conn.execute(
        "UPDATE usuarios SET primeiro_acesso = criado_em + interval '6 hours'"
        " WHERE ultimo_acesso IS NOT NULL"
    )
    result = cli("metrics", "apply", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "no primeiro_acesso" not in result.stderr
    data = json.loads(cli("metrics", "show", "--format", "json").stdout)
    assert data["horas_ate_primeiro_acesso"] == 6.0


def test_show_before_apply_says_how_to_create_it(cli, dsn):
    result = cli("metrics", "show")
    assert result.exit_code == 3
    assert "does not exist" in result.stderr and "metrics apply" in result.stderr


def test_bad_timezone_is_a_usage_error(cli, dsn, tmp_path):
    (tmp_path / "auroractl.toml").write_text(USERS + 'timezone = "Mars/Olympus"\n')
    result = cli("metrics", "apply", "--yes")
    assert result.exit_code == 2 and "Mars/Olympus" in result.stderr


def test_apply_needs_the_users_table_named_outside_the_sandbox(cli, conn, tmp_path):
    (tmp_path / "auroractl.toml").unlink()
    for args in ((), ("--dry-run",), ("--yes",)):
        result = cli("metrics", "apply", *args)
        assert result.exit_code == 2 and "give [metrics] table" in result.stderr, args
    assert conn.execute("SELECT to_regclass('public.v_metricas_negocio')").fetchone() == (None,)
