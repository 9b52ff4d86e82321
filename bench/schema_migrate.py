"""Online-ness of `migrate up` and `schema split apply|revert` under a concurrent writer.

A throwaway cluster with the demo schema at --scale (1.0 = 250k usuarios, 200k alunos).
An application role updates one random usuarios row at a time (unqualified names, its
own search_path) during each phase; reported per phase: duration, and the writer's p99
and worst latency. Side by side:

  - plain CREATE INDEX on usuarios(ultimo_acesso) (blocks writes for the whole build)
    vs the demo's migration 0005 (CREATE INDEX CONCURRENTLY, autocommit);
  - the pre-PostgreSQL-11 way of adding a NOT NULL column with a default (ADD COLUMN,
    UPDATE every row, SET NOT NULL) vs migration 0001 (constant default: catalog only);
  - schema split apply / revert (one short ACCESS EXCLUSIVE per table).

The issue names no external baseline for these commands; the writer's idle latency is
the reference. Usage: python bench/schema_migrate.py [--scale 0.4]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from _harness import Inserter, throwaway_cluster
from auroractl import runner
from auroractl.ops import migrate, schema
from auroractl.ops import sandbox as sandbox_ops
from auroractl.sandbox import ADMIN_ROLE

APP = "bench_app"
OPTS = runner.Options(yes=True, target_label="bench", lock_retries=5)


def phase(writer: Inserter, label: str, fn) -> dict:  # type: ignore[no-untyped-def]
    time.sleep(0.3)
    start = time.monotonic()
    fn()
    end = time.monotonic()
    time.sleep(0.3)
    return {
        "phase": label,
        "seconds": end - start,
        "p99_ms": writer.p99(start, end) * 1000,
        "worst_ms": writer.worst(start, end) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=0.4)
    args = parser.parse_args()
    rows = []
    with throwaway_cluster("bench") as c:
        admin_dsn = c.conninfo("bench", ADMIN_ROLE)
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            loaded = sandbox_ops.load_demo(conn, args.scale)
            n_users = conn.execute("SELECT max(id) FROM usuarios").fetchone()[0]
            conn.execute(f"CREATE ROLE {APP} LOGIN")
            conn.execute(f"GRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA public TO {APP}")
        print(f"demo data at scale {args.scale}: {n_users:,} usuarios, loaded in {loaded:.1f}s")
        split_cfg = schema.config({}, [APP])
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            # The application's search_path first (new sessions only), as documented.
            runner.apply(conn, schema.split(conn, split_cfg, prepare_only=True)[1], OPTS)
        writer = Inserter(
            c.conninfo("bench", APP),
            "UPDATE usuarios SET ultimo_acesso = now() WHERE id = %s",
            lambda i: [random.randint(1, n_users)],
        )
        writer.start()
        with psycopg.connect(
            admin_dsn, autocommit=True, options="-c lock_timeout=2s -c statement_timeout=10min"
        ) as conn:
            rows.append(phase(writer, "idle (reference)", lambda: time.sleep(2)))

            def plain_index() -> None:
                conn.execute("CREATE INDEX bench_plain_idx ON usuarios (ultimo_acesso)")

            rows.append(phase(writer, "CREATE INDEX (plain, baseline)", plain_index))
            conn.execute("DROP INDEX bench_plain_idx")

            def old_way_column() -> None:
                with conn.transaction():
                    conn.execute("ALTER TABLE usuarios ADD COLUMN bench_old jsonb")
                    conn.execute("UPDATE usuarios SET bench_old = '[]'")
                    conn.execute("ALTER TABLE usuarios ALTER bench_old SET DEFAULT '[]'")
                    conn.execute("ALTER TABLE usuarios ALTER bench_old SET NOT NULL")

            rows.append(phase(writer, "ADD COLUMN+UPDATE+NOT NULL (baseline)", old_way_column))
            conn.execute("ALTER TABLE usuarios DROP COLUMN bench_old")

            cfg = migrate.MigrateConfig(directory=migrate.DEMO)
            for version, label in (
                (1, "migrate 0001 (NOT NULL DEFAULT const)"),
                (4, "migrate 0002-0004"),
                (5, "migrate 0005 (CONCURRENTLY)"),
            ):
                rows.append(
                    phase(
                        writer,
                        label,
                        lambda v=version: runner.apply(conn, migrate.plan(conn, cfg, v), OPTS),
                    )
                )
            rows.append(
                phase(
                    writer,
                    "schema split apply (15 tables)",
                    lambda: runner.apply(conn, schema.split(conn, split_cfg)[1], OPTS),
                )
            )
            rows.append(
                phase(
                    writer,
                    "schema split revert",
                    lambda: runner.apply(conn, schema.revert(conn), OPTS),
                )
            )
        writer.stop()
    print(f"\n{'phase':<40} {'seconds':>8} {'writer p99 ms':>14} {'writer worst ms':>16}")
    for r in rows:
        print(f"{r['phase']:<40} {r['seconds']:>8.2f} {r['p99_ms']:>14.1f} {r['worst_ms']:>16.1f}")
    if writer.errors:
        print(f"\nwriter errors: {len(writer.errors)} (first: {writer.errors[0]})")
    else:
        print("\nwriter errors: 0 (unqualified names worked throughout)")


if __name__ == "__main__":
    main()
