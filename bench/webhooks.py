"""Webhook delivery throughput by --concurrency, and the insert overhead of the trigger.

A local HTTP receiver (this process) acknowledges every POST after --latency-ms; the
dispatcher is the real CLI. Then INSERTs of N alunos rows without the outbox trigger
(disabled), with it, and with the previous version of its function (a random idempotency
key and the whole envelope built for each row) as the named baseline, interleaved over
--rounds (best of each), in one run.

Usage: python bench/webhooks.py [--events 10000] [--latency-ms 5] [--rows 100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from _harness import throwaway_cluster
from auroractl.ops import sandbox as sandbox_ops

INSERT = (
    "INSERT INTO alunos (empresa_id, escola_id, nome, matricula) "
    "SELECT 1, 1, 'Bench ' || i, 'B' || i FROM generate_series(%s::int, %s::int) i"
)


# The trigger function as it was before events shared their envelope and ordered keys.
PREVIOUS = """
CREATE OR REPLACE FUNCTION criar_webhook_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
DECLARE
    tab_schema text;
    tab_name   text;
BEGIN
    SELECT n.nspname, c.relname INTO tab_schema, tab_name
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = coalesce(pg_catalog.pg_partition_root(TG_RELID), TG_RELID);
    IF TG_LEVEL = 'ROW' THEN
        INSERT INTO webhook_events (event_type, subscription_id, payload, endpoint_url)
        SELECT TG_ARGV[0], s.id,
               jsonb_build_object('event', TG_ARGV[0], 'table', tab_name,
                                  'schema', tab_schema, 'operation', lower(TG_OP),
                                  'occurred_at', now(),
                                  'row', to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END)
                                         - s.exclude_columns),
               s.endpoint_url
        FROM webhook_subscriptions s
        WHERE s.active AND s.event_type = TG_ARGV[0]
          AND s.table_schema = tab_schema AND s.table_name = tab_name
          AND lower(TG_OP) = ANY (s.operations);
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        INSERT INTO webhook_events (event_type, subscription_id, payload, endpoint_url)
        SELECT TG_ARGV[0], s.id,
               jsonb_build_object('event', TG_ARGV[0], 'table', tab_name,
                                  'schema', tab_schema, 'operation', 'delete',
                                  'occurred_at', now(), 'row', to_jsonb(o) - s.exclude_columns),
               s.endpoint_url
        FROM webhook_subscriptions s CROSS JOIN auroractl_old_rows o
        WHERE s.active AND s.event_type = TG_ARGV[0]
          AND s.table_schema = tab_schema AND s.table_name = tab_name
          AND 'delete' = ANY (s.operations);
    ELSE
        INSERT INTO webhook_events (event_type, subscription_id, payload, endpoint_url)
        SELECT TG_ARGV[0], s.id,
               jsonb_build_object('event', TG_ARGV[0], 'table', tab_name,
                                  'schema', tab_schema, 'operation', lower(TG_OP),
                                  'occurred_at', now(), 'row', to_jsonb(n) - s.exclude_columns),
               s.endpoint_url
        FROM webhook_subscriptions s CROSS JOIN auroractl_new_rows n
        WHERE s.active AND s.event_type = TG_ARGV[0]
          AND s.table_schema = tab_schema AND s.table_name = tab_name
          AND lower(TG_OP) = ANY (s.operations);
    END IF;
    RETURN NULL;
