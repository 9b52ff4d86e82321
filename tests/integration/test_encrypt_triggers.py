"""encrypt backfill / rotate / finalize leave the table's own triggers alone: a BEFORE
UPDATE trigger stamping last_update and an audit trigger see none of the batches' writes,
on the English schema (shop.people) and on the demo; --fire-triggers opts in; a role that
may not set session_replication_role is refused before any change."""

from __future__ import annotations

import json

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tests.conftest import superuser

KEY = "k3y-for-tests-0123456789abcdef=="
NEW_KEY = "another-key-for-tests-0123456789=="
PEOPLE = ("--table", "shop.people", "--column", "ssn")


@pytest.fixture
def keys(monkeypatch):
    monkeypatch.setenv("AURORACTL_ENCRYPTION_KEY", KEY)
    monkeypatch.setenv("AURORACTL_NEW_ENCRYPTION_KEY", NEW_KEY)


def ok(result) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.stdout + result.stderr


def stamps(conn: psycopg.Connection) -> dict[int, object]:
    return dict(conn.execute("SELECT id, last_update FROM shop.people").fetchall())


def audit_rows(conn: psycopg.Connection, table: str) -> int:
    return conn.execute(
        "SELECT count(*) FROM audit.audit_log WHERE table_name = %s", [table]
    ).fetchone()[0]


def opened(conn: psycopg.Connection, key: str) -> dict[int, str]:
    return dict(
        conn.execute(
            "SELECT id, pgp_sym_decrypt(ssn_encrypted, %s) FROM shop.people", [key]
        ).fetchall()
    )


