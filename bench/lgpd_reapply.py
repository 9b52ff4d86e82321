"""What the erasure log costs `lgpd forget`, and what `lgpd reapply` takes after a restore.

A throwaway cluster with the demo schema at --scale; three identical databases made from
it (CREATE DATABASE ... TEMPLATE: the "restore" of a backup taken before the erasures).
Reported side by side, for --ids subjects:

- baseline: `forget` of the subjects without an erasure log;
- `forget` of the same subjects on the second database, each appended to a local log
  (the identifying values read and hashed, one file linked into place per erasure);
- `reapply` of that log on the third database (reading the log, checking the receipts,
  erasing each subject again), then the "no erased subject present" verification.

Usage: python bench/lgpd_reapply.py [--scale 0.2] [--ids 500]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).parent))
from _harness import throwaway_cluster
from auroractl.ops import datamap, lgpd
from auroractl.ops import sandbox as sandbox_ops
from auroractl.ops.lgpd import erasure_log, reapply
from auroractl.ops.lgpd import forget as lgpd_forget
from auroractl.ops.shared import datamap as dm


def forget_all(conninfo: str, m: dm.DataMap, ids: list[str], log=None) -> float:  # type: ignore[no-untyped-def]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        em = lgpd.resolve(conn, m, m.default_subject())
        t0 = time.perf_counter()
        done = lgpd_forget.forget(conn, em, ids, log=log)
        took = time.perf_counter() - t0
    assert not done.failures and not done.unlogged, (done.failures, done.unlogged)
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=0.2)
    ap.add_argument("--ids", type=int, default=500)
    args = ap.parse_args()
    with throwaway_cluster() as c, tempfile.TemporaryDirectory() as tmp:
        with psycopg.connect(c.conninfo("bench"), autocommit=True) as conn:
            sandbox_ops.load_demo(conn, args.scale)
            m = datamap.propose(conn).map
            # the demo's people; the first subject the proposal found on another schema
            want = "public.usuarios" if m.subject("public.usuarios") else m.subjects[0].table
            m = replace(m, subjects=tuple(replace(x, default=x.table == want) for x in m.subjects))
            s = m.default_subject()
            schema, _, table = s.table.partition(".")
            q = sql.SQL("SELECT {}::text FROM {} ORDER BY 1 LIMIT %s").format(
                sql.Identifier(s.key[0]), sql.Identifier(schema, table)
            )
            ids = [r[0] for r in conn.execute(q, [args.ids])]
            for name in ("with_log", "restored"):
                conn.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE bench").format(sql.Identifier(name))
                )
        log = erasure_log.open_log(str(Path(tmp) / "log"))
        base = forget_all(c.conninfo("bench"), m, ids)
        logged = forget_all(c.conninfo("with_log"), m, ids, log)
        with psycopg.connect(c.conninfo("restored"), autocommit=True) as conn:
            t0 = time.perf_counter()
            todo = reapply.todo(conn, m, log)
            done = reapply.reapply(conn, todo)
            replay = time.perf_counter() - t0
            t0 = time.perf_counter()
            presence = reapply.check_absent(conn, m, log)
            verify = time.perf_counter() - t0
        assert done.reapplied == len(ids) and not presence.present, (done, presence.present[:3])
    n = len(ids)
    print(f"{n} subjects of {s.table} (demo scale {args.scale})")
    print(f"{'':34}{'seconds':>10}{'ms/subject':>12}{'vs baseline':>13}")
    for label, value in (
        ("forget, no erasure log (baseline)", base),
        ("forget, local erasure log", logged),
        ("reapply of the log on a restore", replay),
        ("verify: no erased subject present", verify),
    ):
        print(f"{label:34}{value:>10.2f}{value / n * 1000:>12.2f}{value / base:>12.2f}x")


if __name__ == "__main__":
    main()
