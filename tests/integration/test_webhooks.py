"""Webhooks: real INSERTs into alunos, a real local HTTP receiver, real dispatchers."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from auroractl.ops import webhooks

SECRET = "test-signing-secret"


class Receiver:
    """Verifies signatures; can fail or stall chosen attempts; counts deliveries."""

    def __init__(self) -> None:
        self.deliveries: Counter[str] = Counter()  # idempotency key -> 2xx responses
        self.attempts: Counter[str] = Counter()
        self.bad_signatures = 0
        self.fail_first = 0
        self.stall_first = 0
        self.stall_s = 0.0
        self.delay_s = 0.0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                key = self.headers["Idempotency-Key"]
                expected = (
                    "sha256="
                    + hmac.new(
                        SECRET.encode(),
                        self.headers["X-Auroractl-Timestamp"].encode() + b"." + body,
                        hashlib.sha256,
                    ).hexdigest()
                )
                with receiver.lock:
                    receiver.attempts[key] += 1
                    n = receiver.attempts[key]
                    if self.headers.get(webhooks.SIGNATURE_HEADER) != expected:
                        receiver.bad_signatures += 1
                if receiver.stall_first and n <= receiver.stall_first:
                    time.sleep(receiver.stall_s)
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                status = 500 if n <= receiver.fail_first else 200
                if status == 200:
                    with receiver.lock:
                        receiver.deliveries[key] += 1
                try:
                    self.send_response(status)
                    self.end_headers()
                except OSError:
                    pass

            def log_message(self, *args) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def subscribed(cli, dsn, conn, receiver, monkeypatch, demo_map):
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    assert cli("webhooks", "install", "--yes").exit_code == 0
    r = cli(
        "webhooks",
        "subscribe",
        "novo_aluno",
        "--table",
        "alunos",
        "--on",
        "insert",
        "--url",
        receiver.url,
        "--secret-env",
        "HOOK_SECRET",
        "--yes",
    )
    assert r.exit_code == 0, r.stderr
    return conn


def insert_alunos(conn, n: int) -> None:
    conn.execute(
        "INSERT INTO alunos (empresa_id, escola_id, nome, matricula, email, "
        "documento_identidade) SELECT 1, 1, 'Novo ' || i, 'W' || i, "
        "'novo' || i || '@x.br', '123.456.789-0' || (i %% 10) "
        "FROM generate_series(1, %s) i",
        [n],
    )


def test_install_and_subscribe_are_idempotent_and_payload_has_no_personal_data(
    cli, subscribed, receiver
):
    assert "nothing to do" in cli("webhooks", "install", "--yes").stderr
    same = cli("webhooks", "install", "--yes", "--format", "json")
    assert json.loads(same.stdout)["status"] == "nothing-to-do"
    again = cli(  # the table positional, as in every verb (or --table)
        "webhooks",
        "subscribe",
        "novo_aluno",
        "alunos",
        "--url",
        receiver.url,
        "--secret-env",
        "HOOK_SECRET",
        "--yes",
    )
    assert again.exit_code == 0
    assert subscribed.execute("SELECT count(*) FROM webhook_subscriptions").fetchone()[0] == 1
    insert_alunos(subscribed, 1)
    subscribed.execute("UPDATE alunos SET nome = 'x' WHERE id = 1")  # not subscribed: no event
    [(payload, secret_col)] = subscribed.execute(
        "SELECT e.payload, s.secret_env FROM webhook_events e "
        "JOIN webhook_subscriptions s ON s.id = e.subscription_id"
    ).fetchall()
    assert payload["event"] == "novo_aluno" and payload["operation"] == "insert"
    assert payload["row"]["matricula"] == "W1"
    # the data map's personal columns of alunos are left out
    for column in ("nome", "email", "documento_identidade", "data_nascimento"):
        assert column not in payload["row"], column
    assert secret_col == "HOOK_SECRET"  # the name only: the secret is not in the database
    assert SECRET not in json.dumps(payload)


def test_a_statements_events_have_distinct_keys_and_an_old_function_is_replaced(cli, subscribed):
    """One statement's events share the envelope and get distinct idempotency keys (ordered
    within the statement, random between statements); `install` replaces a trigger function
    of an older version."""
    conn = subscribed
    insert_alunos(conn, 300)
    insert_alunos(conn, 2)
    keys = [
        r[0] for r in conn.execute("SELECT idempotency_key::text FROM webhook_events ORDER BY id")
    ]
    assert len(set(keys)) == 302 and keys[:300] == sorted(keys[:300])
    assert keys[0][:24] == keys[299][:24] != keys[300][:24]
    assert keys[0][14] == "4"  # still shaped as a version-4 UUID
    occurred = conn.execute("SELECT count(DISTINCT payload->>'occurred_at') FROM webhook_events")
    assert occurred.fetchone()[0] == 2
    conn.execute("COMMENT ON FUNCTION criar_webhook_event() IS NULL")  # an older install
    dry = cli("webhooks", "install", "--dry-run", "--format", "json")
    assert "replace criar_webhook_event()" in json.loads(dry.stdout)["summary"]
    assert cli("webhooks", "install", "--yes").exit_code == 0
    assert "nothing to do" in cli("webhooks", "install", "--yes").stderr


def test_rolled_back_insert_emits_nothing(subscribed):
    with pytest.raises(RuntimeError), subscribed.transaction():
        insert_alunos(subscribed, 1)
        raise RuntimeError("rollback")
    assert subscribed.execute("SELECT count(*) FROM webhook_events").fetchone()[0] == 0


def test_retries_with_backoff_then_delivers_signed(cli, subscribed, receiver):
    receiver.fail_first = 2
    insert_alunos(subscribed, 3)
    for _ in range(3):
        r = cli("webhooks", "dispatch", "--base-backoff", "0", "--format", "json")
        assert r.exit_code == 0, r.stderr
    assert receiver.bad_signatures == 0
    assert sorted(receiver.deliveries.values()) == [1, 1, 1]
    assert all(n == 3 for n in receiver.attempts.values())
    rows = subscribed.execute("SELECT status, attempts FROM webhook_events").fetchall()
    assert rows == [("delivered", 3)] * 3


def test_timeout_counts_as_a_failed_attempt(cli, subscribed, receiver):
    receiver.stall_first, receiver.stall_s = 1, 3.0
    insert_alunos(subscribed, 1)
    report = json.loads(
        cli(
            "webhooks", "dispatch", "--timeout", "0.5", "--base-backoff", "0", "--format", "json"
        ).stdout
    )
    # --once drains what is due: the timed-out attempt is retried at once (no backoff here).
    assert report["errors"] == {"timeout": 1} and report["delivered"] == 1
    assert subscribed.execute(
        "SELECT status, attempts, last_http_status FROM webhook_events"
    ).fetchone() == ("delivered", 2, 200)


def test_dead_letters_and_retry(cli, subscribed, receiver):
    receiver.fail_first = 100
    insert_alunos(subscribed, 2)
    for _ in range(2):
        cli("webhooks", "dispatch", "--max-attempts", "2", "--base-backoff", "0")
    assert (
        subscribed.execute(
            "SELECT count(*) FROM webhook_events WHERE status = 'failed'"
        ).fetchone()[0]
        == 2
    )
    status = json.loads(cli("webhooks", "status", "--format", "json").stdout)
    assert status["failures"] == [{"reason": "HTTP 500", "events": 2}]
    receiver.fail_first = 0
    failed = "SELECT count(*) FROM webhook_events WHERE status = 'failed'"
    ledger = (
        "SELECT command, kind, outcome, rows FROM auroractl.operations "
        "WHERE command LIKE 'webhooks retry%%'"
    )
    assert cli("webhooks", "retry", "--failed").exit_code == 4  # no TTY, no --yes
    dry = cli("webhooks", "retry", "--failed", "--dry-run", "--format", "json")
    assert dry.exit_code == 0, dry.stderr
    preview = json.loads(dry.stdout)  # one document: the plan
    assert preview["status"] == "dry-run" and "re-queue 2" in preview["summary"]
    assert subscribed.execute(failed).fetchone()[0] == 2
    assert subscribed.execute(ledger).fetchall() == []
    retried = cli("webhooks", "retry", "--failed", "--yes", "--format", "json")
    assert retried.exit_code == 0, retried.stderr
    assert json.loads(retried.stdout)["rows"] == 2
    assert subscribed.execute(failed).fetchone()[0] == 0
    assert subscribed.execute(ledger).fetchall() == [
        ("webhooks retry --failed", "job", "applied", 2)
    ]
    nothing = cli("webhooks", "retry", "--failed", "--yes", "--format", "json")
    assert json.loads(nothing.stdout)["status"] == "nothing-to-do"
    cli("webhooks", "dispatch", "--base-backoff", "0")
    assert (
        subscribed.execute(
            "SELECT count(*) FROM webhook_events WHERE status = 'delivered'"
        ).fetchone()[0]
        == 2
    )
    assert cli("webhooks", "retry", "--failed", "--id", "999999", "--yes").exit_code == 2


def _dispatcher(dsn: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "AURORACTL_DSN": dsn, "HOOK_SECRET": SECRET}
    return subprocess.Popen(
        [sys.executable, "-m", "auroractl", "-q", "webhooks", "dispatch", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_two_dispatchers_deliver_each_event_exactly_once(subscribed, receiver, dsn):
    insert_alunos(subscribed, 1000)
    procs = [_dispatcher(dsn, "--batch", "20", "--concurrency", "4") for _ in range(2)]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    assert len(receiver.deliveries) == 1000
    assert set(receiver.deliveries.values()) == {1}
    assert (
        subscribed.execute(
            "SELECT count(*) FROM webhook_events WHERE status = 'delivered'"
        ).fetchone()[0]
        == 1000
    )


def test_killed_dispatcher_events_are_delivered_after_the_lease(subscribed, receiver, dsn):
    insert_alunos(subscribed, 20)
    receiver.delay_s = 1.0
    victim = _dispatcher(dsn, "--batch", "20", "--concurrency", "2", "--lease", "2")
    deadline = time.monotonic() + 30
    while not receiver.attempts and time.monotonic() < deadline:
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    receiver.delay_s = 0.0
    claimed = subscribed.execute(
        "SELECT count(*) FROM webhook_events WHERE status = 'delivering'"
    ).fetchone()[0]
    assert claimed > 0  # the dead dispatcher's claims
    early = _dispatcher(dsn)  # before the lease expires: nothing is claimable
    assert early.wait(timeout=60) == 0
    assert (
        subscribed.execute(
            "SELECT count(*) FROM webhook_events WHERE status = 'delivering'"
        ).fetchone()[0]
        == claimed
    )
    time.sleep(2.5)
    late = _dispatcher(dsn)
    assert late.wait(timeout=60) == 0
    assert (
        subscribed.execute(
            "SELECT count(*) FROM webhook_events WHERE status <> 'delivered'"
        ).fetchone()[0]
        == 0
    )
    assert len(receiver.deliveries) == 20  # every event arrived (at least once)


def test_sigterm_finishes_the_in_flight_batch(subscribed, receiver, dsn):
    insert_alunos(subscribed, 6)
    receiver.delay_s = 0.5
    proc = _dispatcher(dsn, "--loop", "--batch", "3", "--concurrency", "3")
    deadline = time.monotonic() + 30
    while not receiver.attempts and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    states = dict(
        subscribed.execute("SELECT status, count(*) FROM webhook_events GROUP BY 1").fetchall()
    )
    assert "delivering" not in states  # the batch in flight was settled before exiting
    assert states.get("delivered", 0) >= 3


def test_graphql_check_flags_missing_rls_and_personal_columns(cli, dsn, dbname, conn, demo_map):
    role = f"gql_{dbname}"  # roles are cluster-wide: one per test database
    conn.execute(f'CREATE ROLE "{role}" NOLOGIN')
    conn.execute(f'GRANT SELECT ON usuarios, empresas TO "{role}"')

    def findings() -> tuple[dict, dict]:
        r = cli("graphql", "check", "--role", role, "--format", "json")
        assert r.exit_code == 1
        data = json.loads(r.stdout)
        found = {(f["relation"], f["kind"]): f for f in data["findings"]}
        return found, {t["label"]: t for t in data["relations"]}

    try:
        found, relations = findings()
        assert found["public.usuarios", "rls_off"]["blocking"]
        assert "documento_identidade" in found["public.usuarios", "personal_exposed"]["columns"]
        assert relations["public.usuarios"]["privileges"] == ["SELECT"]
        assert found["public.empresas", "root_readable"]["blocking"]
        assert not relations["public.alunos"]["served"]  # no grant: not served
        conn.execute("CREATE TABLE sem_pk (x int)")
        conn.execute("CREATE TABLE filho (id int PRIMARY KEY, pai int REFERENCES empresas)")
        conn.execute(f'GRANT SELECT ON sem_pk, filho TO "{role}"')
        found, _ = findings()
        assert not found["public.sem_pk", "no_identity"]["blocking"]
        assert "filho_pai_fkey" in found["public.filho", "relation_removed"]["message"]
    finally:
        conn.execute(f'REVOKE ALL ON usuarios, empresas, sem_pk, filho FROM "{role}"')
        conn.execute(f'DROP ROLE "{role}"')


def test_requirements_row_trigger_form_also_works(subscribed):
    """The document's own trigger: FOR EACH ROW EXECUTE FUNCTION criar_webhook_event(...)."""
    subscribed.execute("DROP TRIGGER webhook_novo_aluno_insert ON alunos")
    subscribed.execute(
        "CREATE TRIGGER webhook_novo_aluno AFTER INSERT ON alunos FOR EACH ROW "
        "EXECUTE FUNCTION criar_webhook_event('novo_aluno')"
    )
    insert_alunos(subscribed, 3)
    payloads = [r[0] for r in subscribed.execute("SELECT payload FROM webhook_events")]
    assert len(payloads) == 3 and all(p["operation"] == "insert" for p in payloads)
    assert all("email" not in p["row"] for p in payloads)


