"""auroractl map propose on the 7-table demo vs a 2,000-table / 20,000-column catalog.

Both databases live in one throwaway cluster:
  - demo:  the demo schema at --scale (default 0.02)
  - large: one people table and 2,000 tables of 10 columns each (20,000 columns): every
           table has a row, a text column holding e-mails under an uninformative name
           (found only by sampling), named personal columns, one in four references
           people, one in ten has a CHECK on a personal column
Reported for each: wall time of the proposal (median of --runs, in process) and the SQL
round trips it made (counted on the connection). Target (issue 13): the same, fixed,
number of round trips on both; not one per table.

Usage: python bench/map_propose.py [--scale 0.02] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(1, str(Path(__file__).parent.parent))  # the labelled test schemas
from _harness import throwaway_cluster
from auroractl.ops import datamap
from auroractl.ops import sandbox as sandbox_ops

TABLES, CHUNK = 2000, 100
LARGE_DDL = """
DO $$
BEGIN
  FOR i IN {lo}..{hi} LOOP
    EXECUTE format(
      'CREATE TABLE big.t%1$s (id int PRIMARY KEY, person_id int %2$s, first_name text,
         email text %3$s, phone text, contact text, status text, amount numeric,
         created_at timestamptz, note_code int)',
      i,
      CASE WHEN i % 4 = 0 THEN 'REFERENCES big.people (id)' ELSE '' END,
      CASE WHEN i % 10 = 0 THEN 'CHECK (email LIKE ''%@%'')' ELSE '' END);
    EXECUTE format(
      'INSERT INTO big.t%1$s VALUES (1, 1, ''Ana'', ''ana@example.com'', ''(11) 98765-4321'',
         ''contact%1$s@example.org'', ''open'', 1, now(), 7)', i);
  END LOOP;
END $$
"""


class Counting:
    """A connection that counts statements (each execute is one round trip)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn, self.calls = conn, 0

    def execute(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.calls += 1
        return self.conn.execute(*args, **kwargs)

    def transaction(self):  # type: ignore[no-untyped-def]
        return self.conn.transaction()


def build_large(conn: psycopg.Connection) -> None:
    conn.execute("CREATE SCHEMA big")
    conn.execute(
        "CREATE TABLE big.people (id int PRIMARY KEY, nome text NOT NULL, cpf text, email text)"
    )
    conn.execute("INSERT INTO big.people VALUES (1, 'Ana', '529.982.247-25', 'ana@example.com')")
    for lo in range(1, TABLES + 1, CHUNK):  # chunks: one transaction's locks stay bounded
        conn.execute(LARGE_DDL.format(lo=lo, hi=min(lo + CHUNK - 1, TABLES)))
    conn.execute("ANALYZE")


def measure(dsn: str, runs: int) -> tuple[float, int, int, int]:
    times, calls, columns, tables = [], 0, 0, 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        for _ in range(runs):
            counted = Counting(conn)
            t0 = time.perf_counter()
            p = datamap.propose(counted)
            times.append(time.perf_counter() - t0)
            calls, columns, tables = counted.calls, len(p.map.columns), len(p.map.tables())
    return statistics.median(times), calls, columns, tables


def accuracy(dsn: str, expected: set[tuple[str, str]]) -> tuple[int, int, float, float]:
    """Recall and precision of the proposed personal columns against a labelled schema."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        found = {(c.table, c.column) for c in datamap.propose(conn).map.columns}
    hit = len(found & expected)
    return len(expected), len(found), hit / len(expected), hit / len(found) if found else 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=0.02)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with throwaway_cluster("demo") as c:
        with psycopg.connect(c.conninfo("demo"), autocommit=True) as conn:
            sandbox_ops.load_demo(conn, args.scale)
        sandbox_ops.bootstrap(c, "large")
        with psycopg.connect(c.conninfo("large"), autocommit=True) as conn:
            t0 = time.perf_counter()
            build_large(conn)
            print(f"built {TABLES + 1} tables in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
            n_cols = conn.execute(
                "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'big' AND c.relkind = 'r' AND a.attnum > 0"
            ).fetchone()[0]
        from tests.integration.conftest import SCHEMA_EN
        from tests.integration.test_map import EXPECTED_DEMO, EXPECTED_EN

        sandbox_ops.bootstrap(c, "english")
        with psycopg.connect(c.conninfo("english"), autocommit=True) as conn:
            conn.execute(SCHEMA_EN.read_text(encoding="utf-8"))
        scores = [
            ("demo", *accuracy(c.conninfo("demo"), EXPECTED_DEMO)),
            ("English (tests/integration/schema_en.sql)",
             *accuracy(c.conninfo("english"), EXPECTED_EN)),
        ]  # fmt: skip
        rows = [
            ("demo (7 tables)", *measure(c.conninfo("demo"), args.runs)),
            (f"large ({TABLES + 1} tables, {n_cols:,} columns)",
             *measure(c.conninfo("large"), args.runs)),
        ]  # fmt: skip
    print(
        f"{'database':<36} {'wall (median)':>14} {'round trips':>12} {'personal':>9} {'tables':>7}"
    )
    for name, wall, calls, columns, tables in rows:
        print(f"{name:<36} {wall:>13.2f}s {calls:>12} {columns:>9,} {tables:>7,}")
    print(f"\n{'schema':<44} {'labelled':>8} {'proposed':>8} {'recall':>7} {'precision':>9}")
    for name, labelled, proposed, recall, precision in scores:
        print(f"{name:<44} {labelled:>8} {proposed:>8} {recall:>7.2f} {precision:>9.2f}")


if __name__ == "__main__":
    main()
