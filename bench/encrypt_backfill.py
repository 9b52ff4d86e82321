"""Encrypting usuarios.documento_identidade: seed one-shot UPDATE vs auroractl encrypt backfill.

Four identical tables of ROWS usuarios-like rows (integer PK, plaintext documento):
  (a) the seed: one UPDATE ... SET enc = pgp_sym_encrypt(doc, key) with pgcrypto's
      default options (s2k-mode=3: iterated, salted S2K; aes128)
  (b) the same one-shot UPDATE with the backfill's options
      ('cipher-algo=aes256, s2k-mode=1'): the physical limit for those options
  (c) `auroractl encrypt backfill` (the real CLI) with defaults
  (d) the same with --jobs 2
Each runs while a single-row UPDATE workload (another column of random rows, on its own
connection) runs on the same table; its p50/p99/worst latency during the run is reported.
The key is always a bind parameter.

Usage: python bench/encrypt_backfill.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import secrets
import subprocess
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from _harness import Inserter, throwaway_cluster
from auroractl.ops.sandbox import superuser_connect

DDL = """
CREATE SCHEMA {s};
CREATE TABLE {s}.usuarios (
    id integer PRIMARY KEY, empresa_id integer NOT NULL, nome text NOT NULL,
    documento_identidade text, ultimo_acesso timestamptz,
    documento_identidade_encrypted bytea
);
INSERT INTO {s}.usuarios (id, empresa_id, nome, documento_identidade)
SELECT i, 1 + i % 50, 'Usuario ' || i,
       lpad((i::bigint * 7919 % 1000000000)::text, 9, '0') || '-' || lpad((i % 100)::text, 2, '0')
  FROM generate_series(1, {rows}) i;
"""
UPDATE_ONE = "UPDATE {s}.usuarios SET ultimo_acesso = now() WHERE id = %s"


def run(dsn: str, schema: str, rows: int, action) -> dict:  # type: ignore[no-untyped-def]
    rnd = random.Random(1)
    workload = Inserter(dsn, UPDATE_ONE.format(s=schema), lambda i: (rnd.randint(1, rows),))
    workload.start()
    time.sleep(0.5)
    t0 = time.monotonic()
    failure = None
    try:
        action()
    except (psycopg.Error, subprocess.CalledProcessError) as exc:
        failure = " ".join(str(getattr(exc, "stderr", None) or exc).split())[:160]
    t1 = time.monotonic()
    time.sleep(0.3)
    workload.stop()
    return {
        "seconds": t1 - t0,
        "failure": failure,
        "p50": workload.percentile(t0, t1, 0.50),
        "p99": workload.p99(t0, t1),
        "worst": workload.worst(t0, t1),
        "updates": len(workload.window(t0, t1)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    with throwaway_cluster() as c, superuser_connect(c, "bench") as su:
        for s in ("a", "b", "c", "d"):
            su.execute(DDL.format(s=s, rows=args.rows))
            su.execute(f"VACUUM ANALYZE {s}.usuarios")
        print(f"4 tables of {args.rows:,} rows loaded", file=sys.stderr)
        dsn = c.conninfo("bench", user="postgres")
        env = {**os.environ, "AURORACTL_DSN": dsn, "AURORACTL_ENCRYPTION_KEY": key}
        exe = str(Path(sys.executable).parent / "auroractl")

        def one_shot(schema: str, options: str | None):  # type: ignore[no-untyped-def]
            def go() -> None:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    if options is None:
                        conn.execute(
                            f"UPDATE {schema}.usuarios SET documento_identidade_encrypted = "
                            "pgp_sym_encrypt(documento_identidade, %s)",
                            [key],
                        )
                    else:
                        conn.execute(
                            f"UPDATE {schema}.usuarios SET documento_identidade_encrypted = "
                            "pgp_sym_encrypt(documento_identidade, %s, %s)",
                            [key, options],
                        )

            return go

        def backfill(schema: str, *extra: str):  # type: ignore[no-untyped-def]
            cmd = [
                exe,
                "--quiet",
                "encrypt",
                "backfill",
                "--table",
                f"{schema}.usuarios",
                "--column",
                "documento_identidade",
                "--yes",
                *extra,
            ]
            return lambda: subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)

        results = {
            "(a) seed one-shot UPDATE, default options": run(
                dsn, "a", args.rows, one_shot("a", None)
            ),
            "(b) one-shot UPDATE, s2k-mode=1 aes256": run(
                dsn, "b", args.rows, one_shot("b", "cipher-algo=aes256, s2k-mode=1")
            ),
            "(c) auroractl encrypt backfill": run(dsn, "c", args.rows, backfill("c")),
            "(d) auroractl encrypt backfill --jobs 2": run(
                dsn, "d", args.rows, backfill("d", "--jobs", "2")
            ),
        }
        for s in ("a", "b", "c", "d"):
            n = su.execute(
                f"SELECT count(*) FROM {s}.usuarios WHERE pgp_sym_decrypt("
                "documento_identidade_encrypted, %s) = documento_identidade",
                [key],
            ).fetchone()[0]
            assert n == args.rows, f"{s}: only {n:,} rows encrypted correctly"
    report(results, args.rows)


def report(results: dict, rows: int) -> None:
    seed = rows / results["(a) seed one-shot UPDATE, default options"]["seconds"]
    limit = rows / results["(b) one-shot UPDATE, s2k-mode=1 aes256"]["seconds"]
    print(
        f"\n{'method':42} {'seconds':>8} {'rows/s':>9} {'vs (a)':>7} {'vs (b)':>7} "
        f"{'p50':>8} {'p99':>8} {'worst':>8} {'updates':>8}"
    )
    for name, r in results.items():
        if r["failure"]:
            print(f"{name:42} FAILED after {r['seconds']:.2f}s: {r['failure'][:90]}")
            continue
        rate = rows / r["seconds"]
        print(
            f"{name:42} {r['seconds']:8.2f} {rate:9,.0f} {rate / seed:6.1f}x {rate / limit:6.0%} "
            f"{r['p50'] * 1000:6.1f}ms {r['p99'] * 1000:6.1f}ms {r['worst'] * 1000:6.0f}ms "
            f"{r['updates']:8,}"
        )
    print(
        f"\n{rows:,} rows. p50/p99/worst: single-row UPDATEs of random rows of the same table "
        "during the run. Targets: backfill >= 10x (a), >= 70% of (b), p99 < 100 ms. "
        "rows/s of (c)/(d) include the CLI's start-up."
    )


if __name__ == "__main__":
    main()