END
$fn$;
"""


def receiver(latency_s: float) -> tuple[ThreadingHTTPServer, list[int]]:
    count = [0]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(latency_s)
            with lock:
                count[0] += 1
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256  # read at listen(): a class attribute, not set afterwards

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, count


SINGLES = 2000
TRIGGER = "webhook_novo_aluno_insert"


def overhead(
    conn: psycopg.Connection, args: argparse.Namespace, base: int, current: str
) -> dict[str, list[float]]:
    """The same INSERTs (one statement of --rows rows, then single-row statements) without
    the trigger, with it and with the previous function, interleaved; best of --rounds."""
    best: dict[str, list[float]] = {}
    variants = {"no trigger": None, "trigger": current, "previous function": PREVIOUS}
    for _ in range(args.rounds):
        for name, function in variants.items():
            state = "DISABLE" if function is None else "ENABLE"
            conn.execute(f"ALTER TABLE alunos {state} TRIGGER {TRIGGER}")
            if function is not None:
                conn.execute(function)
            t0 = time.monotonic()
            conn.execute(INSERT, [base, base + args.rows - 1])
            bulk = time.monotonic() - t0
            t0 = time.monotonic()
            for i in range(base + args.rows, base + args.rows + SINGLES):
                conn.execute(INSERT, [i, i])
            single = time.monotonic() - t0
            old = best.get(name, [bulk, single])
            best[name] = [min(old[0], bulk), min(old[1], single)]
            conn.execute("DELETE FROM alunos WHERE id >= %s", [base])
            conn.execute("DELETE FROM webhook_events")
            conn.execute("VACUUM alunos, webhook_events")
    conn.execute(f"ALTER TABLE alunos ENABLE TRIGGER {TRIGGER}")
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=10_000)
    ap.add_argument("--latency-ms", type=float, default=5.0)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    server, count = receiver(args.latency_ms / 1000)
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    cli = [str(Path(sys.executable).parent / "auroractl"), "-q"]
    rates = {}
    with throwaway_cluster() as c, tempfile.TemporaryDirectory() as workdir:
        sandbox_ops.bootstrap(c, "bench")
        dsn = c.conninfo("bench")
        env = {**os.environ, "AURORACTL_DSN": dsn}
        with psycopg.connect(dsn, autocommit=True) as conn:
            sandbox_ops.load_demo(conn, 0.05)
            base = conn.execute("SELECT max(id) FROM alunos").fetchone()[0] + 1
            subprocess.run([*cli, "webhooks", "install", "--yes"], env=env, check=True)
            # subscribe leaves out the personal columns the data map names
            subprocess.run([*cli, "map", "propose"], env=env, check=True, cwd=workdir)
            subprocess.run(
                [
                    *cli,
                    "webhooks",
                    "subscribe",
                    "novo_aluno",
                    "--table",
                    "alunos",
                    "--url",
                    url,
                    "--yes",
                ],
                env=env,
                check=True,
                cwd=workdir,
            )
            current = conn.execute(
                "SELECT pg_get_functiondef('criar_webhook_event()'::regprocedure)"
            ).fetchone()[0]
            inserts = overhead(conn, args, base, current)
            conn.execute(current)
            for concurrency in (1, 8, 32):
                conn.execute("DELETE FROM webhook_events")
                first = base + 2 * args.rows + concurrency * args.events
                conn.execute(INSERT, [first, first + args.events - 1])
                count[0] = 0
                t0 = time.monotonic()
                subprocess.run(
                    [
                        *cli,
                        "webhooks",
                        "dispatch",
                        "--batch",
                        "200",
                        "--concurrency",
                        str(concurrency),
                    ],
                    env=env,
                    check=True,
                )
                elapsed = time.monotonic() - t0
                delivered = conn.execute(
                    "SELECT count(*) FROM webhook_events WHERE status = 'delivered'"
                ).fetchone()[0]
                assert delivered == args.events == count[0], (delivered, count[0])
                rates[concurrency] = args.events / elapsed
    server.shutdown()
    print(f"\ndelivery of {args.events:,} events, receiver latency {args.latency_ms} ms:")
    print(f"{'concurrency':>12} {'events/s':>10} {'vs 1':>6}")
    for conc, rate in rates.items():
        print(f"{conc:12d} {rate:10,.0f} {rate / rates[1]:5.1f}x")
    plain = inserts["no trigger"]
    print(f"\nINSERT of alunos rows, best of {args.rounds}; ratio = vs no trigger")
    print(f"{'':28}" + "".join(f"{k:>22}" for k in inserts))
    for i, label in enumerate((f"{args.rows:,} rows, one statement", f"{SINGLES:,} single-row")):
        cells = "".join(f"{v[i]:13.2f}s {v[i] / plain[i]:6.2f}x" for v in inserts.values())
        print(f"{label:28}{cells}")


if __name__ == "__main__":
    main()
