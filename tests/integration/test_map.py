"""auroractl map propose | check | show on the demo schema and on the English schema."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import psycopg
import pytest

from auroractl.ops import datamap as ops
from auroractl.ops.shared import datamap as dm

# Every personal column planted in tests/integration/schema_en.sql, by hand.
EXPECTED_EN = {
    ("shop.addresses", c)
    for c in ("address_line1", "address_line2", "postal_code", "contact_phone")
} | {
    ("shop.people", c)
    for c in ("first_name", "last_name", "email", "phone", "ssn", "date_of_birth", "tax_ref")
} | {("shop.people", "notes")} | {
    ("shop.accounts", c) for c in ("username", "password_hash", "last_login_ip")
} | {
    ("shop.staff", c)
    for c in ("full_name", "work_email", "photo", "api_key", "national_id", "national_id_encrypted")
} | {
    ("shop.orders", "delivery_contact"),
    ("shop.payments", "card_holder"),
    ("shop.support_tickets", "body"),
    ("shop.support_tickets", "requester_email"),
    ("shop.newsletter_signups", "e_mail"),
    ("shop.newsletter_signups", "signup_ip"),
}  # fmt: skip
# The demo's (sql_templates/sandbox/schema.sql); the CNPJ is a national document too.
EXPECTED_DEMO = {
    ("public.alunos", c) for c in ("nome", "data_nascimento", "documento_identidade", "email")
} | {("public.professores", c) for c in ("nome", "email", "documento_identidade")} | {
    ("public.usuarios", c)
    for c in ("nome", "email", "telefone", "documento_identidade", "endereco", "foto_perfil")
} | {("public.empresas", "cnpj")}  # fmt: skip


class Counting:
    """A connection that counts the statements sent (each execute is one round trip)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.calls = 0

    def execute(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.calls += 1
        return self.conn.execute(*args, **kwargs)

    def transaction(self):  # type: ignore[no-untyped-def]
        return self.conn.transaction()


def _scores(found: set, expected: set) -> tuple[float, float]:
    hits = len(found & expected)
    return hits / len(expected), hits / len(found) if found else 0.0


def _proposed(dsn: str) -> dm.DataMap:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return ops.propose(conn).map


def test_propose_finds_every_planted_column_of_the_english_schema(en_dsn):
    m = _proposed(en_dsn)
    found = {(c.table, c.column) for c in m.columns}
    recall, precision = _scores(found, EXPECTED_EN)
    assert recall == 1.0, sorted(EXPECTED_EN - found)
    assert precision >= 0.9, sorted(found - EXPECTED_EN)
    by = {(c.table, c.column): c for c in m.columns}
    assert by[("shop.people", "email")].rule.kind == "pseudonym"  # NOT NULL, UNIQUE, CHECK
    assert by[("shop.people", "ssn")].rule.kind == "null"
    assert by[("shop.people", "tax_ref")].cls == "national_id"  # by its values only
    assert by[("shop.orders", "delivery_contact")].cls == "email"
    assert by[("shop.accounts", "password_hash")].cls == "credential"
    assert by[("shop.accounts", "password_hash")].rule.kind != "null"  # NOT NULL
    assert by[("shop.accounts", "last_login_ip")].cls == "network_id"
    enc = by[("shop.staff", "national_id_encrypted")]
    assert (enc.cls, enc.of) == ("ciphertext", "national_id")
    for c in m.columns:
        assert not (c.rule.kind == "null" and c.column in {"first_name", "email", "username"})


def test_propose_finds_subjects_references_and_both_tenant_keys(en_dsn):
    m = _proposed(en_dsn)
    assert {s.table for s in m.subjects} == {"shop.people", "shop.staff"}
    assert m.subject("shop.people").key == ("id",)
    refs = {(r.table, r.columns, r.direction) for r in m.references_of("shop.people")}
    assert ("shop.orders", ("tenant_id", "person_id"), "in") in refs  # multi-column
    assert ("shop.accounts", ("person_id",), "in") in refs
    assert ("shop.support_tickets", ("person_id",), "in") in refs
    assert ("shop.people", ("tenant_id", "home_address_id"), "out") in refs  # its address
    # Declared on each partition: one reference, on the parent.
    payments = [r for r in m.references if r.table == "shop.payments"]
    assert [(r.columns, r.on_partitions) for r in payments] == [(("person_id",), True)]
    tenants = {(t.column, t.type): t for t in m.tenants}
    uuid_key = tenants[("tenant_id", "uuid")]
    assert uuid_key.root == "shop.tenants" and "shop.payments" in uuid_key.tables
    assert uuid_key.setting == "app.current_tenant_id"
    text_key = tenants[("tenant_code", "text")]
    assert text_key.root == "shop.tenants"
    assert set(text_key.tables) == {"shop.support_tickets", "shop.newsletter_signups"}


def test_propose_on_the_demo_schema(dsn):
    m = _proposed(dsn)
    found = {(c.table, c.column) for c in m.columns}
    recall, precision = _scores(found, EXPECTED_DEMO)
    assert recall == 1.0, sorted(EXPECTED_DEMO - found)
    assert precision >= 0.9, sorted(found - EXPECTED_DEMO)
    assert {s.table for s in m.subjects} == {
        "public.alunos",
        "public.professores",
        "public.usuarios",
    }
    assert m.tenant is not None
    assert (m.tenant.column, m.tenant.type, m.tenant.root) == (
        "empresa_id",
        "integer",
        "public.empresas",
    )
    assert m.tenant.setting == "app.current_empresa_id"
    assert ("public.contratos", ("aluno_id",), "in") in {
        (r.table, r.columns, r.direction) for r in m.references_of("public.alunos")
    }


EXTRA = (
    "DO $$ BEGIN FOR i IN {} LOOP EXECUTE format("
    "'CREATE TABLE extra_%s (id int PRIMARY KEY, email text, note text, "
    "contact text CHECK (contact <> %L))', i, 'x'); END LOOP; END $$"
)


@pytest.mark.parametrize("fixture", ["dsn", "en_dsn"])
def test_propose_uses_a_fixed_number_of_round_trips(fixture, request):
    dsn = request.getfixturevalue(fixture)
    calls = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for tables in ("1..1", "2..60"):
            conn.execute(EXTRA.format(tables))
            conn.execute("INSERT INTO extra_1 VALUES (1, 'a@example.com', 'n', 'b@example.com')"
                         " ON CONFLICT DO NOTHING")  # fmt: skip
            counted = Counting(conn)
            m = ops.propose(counted).map
            calls.append(counted.calls)
    found = {(c.table, c.column) for c in m.columns}
    assert {("public.extra_60", "email"), ("public.extra_1", "contact")} <= found
    assert calls[0] == calls[1] <= 5, calls


def test_cli_propose_writes_the_file_and_check_passes(en_dsn, cli, tmp_path):
    result = cli("map", "propose", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["written"] and doc["path"] == "auroractl-map.toml"
    text = Path("auroractl-map.toml").read_text()
    assert dm.load(Path("auroractl-map.toml")).columns  # what was written loads
    tomllib.loads(text)
    again = cli("map", "propose")
    assert again.exit_code == 4 and "--force" in again.stderr  # a reviewed map is kept
    assert Path("auroractl-map.toml").read_text() == text
    ok = cli("map", "check", "--format", "json")
    assert ok.exit_code == 0, ok.stdout
    assert json.loads(ok.stdout) == {"map": "auroractl-map.toml", "ok": True, "findings": []}
    shown = cli("map", "show", "--format", "json")
    assert shown.exit_code == 0
    assert "shop.people" in json.loads(shown.stdout)["columns"]


def test_propose_dry_run_prints_the_file_and_writes_nothing(en_dsn, cli):
    result = cli("map", "propose", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert '[columns."shop.people"]' in result.stdout
    assert not Path("auroractl-map.toml").exists()


def _findings(cli) -> list[dict]:
    result = cli("map", "check", "--format", "json")
    assert result.exit_code == 1, result.stdout
    doc = json.loads(result.stdout)
    assert doc["ok"] is False
    return doc["findings"]


def test_check_fails_on_drift(en_dsn, cli):
    assert cli("map", "propose").exit_code == 0
    with psycopg.connect(en_dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE shop.people ADD COLUMN mobile_phone text")
        conn.execute("ALTER TABLE shop.staff DROP COLUMN api_key")
        conn.execute("CREATE TABLE shop.reviews (id int PRIMARY KEY, person_id bigint"
                     " REFERENCES shop.people (id), stars int)")  # fmt: skip
    found = {(f["kind"], f["table"], f["column"]) for f in _findings(cli)}
    assert ("unmapped_column", "shop.people", "mobile_phone") in found
    assert ("missing_column", "shop.staff", "api_key") in found
    assert ("unmapped_reference", "shop.reviews", "person_id") in found


def test_check_fails_on_a_rule_a_constraint_rejects_and_a_dropped_table(en_dsn, cli):
    assert cli("map", "propose").exit_code == 0
    text = Path("auroractl-map.toml").read_text()
    text = text.replace('"ssn" = { class = "national_id", rule = "null" }',
                        '"ssn" = { class = "national_id", rule = "null" }\n'
                        '"first_name_x" = { class = "name", rule = "null" }')  # fmt: skip
    Path("auroractl-map.toml").write_text(text)
    with psycopg.connect(en_dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE shop.people ALTER COLUMN ssn SET NOT NULL")
        conn.execute("ALTER TABLE shop.addresses ADD CHECK (contact_phone LIKE '+%')")
        conn.execute("DROP TABLE shop.newsletter_signups")
    found = {(f["kind"], f["table"], f["column"]) for f in _findings(cli)}
    assert ("rule_rejected", "shop.people", "ssn") in found  # null on NOT NULL
    assert ("missing_column", "shop.people", "first_name_x") in found
    assert ("missing_table", "shop.newsletter_signups", "") in found


def test_check_tests_check_constraints_against_fixed_values(en_dsn, cli):
    assert cli("map", "propose").exit_code == 0
    with psycopg.connect(en_dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE shop.addresses ADD CHECK (address_line1 <> '')")
    found = {(f["kind"], f["table"], f["column"]) for f in _findings(cli)}
    assert found == {("rule_rejected", "shop.addresses", "address_line1")}
    # Proposed again, the rule is one the constraint allows.
    assert cli("map", "propose", "--force").exit_code == 0
    assert cli("map", "check").exit_code == 0


def test_commands_refuse_without_a_map_naming_propose(en_dsn, cli):
    for verb in ("check", "show"):
        result = cli("map", verb)
        assert result.exit_code == 3
        assert "auroractl map propose" in result.stderr


def test_map_file_from_config_and_option(en_dsn, cli, tmp_path, monkeypatch):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "auroractl.toml").write_text('[map]\nfile = "maps/shop.toml"\n')
    (tmp_path / "conf" / "maps").mkdir()
    monkeypatch.setenv("AURORACTL_CONFIG", str(tmp_path / "conf" / "auroractl.toml"))
    assert cli("map", "propose").exit_code == 0
    assert (tmp_path / "conf" / "maps" / "shop.toml").is_file()
    assert not Path("auroractl-map.toml").exists()
    assert cli("map", "show").exit_code == 0
    assert cli("map", "show", "--map", "nowhere.toml").exit_code == 3


def test_a_table_the_role_may_not_read_is_classified_without_sampling(en_dsn, cluster):
    from tests.conftest import superuser

    dbname = psycopg.conninfo.conninfo_to_dict(en_dsn)["dbname"]
    with superuser(cluster, dbname) as su:
        su.execute("CREATE TABLE shop.hr_private (id int PRIMARY KEY, cpf text, contact text)")
        su.execute("INSERT INTO shop.hr_private VALUES (1, '529.982.247-25', 'a@b.org')")
    found = {(c.table, c.column) for c in _proposed(en_dsn).columns}
    assert ("shop.hr_private", "cpf") in found  # by name; its values are not read
    assert ("shop.hr_private", "contact") not in found


def test_audit_redacts_what_the_data_map_names(en_dsn, cli):
    """On a schema unlike the demo, audit takes its personal columns from the reviewed map
    (first_name, last_name, ... of shop.people), not from the demo's Portuguese defaults."""
    assert cli("map", "propose").exit_code == 0
    result = cli("audit", "enable", "--table", "shop.people", "--yes")
    assert result.exit_code == 0, result.stderr
    with psycopg.connect(en_dsn, autocommit=True) as conn:
        pid = conn.execute("SELECT min(id) FROM shop.people").fetchone()[0]
        conn.execute("UPDATE shop.people SET first_name = 'Zelda-canary' WHERE id = %s", [pid])
        (entry,) = conn.execute(
            "SELECT to_jsonb(a) FROM audit.audit_log a WHERE table_name = 'shop.people'"
        ).fetchone()
    assert "first_name" in entry["redacted_columns"]
    assert "Zelda-canary" not in json.dumps(entry)
    assert "last_update" in entry["new_values"]  # stamped by the trigger, not personal: logged


def test_webhook_payloads_leave_out_what_the_data_map_names(en_dsn, cli):
    assert cli("map", "propose").exit_code == 0
    assert cli("webhooks", "install", "--yes").exit_code == 0
    sub = cli(
        "webhooks", "subscribe", "new_person", "shop.people", "--on", "insert",
        "--url", "https://hooks.example.com/people", "--yes",
    )  # fmt: skip
    assert sub.exit_code == 0, sub.stderr
    with psycopg.connect(en_dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO shop.people (tenant_id, first_name, last_name, email)"
            " SELECT tenant_id, 'Canary-first', 'Canary-last', 'canary@example.org'"
            " FROM shop.people LIMIT 1"
        )
        (payload,) = conn.execute("SELECT payload FROM webhook_events").fetchone()
    text = json.dumps(payload)
    assert payload["row"]["id"] and "tenant_id" in payload["row"]
    for canary in ("Canary-first", "Canary-last", "canary@example.org"):
        assert canary not in text


def test_graphql_check_reports_the_personal_columns_the_data_map_names(en_dsn, cli):
    assert cli("map", "propose").exit_code == 0
    assert cli("rls", "enable", "--all", "--yes").exit_code == 0  # the role reads people
    result = cli("graphql", "check", "--schema", "shop", "--format", "json")
    assert result.exit_code in (0, 1), result.stderr
    (exposed,) = [
        set(f["columns"])
        for f in json.loads(result.stdout)["findings"]
        if f["relation"] == "shop.people" and f["kind"] == "personal_exposed"
    ]
    assert {"first_name", "last_name", "email", "ssn"} <= exposed
    assert "created_at" not in exposed


def test_rls_takes_the_tenant_key_from_the_data_map(en_dsn, cli):
    """shop's main tenant key is a uuid tenant_id: rls enables and verifies on it without
    any [rls] column / setting / type (the demo's empresa_id never comes into it)."""
    assert cli("map", "propose").exit_code == 0
    status = cli("rls", "status", "--format", "json")
    assert status.exit_code in (0, 1), status.stderr  # 1: tenant tables not yet covered
    assert "empresa_id" not in status.stdout and "tenant_id" in status.stdout
    enabled = cli("rls", "enable", "--all", "--yes")
    assert enabled.exit_code == 0, enabled.stderr
    verified = cli("rls", "verify", "--sample", "2", "--format", "json")
    assert verified.exit_code == 0, verified.stdout + verified.stderr
