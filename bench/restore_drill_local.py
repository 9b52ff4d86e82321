"""auroractl restore-test (local backend) vs a plain `pg_dump | psql` round trip.

On a throwaway cluster with the sandbox schema at --scale S (5 = 250 empresas,
1,000,000 alunos, 1,250,000 usuarios, 500,000 contratos):
  - restore test: ops.restore_test.run_local (pg_dump -Fd -j N in an exported snapshot,
    pg_restore -j N into a scratch database, verification: structure, exact row counts
    of every table, checksums of usuarios and contratos, freshness; drop) split into
    dump / restore / verification;
  - plain: `pg_dump db | psql -d copy` into a fresh database (no verification).
Each runs --reps times, interleaved (the machine may be shared), and the medians are
compared. Targets (issues 6, 17): restore-test total, verification included, no slower than
the plain round trip; verification under 25% of the restore-test total.

Usage: python bench/restore_drill_local.py [--scale 5] [--jobs 2] [--reps 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).parent))
from _harness import throwaway_cluster
from auroractl.ops import sandbox as sandbox_ops
from auroractl.ops.restore_test import RestoreTestConfig, run_local
from auroractl.ops.restore_test.common import connection_kwargs
from auroractl.ops.restore_test.local import child_env
from auroractl.ops.restore_test.verify import Spec


def plain_round_trip(c, dbname: str) -> float:  # type: ignore[no-untyped-def]
    copy = "plain_copy"
    with psycopg.connect(c.conninfo(dbname), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(copy)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(copy)))
        params = connection_kwargs(conn)
    env = child_env(params)
    started = time.monotonic()
    dump = subprocess.Popen([str(c.bindir / "pg_dump"), dbname], stdout=subprocess.PIPE, env=env)
    restore = subprocess.run(
        [str(c.bindir / "psql"), "-q", "-o", os.devnull, "-d", copy],
        stdin=dump.stdout,
        env=env,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    dump.wait()
    elapsed = time.monotonic() - started
    if dump.returncode != 0 or restore.returncode != 0:
        raise SystemExit(f"plain round trip failed: {dump.returncode} {restore.returncode}")
    with psycopg.connect(c.conninfo(dbname), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(copy)))
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=5.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--reps", type=int, default=3, help="interleaved repetitions")
    args = parser.parse_args()

    runs: list[dict[str, float]] = []
    plains: list[float] = []
    loads: list[float] = []
    with (
        throwaway_cluster("bench") as c,
        psycopg.connect(c.conninfo("bench"), autocommit=True) as conn,
    ):
        print(f"loading the demo schema at scale {args.scale} ...", file=sys.stderr)
        loaded = sandbox_ops.load_demo(conn, args.scale)
        size = conn.execute("SELECT pg_size_pretty(pg_database_size('bench'))").fetchone()[0]
        rows = conn.execute(
            "SELECT sum(n_live_tup) FROM pg_stat_user_tables WHERE schemaname = 'public'"
        ).fetchone()[0]
        print(f"loaded {rows:,} rows ({size}) in {loaded:.1f}s", file=sys.stderr)
        cfg = RestoreTestConfig(
            jobs=args.jobs,
            spec=Spec(
                critical_tables=("public.usuarios", "public.contratos"),
                freshness_columns=("public.usuarios.criado_em",),
            ),
        )
        for rep in range(args.reps):
            # alternate which goes first: neither always gets the warmer cache
            order = ("test", "plain") if rep % 2 == 0 else ("plain", "test")
            for what in order:
                loads.append(os.getloadavg()[0])
                print(f"rep {rep + 1}: {what} ...", file=sys.stderr)
                if what == "plain":
                    plains.append(plain_round_trip(c, "bench"))
                    continue
                report = run_local(conn, cfg, bindir=c.bindir)
                if report.outcome != "passed":
                    raise SystemExit(f"restore test {report.outcome}: {report.failed_checks}")
                runs.append({**report.timings, "total": report.rto_s})
    print_table(args, rows, size, runs, plains, loads)


def print_table(args, rows, size, runs, plains, loads) -> None:  # type: ignore[no-untyped-def]
    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    total, plain = med("total"), statistics.median(plains)
    other = statistics.median(
        r["total"] - r["dump_s"] - r["restore_s"] - r["verify_s"] for r in runs
    )
    print(
        f"\nrestore test, local backend, scale {args.scale} ({rows:,} rows, {size}), "
        f"-j {args.jobs}, {os.cpu_count()} cores; median of {args.reps} interleaved runs; "
        f"load average {min(loads):.1f}-{max(loads):.1f}\n"
    )
    print(f"{'phase':<28}{'auroractl':>16}{'pg_dump | psql':>16}")
    print(f"{'dump':<28}{med('dump_s'):>15.2f}s{'':>16}")
    print(f"{'restore':<28}{med('restore_s'):>15.2f}s{'':>16}")
    dr = statistics.median(r["dump_s"] + r["restore_s"] for r in runs)
    print(f"{'dump + restore':<28}{dr:>15.2f}s{plain:>15.2f}s")
    print(f"{'verification':<28}{med('verify_s'):>15.2f}s{'(none)':>16}")
    print(f"{'create/drop scratch, other':<28}{other:>15.2f}s{'':>16}")
    print(f"{'total':<28}{total:>15.2f}s{plain:>15.2f}s")
    print("runs (total): " + ", ".join(f"{r['total']:.1f}" for r in runs))
    print("runs (plain): " + ", ".join(f"{p:.1f}" for p in plains))
    print(f"restore test / plain round trip: {total / plain:.2f}x (target <= 1.00)")
    print(f"verification share:             {med('verify_s') / total:.0%} (target < 25%)")


if __name__ == "__main__":
    main()
