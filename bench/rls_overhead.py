"""Tenant-scoped query: RLS as the application role vs an explicit WHERE without RLS.

Two identical alunos-like tables (ROWS rows over 50 tenants, index on empresa_id):
  - rls:   `auroractl rls enable` applied; queried as application_user with
           app.current_empresa_id set, no tenant predicate in the query
  - plain: no RLS; the same query with `WHERE empresa_id = %s`
The query (count + sum over one tenant's rows) runs REPEAT times per tenant round-robin;
reported: median and p95 per query, and the RLS/plain ratio. Target: within 10%.

Usage: python bench/rls_overhead.py [--rows 1000000] [--repeat 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from _harness import throwaway_cluster
from auroractl import runner
from auroractl.ops import rls
from auroractl.ops.sandbox import superuser_connect
from auroractl.sandbox import ADMIN_ROLE

DDL = """
CREATE TABLE {t} (
    id integer PRIMARY KEY, empresa_id integer NOT NULL, escola_id integer NOT NULL,
    nome text NOT NULL, criado_em timestamptz NOT NULL DEFAULT now()
);
INSERT INTO {t} (id, empresa_id, escola_id, nome)
SELECT i, 1 + i % 50, 1 + i % 1000, 'Aluno ' || i FROM generate_series(1, {rows}) i;
CREATE INDEX ON {t} (empresa_id);
ALTER TABLE {t} OWNER TO {owner};
"""
QUERY_RLS = "SELECT count(*), sum(length(nome)) FROM alunos_rls WHERE escola_id > 0"
QUERY_PLAIN = (
    "SELECT count(*), sum(length(nome)) FROM alunos_plain WHERE escola_id > 0 AND empresa_id = %s"
)


def measure(conn: psycopg.Connection, rls_on: bool, repeat: int) -> list[float]:
    """Time only the query: the tenant is set beforehand (an app sets it once per request)."""
    times = []
    for i in range(repeat):
        tenant = 1 + i % 50
        if rls_on:
            conn.execute("SELECT set_config('app.current_empresa_id', %s, false)", [str(tenant)])
            t0 = time.perf_counter()
            conn.execute(QUERY_RLS).fetchone()
        else:
            t0 = time.perf_counter()
            conn.execute(QUERY_PLAIN, [tenant]).fetchone()
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=300)
    args = ap.parse_args()
    with throwaway_cluster() as c, superuser_connect(c, "bench") as su:
        for t in ("alunos_rls", "alunos_plain"):
            su.execute(DDL.format(t=t, rows=args.rows, owner=ADMIN_ROLE))
            su.execute(f"VACUUM ANALYZE {t}")
        with psycopg.connect(c.conninfo("bench"), autocommit=True) as admin:
            cfg = rls.RlsConfig(rls.Tenancy("empresa_id", "app.current_empresa_id"))
            plan = rls.plan_enable(admin, cfg, ["alunos_rls"], False)
            runner.apply(admin, plan, runner.Options(yes=True))
            admin.execute("GRANT SELECT ON alunos_plain TO application_user")
        with psycopg.connect(c.conninfo("bench"), autocommit=True) as conn:
            conn.execute("SET ROLE application_user")
            for rls_on in (True, False):  # warm-up
                measure(conn, rls_on, 50)
            results = {"plain": [], "rls": []}
            for _ in range(3):  # interleave to share the machine's noise
                results["rls"] += measure(conn, True, args.repeat)
                results["plain"] += measure(conn, False, args.repeat)
            plan_rls = conn.execute("EXPLAIN " + QUERY_RLS).fetchall()
            plan_plain = conn.execute("EXPLAIN " + QUERY_PLAIN, [7]).fetchall()
    med = {k: statistics.median(v) for k, v in results.items()}
    p95 = {k: sorted(v)[int(len(v) * 0.95)] for k, v in results.items()}
    print(f"\n{'query':48} {'median':>9} {'p95':>9}")
    print(
        f"{'explicit WHERE empresa_id = $1, no RLS':48} {med['plain'] * 1000:7.2f}ms "
        f"{p95['plain'] * 1000:7.2f}ms"
    )
    print(
        f"{'RLS policy as application_user':48} {med['rls'] * 1000:7.2f}ms "
        f"{p95['rls'] * 1000:7.2f}ms"
    )
    print(
        f"\nRLS / plain (median): {med['rls'] / med['plain']:.3f}  (target <= 1.10); "
        f"{args.rows:,} rows, 50 tenants, {3 * args.repeat} queries each, "
        "timed round trips of the query alone (the tenant is set before)"
    )
    for name, p in (("RLS plan", plan_rls), ("plain plan", plan_plain)):
        print(f"{name}: " + " / ".join(r[0].strip()[:80] for r in p[:2]))


if __name__ == "__main__":
    main()