def operations(conn: psycopg.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT command FROM auroractl.operations ORDER BY id")]


def test_backfill_rotate_finalize_fire_none_of_the_tables_triggers(cli, en_dsn, en_map, keys):
    ok(cli("audit", "enable", "--table", "shop.people", "--yes"))
    with psycopg.connect(en_dsn, autocommit=True) as conn:
        ssn = dict(conn.execute("SELECT id, ssn FROM shop.people").fetchall())
        before = stamps(conn)
        dry = cli("encrypt", "backfill", *PEOPLE, "--dry-run", "--format", "json")
        ok(dry)
        plan = json.loads(dry.stdout)
        steps = [s["sql"] for s in plan["steps"]]
        assert "SET LOCAL session_replication_role = replica" in steps
        note = " ".join(plan["notes"])
        assert "people_last_update" in note and "auroractl.operations" in note
        assert "auroractl_audit" in note  # the audit trigger is one of the table's own

        ok(cli("encrypt", "backfill", *PEOPLE, "--batch-size", "7", "--jobs", "2", "--yes"))
        assert opened(conn, KEY) == ssn
        ok(cli("encrypt", "rotate", *PEOPLE, "--batch-size", "9", "--yes"))
        assert opened(conn, NEW_KEY) == ssn
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("AURORACTL_ENCRYPTION_KEY", NEW_KEY)
            ok(cli("encrypt", "finalize", *PEOPLE, "--yes"))
        assert conn.execute("SELECT count(ssn) FROM shop.people").fetchone()[0] == 0
        assert opened(conn, NEW_KEY) == ssn
        assert stamps(conn) == before  # the BEFORE UPDATE trigger never stamped a row
        assert audit_rows(conn, "shop.people") == 0  # no ciphertext churn, row by row
        assert [c.split(" --")[0] for c in operations(conn)][-3:] == [
            "encrypt backfill",
            "encrypt rotate",
            "encrypt finalize",
        ]  # each run recorded once
        # the application's own writes still fire every trigger (nothing leaked)
        conn.execute("UPDATE shop.people SET phone = 'new' WHERE id = 1")
        assert stamps(conn)[1] != before[1] and audit_rows(conn, "shop.people") == 1


def test_fire_triggers_opts_in(cli, en_dsn, keys):
    with psycopg.connect(en_dsn, autocommit=True) as conn:
        before = stamps(conn)
        dry = cli(
            "encrypt", "backfill", *PEOPLE, "--fire-triggers", "--dry-run", "--format", "json"
        )
        ok(dry)
        plan = json.loads(dry.stdout)
        assert all("session_replication_role" not in s["sql"] for s in plan["steps"])
        assert any("--fire-triggers: people_last_update" in n for n in plan["notes"])
        ok(cli("encrypt", "backfill", *PEOPLE, "--fire-triggers", "--yes"))
        after = stamps(conn)
    assert all(after[k] != v for k, v in before.items())


def test_a_table_without_triggers_needs_no_replica_mode(cli, en_dsn, keys):
    staff = ("--table", "shop.staff", "--column", "national_id")
    dry = cli("encrypt", "backfill", *staff, "--dry-run", "--format", "json")
    ok(dry)
    plan = json.loads(dry.stdout)
    assert plan["notes"] == [] and "session_replication_role" not in dry.stdout
    ok(cli("encrypt", "backfill", *staff, "--yes"))
    with psycopg.connect(en_dsn, autocommit=True) as conn:
        got = conn.execute(
            "SELECT national_id, pgp_sym_decrypt(national_id_encrypted, %s) FROM shop.staff",
            [KEY],
        ).fetchall()
    assert got == [("111", "111")]


@pytest.fixture
def plain_role(cluster, en_dsn, monkeypatch) -> str:
    """auroractl's target as a role outside rds_superuser: it may not set
    session_replication_role (the table's owner, as a non-superuser application owner)."""
    role = "encrypt_plain_owner"
    with superuser(cluster) as su:
        if not su.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
            su.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    with superuser(cluster, psycopg.conninfo.conninfo_to_dict(en_dsn)["dbname"]) as su:
        su.execute(sql.SQL("GRANT USAGE ON SCHEMA shop TO {}").format(sql.Identifier(role)))
        su.execute(sql.SQL("ALTER TABLE shop.people OWNER TO {}").format(sql.Identifier(role)))
    monkeypatch.setenv("AURORACTL_DSN", make_conninfo(en_dsn, user=role))
    return role


def test_refused_before_any_change_when_the_role_cannot_skip_triggers(
    cli, en_dsn, keys, plain_role
):
    for extra in ((), ("--dry-run",)):
        result = cli("encrypt", "backfill", *PEOPLE, *extra, "--yes")
        assert result.exit_code == 3, result.stderr
        line = result.stderr.strip().splitlines()[0]
        assert "people_last_update" in line and "--fire-triggers" in line
        assert f"GRANT SET ON PARAMETER session_replication_role TO {plain_role}" in line
    with psycopg.connect(en_dsn, autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass('auroractl.operations')").fetchone()[0] is None
        assert (
            conn.execute(
                "SELECT 1 FROM pg_attribute WHERE attrelid = 'shop.people'::regclass "
                "AND attname = 'ssn_encrypted'"
            ).fetchone()
            is None
        )


def test_finalize_refuses_to_skip_the_foreign_key_on_its_column(cli, en_dsn, keys):
    with psycopg.connect(en_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE shop.mail_refs (email text REFERENCES shop.people (email))")
        conn.execute("INSERT INTO shop.mail_refs SELECT email FROM shop.people LIMIT 1")
        email = ("--table", "shop.people", "--column", "email")
        ok(cli("encrypt", "backfill", *email, "--yes"))  # writes email_encrypted: no key
        refused = cli("encrypt", "finalize", *email, "--yes")
        assert refused.exit_code == 3, refused.stderr
        assert "mail_refs_email_fkey" in refused.stderr and "--fire-triggers" in refused.stderr
        assert conn.execute("SELECT count(email) FROM shop.people").fetchone()[0] == 40


def test_demo_backfill_is_not_audited_row_by_row(cli, dsn, conn, demo_map, keys):
    ok(cli("audit", "enable", "--table", "usuarios", "--yes"))
    names = ("usuarios", "--column", "documento_identidade")
    plain = dict(
        conn.execute(
            "SELECT id, documento_identidade FROM usuarios WHERE documento_identidade IS NOT NULL"
        ).fetchall()
    )
    ok(cli("encrypt", "backfill", *names, "--yes"))
    got = dict(
        conn.execute(
            "SELECT id, pgp_sym_decrypt(documento_identidade_encrypted, %s) FROM usuarios "
            "WHERE documento_identidade_encrypted IS NOT NULL",
            [KEY],
        ).fetchall()
    )
    assert got == plain
    assert audit_rows(conn, "public.usuarios") == 0
