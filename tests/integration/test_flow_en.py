"""The whole flow on a schema unlike the demo (tests/integration/schema_en.sql): propose the
data map, review it, check it, audit, encrypt, forget, export, graphql check, rls.

Canaries are planted in every personal column of one person (their row, the address they
reference, their account, orders through a multi-column key, payments in partitions whose
foreign keys are declared per partition, support tickets), in a ciphertext column, in the
audit log and in webhook payloads. After `lgpd forget` a search of every text, jsonb and
bytea column of every table (ciphertext decrypted) finds none, and every other row is as
it was (checksums, independent SQL).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from auroractl.ops.shared import datamap as dm
from tests.conftest import superuser
from tests.integration.search import checksum, survivors

KEY = "flow-test-key-0123456789abcdef0123"
SHOP = ("people", "addresses", "accounts", "orders", "payments", "support_tickets", "staff")
MAP = Path(dm.DEFAULT_FILE)


def canaries(tag: str) -> dict[str, str]:
    return {
        "first_name": f"Quillon{tag}",
        "last_name": f"Canarybeck{tag}",
        "email": f"canary.{tag.lower()}@example.org",
        "phone": f"+1 555 010 {tag}77",
        "ssn": f"078-05-11{tag}0",
        "tax_ref": f"TAXCANARY{tag}",
        "notes": f"call after dinner CANARYNOTE{tag}",
        "address_line1": f"{tag}1 Canary Lane",
        "address_line2": f"Suite CANARY{tag}",
        "contact_phone": f"+1 555 020 {tag}88",
        "username": f"canaryuser{tag}",
        "password_hash": f"scrypt$CANARYHASH{tag}",
        "delivery_contact": f"deliver.canary{tag}@example.org",
        "card_holder": f"CARDCANARY {tag}",
        "body": f"my number is CANARYBODY{tag}",
        "requester_email": f"ticket.canary{tag}@example.org",
    }


def plant(conn: psycopg.Connection, pid: int, tag: str) -> None:
    """Every personal column of person ``pid`` and of the rows that belong to them."""
    c = canaries(tag)
    conn.execute(
        "UPDATE shop.people SET first_name = %(first_name)s, last_name = %(last_name)s,"
        " email = %(email)s, phone = %(phone)s, ssn = %(ssn)s, tax_ref = %(tax_ref)s,"
        " notes = %(notes)s, date_of_birth = date '1970-07-07' WHERE id = %(pid)s",
        c | {"pid": pid},
    )
    conn.execute(
        "UPDATE shop.addresses a SET address_line1 = %(address_line1)s,"
        " address_line2 = %(address_line2)s, contact_phone = %(contact_phone)s,"
        " postal_code = '99999-0001' FROM shop.people p"
        " WHERE p.id = %(pid)s AND a.id = p.home_address_id",
        c | {"pid": pid},
    )
    conn.execute(
        "UPDATE shop.accounts SET username = %(username)s, password_hash = %(password_hash)s,"
        " last_login_ip = '203.0.113.77' WHERE person_id = %(pid)s",
        c | {"pid": pid},
    )
    conn.execute(
        "UPDATE shop.orders SET delivery_contact = %(delivery_contact)s WHERE person_id = %(pid)s",
        c | {"pid": pid},
    )
    conn.execute(
        "UPDATE shop.payments SET card_holder = %(card_holder)s WHERE person_id = %(pid)s",
        c | {"pid": pid},
    )
    conn.execute(
        "INSERT INTO shop.support_tickets (tenant_code, person_id, subject, body,"
        " requester_email) VALUES ('acme', %(pid)s, 'Help', %(body)s, %(requester_email)s)",
        c | {"pid": pid},
    )


def rows_of(conn: psycopg.Connection, pid: int) -> dict[str, list[str]]:
    """The keys (as the audit log writes them) of the rows that belong to ``pid``."""
    q = {
        "shop.people": "SELECT id::text FROM shop.people WHERE id = %s",
        "shop.addresses": "SELECT home_address_id::text FROM shop.people WHERE id = %s",
        "shop.accounts": "SELECT id::text FROM shop.accounts WHERE person_id = %s",
        "shop.orders": "SELECT jsonb_build_array(tenant_id, id)::text FROM shop.orders"
        " WHERE person_id = %s",
        "shop.payments": "SELECT jsonb_build_array(id, paid_on)::text FROM shop.payments"
        " WHERE person_id = %s",
        "shop.support_tickets": "SELECT id::text FROM shop.support_tickets WHERE person_id = %s",
    }
    return {t: [r[0] for r in conn.execute(sql, [pid])] for t, sql in q.items()}


def others(conn: psycopg.Connection, pid: int, mine: dict[str, list[str]], upto: dict) -> dict:
    """Checksums of everything that is not person ``pid``'s: other people's rows, the
    tables erasure does not touch, and the audit entries and events about other rows that
    existed before the erasure."""
    out = {
        "people": checksum(conn, "SELECT p.* FROM shop.people p WHERE id <> %s", [pid]),
        "addresses": checksum(
            conn,
            "SELECT a.* FROM shop.addresses a WHERE id <> ALL(%s::bigint[])",
            [mine["shop.addresses"]],
        ),
    }
    for table in ("accounts", "orders", "payments"):
        out[table] = checksum(conn, f"SELECT t.* FROM shop.{table} t WHERE person_id <> %s", [pid])
    out["tickets"] = checksum(
        conn, "SELECT t.* FROM shop.support_tickets t WHERE person_id IS DISTINCT FROM %s", [pid]
    )
    for table in ("staff", "tenants", "products", "newsletter_signups"):
        out[table] = checksum(conn, f"SELECT t.* FROM shop.{table} t")
    pairs = [[t, k] for t, keys in mine.items() for k in keys]
    out["audit"] = checksum(
        conn,
        "SELECT a.* FROM audit.audit_log a WHERE a.id <= %s AND NOT EXISTS ("
        " SELECT 1 FROM jsonb_array_elements(%s::jsonb) m"
        " WHERE m->>0 = a.table_name AND m->>1 = a.row_pk)",
        [upto["audit"], json.dumps(pairs)],
    )
    out["events"] = checksum(
        conn,
        "SELECT e.id, e.payload FROM webhook_events e WHERE e.id <= %s"
        " AND NOT (e.payload->>'table' = 'people' AND (e.payload->'row'->>'id')::int = %s)",
        [upto["events"], pid],
    )
    return out


def edit_map(change) -> dm.DataMap:  # type: ignore[no-untyped-def]
    m = change(dm.load(MAP))
    MAP.write_text(dm.dumps(m))
    return m


def without(m: dm.DataMap, table: str, column: str) -> dm.DataMap:
    return replace(m, columns=tuple(c for c in m.columns if (c.table, c.column) != (table, column)))


def with_default(m: dm.DataMap, table: str) -> dm.DataMap:
    return replace(m, subjects=tuple(replace(s, default=s.table == table) for s in m.subjects))


@pytest.fixture
def flow(en_dsn, cli, cluster, monkeypatch):
    monkeypatch.setenv("AURORACTL_ENCRYPTION_KEY", KEY)
    with psycopg.connect(en_dsn, autocommit=True) as conn:
        yield conn, superuser(cluster, conn.info.dbname)


def ok(result) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.stdout + result.stderr


def test_the_whole_flow_on_the_english_schema(flow, cli, tmp_path):
    conn, su = flow
    # 1. propose; the review makes people the subject `forget ID` means. The first draft
    #    leaves out people.notes: the audit trail started before the review holds it.
    ok(cli("map", "propose"))
    edit_map(lambda m: without(with_default(m, "shop.people"), "shop.people", "notes"))
    ok(cli("audit", "enable", *(a for t in SHOP for a in ("--table", f"shop.{t}")), "--yes"))
    ok(cli("webhooks", "install", "--yes"))
    ok(cli("webhooks", "subscribe", "person_changed", "shop.people", "--on", "update",
           "--url", "https://hooks.example.com/p", "--include-personal", "--yes"))  # fmt: skip
    pid, qid = conn.execute("SELECT min(id), max(id) FROM shop.people").fetchone()
    plant(conn, pid, "P")
    plant(conn, qid, "Q")
    # 2. encrypt a personal column: the map's check sees the new ciphertext column
    ok(cli("encrypt", "backfill", "--table", "shop.people", "--column", "ssn", "--yes"))
    drift = cli("map", "check", "--format", "json")
    assert drift.exit_code == 1
    kinds = {(f["kind"], f["column"]) for f in json.loads(drift.stdout)["findings"]}
    assert ("unmapped_column", "ssn_encrypted") in kinds and ("unmapped_column", "notes") in kinds
    refused = cli("lgpd", "forget", str(pid), "--yes")
    assert refused.exit_code == 3 and "stale" in refused.stderr
    # 3. the review adds both; the map is current
    ok(cli("map", "propose", "--force"))
    m = edit_map(lambda m: with_default(m, "shop.people"))
    twin = m.column("shop.people", "ssn_encrypted")
    assert twin is not None and (twin.cls, twin.of) == ("ciphertext", "ssn")
    ok(cli("map", "check"))
    tokens = list(canaries("P").values())
    planted = {s.split(":")[0] for s in survivors(su, tokens, KEY)}
    for where in (
        "shop.people.notes",
        "shop.people.ssn_encrypted",
        "shop.addresses.",
        "shop.payments_2026_",
        "audit.audit_log_",
        "public.webhook_events.payload",
    ):
        assert any(p.startswith(where) for p in planted), (where, planted)  # fmt: skip

    # 4. export the other person: everything of theirs, the ciphertext opened
    out = tmp_path / "q.json"
    ok(cli("lgpd", "export", str(qid), "--output", str(out)))
    doc = json.loads(out.read_text())["data"]
    q = canaries("Q")
    assert doc["shop.people"][0]["ssn_encrypted"] == {"encrypted": True, "decrypted": q["ssn"]}
    assert doc["shop.addresses"][0]["address_line1"] == q["address_line1"]  # it references
    assert doc["shop.orders"][0]["delivery_contact"] == q["delivery_contact"]  # 2-column key
    assert doc["shop.payments"][0]["card_holder"] == q["card_holder"]  # FKs on partitions

    # 5. forget the person
    mine = rows_of(conn, pid)
    upto = {
        "audit": conn.execute("SELECT max(id) FROM audit.audit_log").fetchone()[0],
        "events": conn.execute("SELECT max(id) FROM webhook_events").fetchone()[0],
    }
    before = others(conn, pid, mine, upto)
    dry = cli("lgpd", "forget", str(pid), "--dry-run", "--format", "json")
    ok(dry)
    assert survivors(su, tokens, KEY)  # a dry run changes nothing
    done = cli("lgpd", "forget", str(pid), "--yes", "--format", "json")
    ok(done)
    receipt = json.loads(done.stdout)["result"]["receipts"][0]
    assert set(receipt["tables"]) >= {
        "shop.people", "shop.addresses", "shop.accounts", "shop.orders", "shop.payments",
        "shop.support_tickets", "audit.audit_log", "public.webhook_events",
    }  # fmt: skip
    assert "ssn_encrypted" in receipt["tables"]["shop.people"]["columns"]
    assert survivors(su, tokens, KEY) == []
    home = conn.execute(
        "SELECT a.postal_code, a.contact_phone FROM shop.addresses a"
        " JOIN shop.people p ON p.home_address_id = a.id WHERE p.id = %s",
        [pid],
    ).fetchone()
    assert home == (None, None)  # non-text canaries: checked on the row
    person = conn.execute(
        "SELECT first_name, email, date_of_birth, ssn_encrypted FROM shop.people WHERE id = %s",
        [pid],
    ).fetchone()
    assert person == (f"erased-{pid}", f"erased-{pid}@erased.invalid", None, None)
    assert conn.execute(
        "SELECT last_login_ip FROM shop.accounts WHERE person_id = %s", [pid]
    ).fetchone() == (None,)
    assert others(conn, pid, mine, upto) == before
    stored = conn.execute(
        "SELECT to_jsonb(r)::text FROM auroractl.lgpd_requests r WHERE request_id = %s::uuid",
        [receipt["request_id"]],
    ).fetchone()[0]
    assert not any(t in stored for t in tokens)
    again = cli("lgpd", "forget", str(pid), "--yes")
    ok(again)
    assert "already forgotten" in again.stderr
    assert cli("lgpd", "forget", "not-a-number", "--yes").exit_code == 2

    # 6. graphql check and rls on the map's tenant key (uuid)
    ok(cli("rls", "enable", "--all", "--yes"))
    gql = cli("graphql", "check", "--schema", "shop", "--format", "json")
    assert gql.exit_code in (0, 1), gql.stderr
    (people,) = [
        f["columns"]
        for f in json.loads(gql.stdout)["findings"]
        if f["relation"] == "shop.people" and f["kind"] == "personal_exposed"
    ]
    assert {"first_name", "ssn", "ssn_encrypted"} <= set(people)
    ok(cli("rls", "verify", "--sample", "2"))
    assert cli("rls", "verify", "--tenants", "00000000-0000-0000-0000-0000000000ff").exit_code != 0


def test_an_address_another_person_shares_is_not_erased(flow, cli):
    conn, _ = flow
    ok(cli("map", "propose"))
    edit_map(lambda m: with_default(m, "shop.people"))
    pid, other = conn.execute(  # two people of one tenant
        "SELECT min(id), max(id) FROM shop.people GROUP BY tenant_id LIMIT 1"
    ).fetchone()
    conn.execute(
        "UPDATE shop.people SET home_address_id = (SELECT home_address_id FROM shop.people"
        " WHERE id = %s) WHERE id = %s",
        [pid, other],
    )
    address = "SELECT a.* FROM shop.addresses a JOIN shop.people p ON p.home_address_id = a.id"
    shared = checksum(conn, address + " WHERE p.id = %s", [pid])
    ok(cli("lgpd", "forget", str(pid), "--yes"))
    assert checksum(conn, address + " WHERE p.id = %s", [other]) == shared
    assert conn.execute("SELECT first_name FROM shop.people WHERE id = %s", [pid]).fetchone() == (
        f"erased-{pid}",
    )