def test_update_and_delete_events_carry_the_new_and_old_rows(cli, subscribed, receiver):
    r = cli(
        "webhooks",
        "subscribe",
        "aluno_mudou",
        "--table",
        "alunos",
        "--on",
        "update",
        "--on",
        "delete",
        "--url",
        receiver.url,
        "--yes",
    )
    assert r.exit_code == 0, r.stderr
    subscribed.execute("UPDATE alunos SET matricula = 'Renomeado' WHERE id IN (1, 2)")
    subscribed.execute(
        "DELETE FROM alunos WHERE id = 3 AND NOT EXISTS "
        "(SELECT 1 FROM contratos WHERE aluno_id = 3)"
    )
    rows = subscribed.execute(
        "SELECT payload->>'operation', payload->'row'->>'matricula' "
        "FROM webhook_events WHERE event_type = 'aluno_mudou' "
        "ORDER BY id"
    ).fetchall()
    assert rows[:2] == [("update", "Renomeado")] * 2
    assert all(op in ("update", "delete") for op, _ in rows)


def _insert_tagged(conn, tag: str, n: int) -> None:
    conn.execute(
        "INSERT INTO alunos (empresa_id, escola_id, nome, matricula, email) "
        "SELECT 1, 1, 'Novo', %s || i, %s || i || '@x.br' FROM generate_series(1, %s) i",
        [tag, tag, n],
    )


