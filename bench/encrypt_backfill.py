"""Encrypting usuarios.documento_identidade: seed one-shot UPDATE vs auroractl encrypt backfill.

Identical tables of ROWS usuarios-like rows (integer PK, plaintext documento), a fresh one
per method and repetition; the methods run --reps times, interleaved, and medians are shown:
  (a) the seed: one UPDATE ... SET enc = pgp_sym_encrypt(doc, key) with pgcrypto's
      default options (s2k-mode=3: iterated, salted S2K; aes128), on --seed-rows rows
      (its cost is per row, and a million rows would take most of an hour)
  (b) the same one-shot UPDATE with the backfill's options
      ('cipher-algo=aes256, s2k-mode=1'): the physical limit for those options
  (c) `auroractl encrypt backfill` (the real CLI) with defaults
  (d) the same with --jobs 2 (--jobs2)
  (c0) (c) with auroractl imported from --baseline-src (an older checkout: before/after)
Each runs while a single-row UPDATE workload (another column of random rows, on its own
connection) runs on the same table; its p50/p99/worst latency during the run is reported.
The key is always a bind parameter.

Usage: python bench/encrypt_backfill.py [--rows 1000000] [--reps 3] [--baseline-src DIR]
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import secrets
import statistics
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


METHODS = {
    "a": "(a) seed one-shot UPDATE, default options",
    "b": "(b) one-shot UPDATE, s2k-mode=1 aes256",
    "c0": "(c0) encrypt backfill from --baseline-src",
    "c": "(c) auroractl encrypt backfill",
    "d": "(d) auroractl encrypt backfill --jobs 2",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=3, help="interleaved repetitions (medians)")
    ap.add_argument(
        "--seed-rows", type=int, default=20_000, help="rows of (a): its rate is per row"
    )
    ap.add_argument("--jobs2", action="store_true", help="also run (d)")
    ap.add_argument("--baseline-src", help="also run (c) with auroractl imported from here")
    args = ap.parse_args()
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    methods = [
        "a",
        "b",
        *(["c0"] if args.baseline_src else []),
        "c",
        *(["d"] if args.jobs2 else []),
    ]
    results: dict[str, list[dict]] = {m: [] for m in methods}
    with throwaway_cluster() as c, superuser_connect(c, "bench") as su:
        dsn = c.conninfo("bench", user="postgres")
        env = {**os.environ, "AURORACTL_DSN": dsn, "AURORACTL_ENCRYPTION_KEY": key}
        actions = _actions(dsn, key, env, args.baseline_src)
        for rep in range(args.reps):
            order = methods[rep % len(methods) :] + methods[: rep % len(methods)]
            for m in order:
                rows = args.seed_rows if m == "a" else args.rows
                schema = f"{m}{rep}"
                su.execute(DDL.format(s=schema, rows=rows))
                su.execute(f"VACUUM ANALYZE {schema}.usuarios")
                load = os.getloadavg()[0]
                r = run(dsn, schema, rows, actions[m](schema))
                r |= {"rows": rows, "load": load}
                _check(su, schema, rows, key)
                su.execute(f"DROP SCHEMA {schema} CASCADE")
                results[m].append(r)
                print(
                    f"rep {rep + 1} {METHODS[m]}: {rows / r['seconds']:,.0f} rows/s, "
                    f"p99 {r['p99'] * 1000:.1f}ms, load {load:.1f}",
                    file=sys.stderr,
                )
    report(results, args)


def _actions(dsn: str, key: str, env: dict, baseline_src: str | None) -> dict:  # type: ignore[type-arg]
    exe = str(Path(sys.executable).parent / "auroractl")

    def one_shot(options: str | None):  # type: ignore[no-untyped-def]
        def make(schema: str):  # type: ignore[no-untyped-def]
            def go() -> None:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    extra, params = (", %s", [key, options]) if options else ("", [key])
                    conn.execute(
                        f"UPDATE {schema}.usuarios SET documento_identidade_encrypted = "
                        f"pgp_sym_encrypt(documento_identidade, %s{extra})",
                        params,
                    )

            return go

        return make

    def backfill(*extra: str, src: str | None = None):  # type: ignore[no-untyped-def]
        run_env = {**env, "PYTHONPATH": src} if src else env

        def make(schema: str):  # type: ignore[no-untyped-def]
            cmd = [exe, "--quiet", "encrypt", "backfill", "--table", f"{schema}.usuarios"]
            cmd += ["--column", "documento_identidade", "--yes", *extra]
            return lambda: subprocess.run(
                cmd, env=run_env, check=True, capture_output=True, text=True
            )

        return make

    return {
        "a": one_shot(None),
        "b": one_shot("cipher-algo=aes256, s2k-mode=1"),
        "c0": backfill(src=baseline_src),
        "c": backfill(),
        "d": backfill("--jobs", "2"),
    }


def _check(su, schema: str, rows: int, key: str) -> None:  # type: ignore[no-untyped-def]
    """Every row has a ciphertext, and a sample of 1 in 50 decrypts to its plaintext."""
    left, bad = su.execute(
        f"SELECT count(*) FILTER (WHERE documento_identidade_encrypted IS NULL), "
        f"count(*) FILTER (WHERE id %% 50 = 0 AND pgp_sym_decrypt("
        f"documento_identidade_encrypted, %s) IS DISTINCT FROM documento_identidade) "
        f"FROM {schema}.usuarios",
        [key],
    ).fetchone()
    assert left == 0 and bad == 0, f"{schema}: {left:,} rows not encrypted, {bad:,} wrong"


def report(results: dict, args) -> None:  # type: ignore[no-untyped-def,type-arg]
    def med(m: str, key: str) -> float:
        return statistics.median(r[key] for r in results[m])

    def rate(m: str) -> float:
        return statistics.median(r["rows"] / r["seconds"] for r in results[m])

    loads = [r["load"] for rs in results.values() for r in rs]
    seed, limit = rate("a"), rate("b")
    print(
        f"\n{args.rows:,} rows ((a): {args.seed_rows:,}); median of {args.reps} interleaved "
        f"runs; {os.cpu_count()} cores, load average {min(loads):.1f}-{max(loads):.1f}"
    )
    print(
        f"\n{'method':42} {'seconds':>8} {'rows/s':>9} {'vs (a)':>7} {'vs (b)':>7} "
        f"{'p50':>8} {'p99':>8} {'worst':>8} {'updates':>8}"
    )
    for m, rs in results.items():
        failed = [r for r in rs if r["failure"]]
        if failed:
            print(f"{METHODS[m]:42} FAILED: {failed[0]['failure'][:90]}")
            continue
        r8 = rate(m)
        print(
            f"{METHODS[m]:42} {med(m, 'seconds'):8.2f} {r8:9,.0f} {r8 / seed:6.1f}x "
            f"{r8 / limit:6.0%} {med(m, 'p50') * 1000:6.1f}ms {med(m, 'p99') * 1000:6.1f}ms "
            f"{med(m, 'worst') * 1000:6.0f}ms {med(m, 'updates'):8,.0f}"
        )
    for m, rs in results.items():
        each = ", ".join(f"{r['rows'] / r['seconds']:,.0f}" for r in rs)
        print(f"  {m}: rows/s per run {each}")
    print(
        "\np50/p99/worst: single-row UPDATEs of random rows of the same table during the run. "
        "Targets: backfill >= 10x (a), >= 70% of (b), p99 < 100 ms. rows/s of the backfills "
        "include the CLI's start-up."
    )


if __name__ == "__main__":
    main()
