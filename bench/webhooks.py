"""Webhook delivery throughput by --concurrency, and the insert overhead of the trigger.

A local HTTP receiver (this process) acknowledges every POST after --latency-ms; the
dispatcher is the real CLI. Then INSERTs of N alunos rows with and without the outbox
trigger, in one run.

Usage: python bench/webhooks.py [--events 10000] [--latency-ms 5] [--rows 100000]
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=10_000)
    ap.add_argument("--latency-ms", type=float, default=5.0)
    ap.add_argument("--rows", type=int, default=100_000)
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
            # Insert overhead: the same rows without and with the trigger, as one statement
            # and as single-row statements (what an application does).
            singles = min(args.rows, 2000)

            def one_by_one(start: int) -> float:
                t = time.monotonic()
                for i in range(start, start + singles):
                    conn.execute(INSERT, [i, i])
                return time.monotonic() - t

            t0 = time.monotonic()
            conn.execute(INSERT, [base, base + args.rows - 1])
            plain = time.monotonic() - t0
            plain_single = one_by_one(base + args.rows)
            conn.execute("DELETE FROM alunos WHERE id >= %s", [base])
            conn.execute("VACUUM alunos")
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
            t0 = time.monotonic()
            conn.execute(INSERT, [base, base + args.rows - 1])
            with_trigger = time.monotonic() - t0
            trigger_single = one_by_one(base + args.rows)
            conn.execute("DELETE FROM webhook_events")
            for concurrency in (1, 8, 32):
                conn.execute("DELETE FROM webhook_events")
                first = base + args.rows + singles + concurrency * args.events
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
    print(
        f"\nINSERT of {args.rows:,} alunos rows in one statement: {plain:.2f}s without "
        f"the trigger, {with_trigger:.2f}s with it ({with_trigger / plain:.2f}x)"
    )
    print(
        f"{singles:,} single-row INSERTs: {plain_single:.2f}s without, {trigger_single:.2f}s "
        f"with ({trigger_single / plain_single:.2f}x)"
    )


if __name__ == "__main__":
    main()