def _events(conn) -> int:
    return conn.execute(
        "SELECT count(*) FROM webhook_events WHERE event_type = 'novo_aluno'"
    ).fetchone()[0]


def test_a_subscription_follows_its_table_through_a_partition_migration(cli, subscribed):
    """Subscriptions name their table: after partition migrate swaps a partitioned table in
    under the same name (and after cleanup drops the original), inserts still emit events."""
    steps = (
        ("prep", "alunos", "--by", "tenant", "--column", "empresa_id", "--hash-partitions", "2"),
        ("fill", "alunos"),
        ("swap", "alunos"),
    )
    for step in steps:
        r = cli("partition", "migrate", *step, "--yes")
        assert r.exit_code == 0, r.stderr
    assert subscribed.execute(
        "SELECT relkind FROM pg_class WHERE oid = 'alunos'::regclass"
    ).fetchone() == ("p",)
    _insert_tagged(subscribed, "S", 2)
    assert _events(subscribed) == 2
    [payload] = subscribed.execute(
        "SELECT payload FROM webhook_events ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert payload["table"] == "alunos" and "email" not in payload["row"]
    status = json.loads(cli("webhooks", "status", "--format", "json").stdout)
    assert [s["problem"] for s in status["subscriptions"]] == [None]
    assert cli("partition", "migrate", "verify", "alunos").exit_code == 0
    r = cli("partition", "migrate", "cleanup", "alunos", "--yes")
    assert r.exit_code == 0, r.stderr
    _insert_tagged(subscribed, "C", 3)
    assert _events(subscribed) == 5
    # a subscription whose table is gone is noticed
    subscribed.execute("ALTER TABLE alunos RENAME TO alunos_antigos")
    r = cli("webhooks", "status", "--format", "json")
    assert r.exit_code == 0
    [sub] = json.loads(r.stdout)["subscriptions"]
    assert "does not exist" in sub["problem"] and "alunos" in r.stderr


def test_install_upgrades_subscriptions_bound_to_table_oids(cli, conn, receiver):
    """An install from before subscriptions named their table (regclass) is upgraded in
    place: each subscription keeps its table, by name now."""
    conn.execute(
        "CREATE TABLE webhook_subscriptions (id integer GENERATED BY DEFAULT AS IDENTITY "
        "PRIMARY KEY, event_type text NOT NULL, table_name regclass NOT NULL, operations "
        "text[] NOT NULL, endpoint_url text NOT NULL, secret_env text, exclude_columns text[] "
        "NOT NULL DEFAULT '{}', active boolean NOT NULL DEFAULT true, created_at timestamptz "
        "NOT NULL DEFAULT now(), UNIQUE (event_type, table_name, endpoint_url))"
    )
    conn.execute(
        "INSERT INTO webhook_subscriptions (event_type, table_name, operations, endpoint_url) "
        "VALUES ('novo_aluno', 'alunos', '{insert}', %s)",
        [receiver.url],
    )
    r = cli("webhooks", "status")
    assert r.exit_code == 3 and "webhooks install" in r.stderr
    r = cli("webhooks", "install", "--dry-run", "--format", "json")
    assert "upgrade" in json.loads(r.stdout)["summary"]
    assert cli("webhooks", "install", "--yes").exit_code == 0
    assert conn.execute(
        "SELECT table_schema, table_name FROM webhook_subscriptions"
    ).fetchall() == [("public", "alunos")]
    conn.execute(
        "CREATE TRIGGER webhook_novo_aluno_insert AFTER INSERT ON alunos "
        "REFERENCING NEW TABLE AS auroractl_new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION criar_webhook_event('novo_aluno')"
    )
    _insert_tagged(conn, "U", 1)
    assert _events(conn) == 1
    assert "nothing to do" in cli("webhooks", "install", "--yes").stderr


@pytest.mark.parametrize(
    "url",
    [
        "http://",
        "http:///path",
        "https://hooks.example.com/a b",
        "https://hooks.example.com/a\nX-Injected: 1",
        "ftp://hooks.example.com/",
        "https://hooks.example.com:notaport/",
        "https://hooks.example.com:0/",
    ],
)
def test_subscribe_refuses_a_url_that_is_not_complete(cli, url):
    """Checked before connecting: no database is needed to refuse it."""
    result = cli("webhooks", "subscribe", "e", "--table", "alunos", "--url", url, "--yes")
    assert result.exit_code == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "--url" in result.stderr


@pytest.mark.parametrize(
    "args", [("--lease", "-1"), ("--timeout", "0"), ("--batch", "0"), ("--concurrency", "100000")]
)
def test_dispatch_refuses_values_out_of_bounds(cli, args):
    result = cli("webhooks", "dispatch", *args)
    assert result.exit_code == 2, result.stderr
    assert args[0] in result.stderr and "must be from" in result.stderr
