"""auroractl partition create vs pg_partman 4.7 draining 1,000,000 rows out of DEFAULT.

Three identical tables (yearly RANGE on data_inicio, PK + 2 indexes, partitions for
2024-2026, DEFAULT holding ROWS rows of 2027):
  - auroractl:  `auroractl partition create --year 2027` (the real CLI, one process)
  - partman_fn: partman.partition_data_time(...)   (one transaction)
  - partman_proc: CALL partman.partition_data_proc(...) (commits per batch)
Each runs while two inserters write single rows into the parent: one for 2026 (an
existing partition: the stall every other writer sees) and one for 2027 (rows that
belong to the partition being created). Reported: rows/s, ratio, worst insert stall.

Usage: python bench/partition_default_drain.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
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
    id bigint NOT NULL, empresa_id integer NOT NULL, aluno_id integer, numero text NOT NULL,
    data_inicio date NOT NULL, data_fim date, valor_total numeric(12,2) NOT NULL,
    status text NOT NULL DEFAULT 'ativo', criado_em timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, data_inicio)
) PARTITION BY RANGE (data_inicio);
CREATE INDEX ON {s}.contratos (empresa_id);
CREATE INDEX ON {s}.contratos (aluno_id);
"""
LOAD = """
INSERT INTO {s}.contratos (id, empresa_id, aluno_id, numero, data_inicio, data_fim,
                           valor_total, status)
SELECT i, 1 + i % 50, 1 + i % 200000, 'CT-' || i, date '{y}-01-01' + (i % 365),
       date '{y}-01-01' + (i % 365) + 365, 100 + i % 5000, 'ativo'
FROM generate_series({lo}, {hi}) AS i
"""
INSERT = (
    "INSERT INTO {s}.contratos (id, empresa_id, numero, data_inicio, valor_total) "
    "VALUES (%s, 1, 'x', %s, 1)"
)


def build(conn: psycopg.Connection, schema: str, rows: int, partman: bool) -> None:
    conn.execute(TABLE_DDL.format(s=schema))
    if partman:
        conn.execute(
            "SELECT partman.create_parent(%s, 'data_inicio', 'native', 'yearly', "
            "p_premake := 1, p_start_partition := '2024-01-01')",
            [f"{schema}.contratos"],
        )
        for (name,) in conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass AND pg_get_expr(c.relpartbound, c.oid) "
            "LIKE '%%2027-01-01'') TO%%'",
            [f"{schema}.contratos"],
        ).fetchall():
            conn.execute(f'DROP TABLE {schema}."{name}"')  # its rows must sit in DEFAULT
    else:
        for y in (2024, 2025, 2026):
            conn.execute(
                f"CREATE TABLE {schema}.contratos_{y} PARTITION OF {schema}.contratos "
                f"FOR VALUES FROM ('{y}-01-01') TO ('{y + 1}-01-01')"
            )
        conn.execute(
            f"CREATE TABLE {schema}.contratos_default PARTITION OF {schema}.contratos DEFAULT"
        )
    conn.execute(LOAD.format(s=schema, y=2026, lo=1, hi=100_000))
    conn.execute(LOAD.format(s=schema, y=2027, lo=100_001, hi=100_000 + rows))
    conn.execute(f"VACUUM ANALYZE {schema}.contratos")


