"""auroractl partition migrate fill vs a single INSERT ... SELECT vs pg_partman 4.7.

Identical unpartitioned contratos tables (bigint PK, 2 secondary indexes, ROWS rows over
8 years 2019-2026) are turned into yearly RANGE-partitioned ones:
  - insert_select: `auroractl partition migrate prep` (mirror trigger then dropped),
                   one `INSERT INTO twin SELECT * FROM original` (the physical limit)
  - fill:          `auroractl partition migrate prep` + `fill --yes` (the real CLI),
                   once with --jobs 1 and once with --jobs 2
  - partman:       partman.create_parent on a partitioned twin, then
                   CALL partman.partition_data_proc(..., p_source_table := original,
                   p_interval := '1 month', p_wait := 0); its source gets an index on
                   data_inicio, which partman's range DELETEs need
During each, an Inserter writes single rows into the original (through the mirror
trigger for auroractl): p99 and worst latency are reported. Then `swap` of the filled
auroractl table, with the writer still running: lock time (the swap transaction) and
the worst write stall.

Usage: python bench/partition_migrate.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from _harness import Inserter, throwaway_cluster
from auroractl.ops.sandbox import superuser_connect

TABLE_DDL = """
CREATE SCHEMA {s};
CREATE TABLE {s}.contratos (
    id bigint PRIMARY KEY, empresa_id integer NOT NULL, aluno_id integer, numero text NOT NULL,
    data_inicio date NOT NULL, data_fim date, valor_total numeric(12,2) NOT NULL,
    status text NOT NULL DEFAULT 'ativo', criado_em timestamptz NOT NULL DEFAULT now()
);
"""
LOAD = """
INSERT INTO {s}.contratos (id, empresa_id, aluno_id, numero, data_inicio, data_fim,
                           valor_total, status)
SELECT i, 1 + i % 50, 1 + i % 200000, 'CT-' || i, date '2019-01-01' + (i % 2920),
       date '2019-01-01' + (i % 2920) + 365, 100 + i % 5000, 'ativo'
