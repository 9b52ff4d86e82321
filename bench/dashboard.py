"""Dashboard materialized view: auroractl's query vs the requirements document's query.

For each sandbox scale: time to create mv_dashboard_empresa, REFRESH plain and
CONCURRENTLY, and the seed's query (escolas x alunos x contratos joined before
aggregating) under a statement timeout; then whether the seed's totals match ours.

Usage: python bench/dashboard.py [--scales 0.002,1,5] [--seed-timeout 60]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from _harness import throwaway_cluster
from auroractl import runner, templates
from auroractl.commands._defaults import DEMO_DASHBOARD
from auroractl.ops import matview
from auroractl.ops import sandbox as sandbox_ops


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.monotonic()
    fn()
    return time.monotonic() - t0


def measure(conn: psycopg.Connection, seed_timeout: int) -> dict:
    spec = matview.dashboard_spec(DEMO_DASHBOARD)
    opts = runner.Options(yes=True)
    out = {"create": timed(lambda: runner.apply(conn, matview.plan_create(conn, spec), opts))}
    for conc in (False, True):
        plan = matview.plan_refresh(conn, spec.qualified, conc)
        out["concurrently" if conc else "plain"] = timed(lambda p=plan: runner.apply(conn, p, opts))
    ours = dict(conn.execute("SELECT id, receita_total FROM mv_dashboard_empresa"))
    conn.execute(f"SET statement_timeout = '{int(seed_timeout)}s'")
    t0 = time.monotonic()
    try:
        seed = dict(
            (r[0], r[4]) for r in conn.execute(templates.load("matview/seed_dashboard.sql"))
        )
        out["seed"] = time.monotonic() - t0
        out["seed_mismatches"] = sum(1 for k, v in ours.items() if (seed.get(k) or 0) != v)
    except psycopg.errors.QueryCanceled:
        out["seed"] = None
        out["seed_mismatches"] = None
    conn.execute("RESET statement_timeout")
    out["empresas"] = len(ours)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="0.002,1,5")
    ap.add_argument("--seed-timeout", type=int, default=60)
    args = ap.parse_args()
    results = {}
    with throwaway_cluster() as c:
        for scale in (float(s) for s in args.scales.split(",")):
            db = f"dash_{str(scale).replace('.', '_')}"
            sandbox_ops.bootstrap(c, db)
            with psycopg.connect(c.conninfo(db), autocommit=True) as conn:
                sandbox_ops.load_demo(conn, scale)
                results[scale] = measure(conn, args.seed_timeout)
            print(f"scale {scale}: done", file=sys.stderr)
    print(
        f"\n{'scale':>6} {'empresas':>8} {'create s':>9} {'refresh s':>10} {'concurr. s':>11} "
        f"{'seed query s':>13} {'speed-up':>9} {'seed totals':>16}"
    )
    for scale, r in results.items():
        seed = (
            f"{r['seed']:13.2f}" if r["seed"] is not None else f"{'>' + str(args.seed_timeout):>13}"
        )
        speed = r["seed"] if r["seed"] is not None else args.seed_timeout
        plus = "+" if r["seed"] is None else " "
        match = (
            "timed out"
            if r["seed_mismatches"] is None
            else f"{r['seed_mismatches']} wrong of {r['empresas']}"
        )
        print(
            f"{scale:6g} {r['empresas']:8d} {r['create']:9.2f} {r['plain']:10.2f} "
            f"{r['concurrently']:11.2f} {seed} {speed / r['plain']:8.0f}x{plus} "
            f"{match:>16}"
        )
    print(
        "\nspeed-up = seed query time / plain refresh time ('+': the seed query hit the "
        "timeout, so the real ratio is larger)."
    )


if __name__ == "__main__":
    main()