def run(dsn: str, schema: str, action, with_incoming: bool = True) -> dict:  # type: ignore[no-untyped-def]
    base = 10_000_000
    existing = Inserter(dsn, INSERT.format(s=schema), lambda i: (base + i, dt.date(2026, 6, 1)))
    incoming = Inserter(
        dsn, INSERT.format(s=schema), lambda i: (base + 5_000_000 + i, dt.date(2027, 6, 1))
    )
    inserters = [existing, incoming] if with_incoming else [existing]
    for ins in inserters:
        ins.start()
    time.sleep(0.5)
    t0 = time.monotonic()
    failure = None
    try:
        action()
    except (psycopg.Error, subprocess.CalledProcessError) as exc:
        failure = " ".join(str(getattr(exc, "stderr", None) or exc).split())[:160]
    t1 = time.monotonic()
    time.sleep(0.3)
    for ins in inserters:
        ins.stop()
    return {
        "seconds": t1 - t0,
        "failure": failure,
        "stall_existing": existing.worst(t0, t1),
        "p99_existing": existing.p99(t0, t1),
        "stall_incoming": incoming.worst(t0, t1) if with_incoming else None,
        "errors": [e for ins in inserters for e in ins.errors],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    schemas = {"a": False, "ax": False, "pf": True, "pp": True, "px": True}  # name: partman?
    with throwaway_cluster() as c, superuser_connect(c, "bench") as su:
        su.execute("CREATE SCHEMA partman")
        su.execute("CREATE EXTENSION pg_partman SCHEMA partman")
        dsn = c.conninfo("bench", user="postgres")
        for schema, partman in schemas.items():
            build(su, schema, args.rows, partman)
        print(
            f"DEFAULT holds {args.rows:,} rows of 2027 in each of {len(schemas)} identical tables",
            file=sys.stderr,
        )
        env = {**os.environ, "AURORACTL_DSN": dsn}

        def auroractl(schema: str):  # type: ignore[no-untyped-def]
            cmd = [
                str(Path(sys.executable).parent / "auroractl"),
                "partition",
                "create",
                "--year",
                "2027",
                "--table",
                f"{schema}.contratos",
                "--yes",
            ]
            return lambda: subprocess.run(cmd, env=env, check=True, capture_output=True)

        def partman(sql: str):  # type: ignore[no-untyped-def]
            return lambda: su.execute(sql)

        # Throughput runs share one load: a writer of 2026 rows (an existing partition).
        # The "+2027 writes" runs add a writer of rows that belong to the new partition:
        # partman does not hold them off, so its ATTACH fails.
        results = {
            "auroractl partition create": run(dsn, "a", auroractl("a"), with_incoming=False),
            "partman.partition_data_time": run(
                dsn,
                "pf",
                partman("SELECT partman.partition_data_time('pf.contratos', p_batch_count := 10)"),
                with_incoming=False,
            ),
            "partman.partition_data_proc": run(
                dsn,
                "pp",
                partman("CALL partman.partition_data_proc('pp.contratos', p_wait := 0)"),
                with_incoming=False,
            ),
            "auroractl partition create +2027 writes": run(dsn, "ax", auroractl("ax")),
            "partman.partition_data_time +2027 writes": run(
                dsn,
                "px",
                partman("SELECT partman.partition_data_time('px.contratos', p_batch_count := 10)"),
            ),
        }
        for schema in ("a", "ax", "pf", "pp"):
            left = su.execute(
                f"SELECT count(*) FROM ONLY {schema}.contratos_default "
                "WHERE data_inicio >= '2027-01-01'"
            ).fetchone()[0]
            assert left == 0, f"{schema}: {left} rows of 2027 left in DEFAULT"
    report(results, args.rows)


def report(results: dict, rows: int) -> None:
    ours = rows / results["auroractl partition create"]["seconds"]
    print(
        f"\n{'method':42} {'seconds':>8} {'rows/s':>10} {'speed-up':>12} "
        f"{'stall 2026':>11} {'p99 2026':>9} {'stall 2027':>11}"
    )
    for name, r in results.items():
        if r["failure"]:
            print(f"{name:42} FAILED after {r['seconds']:.2f}s: {r['failure'][:90]}")
            continue
        rate = rows / r["seconds"]
        incoming = (
            "     (none)" if r["stall_incoming"] is None else f"{r['stall_incoming'] * 1000:9.0f}ms"
        )
        print(
            f"{name:42} {r['seconds']:8.2f} {rate:10,.0f} {ours / rate:11.2f}x "
            f"{r['stall_existing'] * 1000:9.0f}ms {r['p99_existing'] * 1000:7.0f}ms "
            f"{incoming}"
        )
        for e in sorted(set(r["errors"]))[:3]:
            print(f"    inserter error: {e[:100]}")
    print(
        "\nstall = longest single-row INSERT into the parent during the run; 2026 rows go "
        "to an existing partition, 2027 rows to the partition being created. "
        "rows/s of auroractl include its process start-up."
    )


if __name__ == "__main__":
    main()