FROM generate_series(1, {rows}) AS i
"""
INDEXES = """
CREATE INDEX ON {s}.contratos (empresa_id);
CREATE INDEX ON {s}.contratos (aluno_id);
"""
INSERT = (
    "INSERT INTO {s}.contratos (id, empresa_id, numero, data_inicio, valor_total) "
    "VALUES (%s, 1, 'x', %s, 1)"
)
PARTMAN_TWIN = """
CREATE TABLE p.contratos_partitioned (LIKE p.contratos INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    PARTITION BY RANGE (data_inicio);
ALTER TABLE p.contratos_partitioned ADD PRIMARY KEY (id, data_inicio);
CREATE INDEX ON p.contratos_partitioned (empresa_id);
CREATE INDEX ON p.contratos_partitioned (aluno_id);
SELECT partman.create_parent('p.contratos_partitioned', 'data_inicio', 'native', 'yearly',
                             p_premake := 1, p_start_partition := '2019-01-01');
"""


def cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    exe = str(Path(sys.executable).parent / "auroractl")
    return subprocess.run([exe, *args], env=env, check=True, capture_output=True, text=True)


def timed(dsn: str, schema: str, action, base: int) -> dict:  # type: ignore[no-untyped-def]
    ins = Inserter(dsn, INSERT.format(s=schema), lambda i: (base + i, dt.date(2026, 6, 1)))
    ins.start()
    time.sleep(0.5)
    t0 = time.monotonic()
    failure, out = None, None
    try:
        out = action()
    except (psycopg.Error, subprocess.CalledProcessError) as exc:
        failure = " ".join(str(getattr(exc, "stderr", None) or exc).split())[:200]
    t1 = time.monotonic()
    time.sleep(0.3)
    ins.stop()
    return {
        "seconds": t1 - t0,
        "failure": failure,
        "p99": ins.p99(t0, t1),
        "worst": ins.worst(t0, t1),
        "writes": sum(1 for s, lat in ins.samples if t0 <= s <= t1),
        "errors": sorted(set(ins.errors))[:3],
        "out": out,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    rows = args.rows
    with throwaway_cluster() as c, superuser_connect(c, "bench") as su:
        su.execute("CREATE SCHEMA partman")
        su.execute("CREATE EXTENSION pg_partman SCHEMA partman")
        dsn = c.conninfo("bench", user="postgres")
        env = {**os.environ, "AURORACTL_DSN": dsn, "AURORACTL_LOCK_TIMEOUT": "2s"}
        su.execute(TABLE_DDL.format(s="a"))
        su.execute(LOAD.format(s="a", rows=rows))
        for s in ("a2", "i", "p"):
            su.execute(TABLE_DDL.format(s=s))
            su.execute(f"INSERT INTO {s}.contratos SELECT * FROM a.contratos")
        for s in ("a", "a2", "i", "p"):
            su.execute(INDEXES.format(s=s))
            su.execute(f"VACUUM ANALYZE {s}.contratos")
            su.execute("CHECKPOINT")
        for s in ("a", "a2", "i"):
            cli(
                env,
                "partition",
                "migrate",
                "prep",
                f"{s}.contratos",
                "--column",
                "data_inicio",
                "--yes",
            )
        su.execute(PARTMAN_TWIN)
        # partman moves one p_interval per batch with a range DELETE on the source: without
        # an index on the control column every batch is a full scan (574 s for 1M rows)
        su.execute("CREATE INDEX ON p.contratos (data_inicio)")
        su.execute("VACUUM ANALYZE p.contratos")
        # the physical limit: no mirror trigger (its writes would collide with the copy)
        su.execute("DROP TRIGGER auroractl_pm_mirror ON i.contratos")
        print(f"{rows:,} rows in each of 4 identical tables", file=sys.stderr)

        def insert_select():  # type: ignore[no-untyped-def]
            su.execute("INSERT INTO i.contratos_partitioned SELECT * FROM i.contratos")

        def fill(schema: str, jobs: int):  # type: ignore[no-untyped-def]
            return lambda: cli(
                env,
                "partition",
                "migrate",
                "fill",
                f"{schema}.contratos",
                "--jobs",
                str(jobs),
                "--batch-size",
                "5000",
                "--yes",
            )

        def partman():  # type: ignore[no-untyped-def]
            su.execute(
                "CALL partman.partition_data_proc('p.contratos_partitioned', "
                "p_interval := '1 month', p_wait := 0, p_source_table := 'p.contratos', "
                "p_quiet := true)"
            )

        results = {}
        results["INSERT INTO twin SELECT * (1 statement)"] = timed(dsn, "i", insert_select, 10**8)
        su.execute("CHECKPOINT")
        results["auroractl migrate fill --jobs 1"] = timed(dsn, "a", fill("a", 1), 2 * 10**8)
        su.execute("CHECKPOINT")
        results["auroractl migrate fill --jobs 2"] = timed(dsn, "a2", fill("a2", 2), 3 * 10**8)
        su.execute("CHECKPOINT")
        results["partman.partition_data_proc"] = timed(dsn, "p", partman, 4 * 10**8)

        def swap():  # type: ignore[no-untyped-def]
            out = cli(
                env, "partition", "migrate", "swap", "a.contratos", "--yes", "--format", "json"
            )
            return json.loads(out.stdout)

        swapped = timed(dsn, "a", swap, 5 * 10**8)
        verify = subprocess.run(
            [
                str(Path(sys.executable).parent / "auroractl"),
                "partition",
                "migrate",
                "verify",
                "a.contratos",
                "--format",
                "json",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        counts = {
            s: su.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for s, t in (
                ("i", "i.contratos_partitioned"),
                ("a", "a.contratos"),
                ("a2", "a2.contratos_partitioned"),
                ("p", "p.contratos_partitioned"),
            )
        }
    report(results, rows, swapped, verify, counts)


def report(results: dict, rows: int, swapped: dict, verify, counts: dict) -> None:  # type: ignore[no-untyped-def]
    base = rows / results["INSERT INTO twin SELECT * (1 statement)"]["seconds"]
    print(
        f"\n{'method':42} {'seconds':>8} {'rows/s':>10} {'vs INSERT':>10} "
        f"{'p99 write':>10} {'worst write':>12} {'writes':>7}"
    )
    for name, r in results.items():
        if r["failure"]:
            print(f"{name:42} FAILED after {r['seconds']:.2f}s: {r['failure'][:100]}")
            continue
        rate = rows / r["seconds"]
        print(
            f"{name:42} {r['seconds']:8.2f} {rate:10,.0f} {rate / base:9.0%} "
            f"{r['p99'] * 1000:8.1f}ms {r['worst'] * 1000:10.1f}ms {r['writes']:7d}"
        )
        for e in r["errors"]:
            print(f"    writer error: {e[:100]}")
    if swapped["failure"]:
        print(f"\nswap FAILED: {swapped['failure']}")
    else:
        print(
            f"\nswap (auroractl, writer running): transaction {swapped['out']['duration_s']:.3f}s "
            f"(lock retries {swapped['out']['lock_retries']}), worst write during the swap "
            f"command {swapped['worst'] * 1000:.1f}ms"
        )
    ok = verify.returncode == 0
    print(f"verify after swap: {'OK' if ok else 'DIFFERENT'} (exit {verify.returncode})")
    print(f"rows after: {counts}")
    print(
        "\nrows/s of auroractl include its process start-up and the fill's first count; "
        "the writer inserts single rows into the original table throughout (2 ms apart)."
    )


if __name__ == "__main__":
    main()
