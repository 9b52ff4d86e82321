"""Latency of one `lgpd forget` and throughput of `--from-file` on a large audit log.

A throwaway cluster with the demo schema at --scale (1: 250,000 usuarios), audit
enabled on usuarios and ai_preferences, and an audit.audit_log of --audit-rows rows
(monthly partitions over two years, generated server-side, --audit-rows / usuarios
entries per subject). Reported side by side:

- one forget (one subject, one transaction: usuarios row, ai_preferences rows, audit
  entries reached through the (table_name, row_pk) index, the receipt), median / p95 /
  max over --samples subjects, against the 200 ms target;
- the same forget with index scans disabled for the session: what a scrub that scans
  the audit log costs (the baseline the issue rules out);
- `auroractl lgpd forget --from-file` with --ids ids, end to end (a real subprocess).

Usage: python bench/lgpd_forget.py [--scale 1] [--audit-rows 5000000] [--ids 1000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from _harness import throwaway_cluster
from auroractl import runner
from auroractl.ops import audit, datamap, lgpd
from auroractl.ops import sandbox as sandbox_ops
from auroractl.ops.lgpd import forget as lgpd_forget
from auroractl.ops.shared import datamap as dm
from auroractl.ops.shared import state

MAP = os.path.join(tempfile.gettempdir(), "auroractl-bench-lgpd-map.toml")
FILL = """
INSERT INTO audit.audit_log (changed_at, table_name, operation, row_pk, changed_columns,
                             old_values, new_values)
SELECT now() - make_interval(secs => (g::bigint * 7919 %% 62208000)::int),
       'public.usuarios', 'UPDATE', (1 + g %% %(users)s)::text, '{nome}',
       jsonb_build_object('nome', 'Usuario ' || g), jsonb_build_object('nome', 'Nome ' || g)
FROM generate_series(%(lo)s::int, %(hi)s::int) g
"""


def months_back(n: int) -> list[dt.date]:
    today = dt.date.today().replace(day=1)
    out = []
    for i in range(1, n + 1):
        y, m = divmod(today.year * 12 + today.month - 1 - i, 12)
        out.append(dt.date(y, m + 1, 1))
    return out


def setup(conn: psycopg.Connection, audit_rows: int) -> int:
    opts = runner.Options(yes=True)
    runner.apply(conn, audit.plan_setup(conn), opts)
    for plan in audit.plan_partitions(conn):
        runner.apply(conn, plan, opts)
    cfg = audit.AuditConfig()
    runner.apply(conn, audit.plan_enable(conn, cfg, ["usuarios", "ai_preferences"], False), opts)
    for first in months_back(24):  # bench scaffolding: two years of monthly partitions
        nxt = (first + dt.timedelta(days=32)).replace(day=1)
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS audit.audit_log_{first:%Y_%m} PARTITION OF "
            f"audit.audit_log FOR VALUES FROM ('{first}') TO ('{nxt}')"
        )
    users = conn.execute("SELECT count(*) FROM usuarios").fetchone()[0]
    step = 1_000_000
    for lo in range(1, audit_rows + 1, step):
        hi = min(audit_rows, lo + step - 1)
        t0 = time.monotonic()
        conn.execute(FILL, {"users": users, "lo": lo, "hi": hi})
        print(f"audit rows {hi:,}/{audit_rows:,} ({time.monotonic() - t0:.1f}s)", file=sys.stderr)
    conn.execute("ANALYZE audit.audit_log")
    conn.execute("ANALYZE usuarios")
    conn.execute("ANALYZE ai_preferences")
    datamap.write(datamap.propose(conn), Path(MAP), dry_run=False, force=True)
    return users


def forget_latencies(conn: psycopg.Connection, ids: list[int]) -> list[float]:
    m = dm.load(Path(MAP))
    em = lgpd.resolve(conn, m, m.subject("public.usuarios"))
    state.ensure(conn)
    who = lgpd_forget.operator(conn)
    out = []
    for sid in ids:
        t0 = time.perf_counter()
        receipt = lgpd_forget.forget_one(conn, em, sid, who)
        out.append(time.perf_counter() - t0)
        assert receipt.status == "completed", receipt
    return out


def ms(values: list[float]) -> tuple[float, float, float]:
    s = sorted(values)
    p95 = s[min(len(s) - 1, int(len(s) * 0.95))]
    return statistics.median(s) * 1000, p95 * 1000, s[-1] * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--audit-rows", type=int, default=5_000_000)
    ap.add_argument("--ids", type=int, default=1000)
    ap.add_argument("--samples", type=int, default=30)
    args = ap.parse_args()
    exe = Path(sys.executable).with_name("auroractl")
    with throwaway_cluster() as c, psycopg.connect(c.conninfo("bench"), autocommit=True) as conn:
        t0 = time.monotonic()
        sandbox_ops.load_demo(conn, args.scale)
        users = setup(conn, args.audit_rows)
        print(f"setup {time.monotonic() - t0:.0f}s", file=sys.stderr)
        entries = conn.execute("SELECT count(*) FROM audit.audit_log").fetchone()[0]
        base = users // 4
        indexed = forget_latencies(conn, list(range(base, base + args.samples)))
        # baseline: a session that cannot use indexes (a fresh one: no cached plans)
        with psycopg.connect(
            c.conninfo("bench"),
            autocommit=True,
            options="-c enable_indexscan=off -c enable_bitmapscan=off",
        ) as scan:
            scanned = forget_latencies(scan, list(range(2 * base, 2 * base + 3)))
        with tempfile.TemporaryDirectory() as tmp:
            ids = Path(tmp) / "ids.txt"
            first = 3 * base
            ids.write_text("\n".join(str(i) for i in range(first, first + args.ids)) + "\n")
            env = {**os.environ, "AURORACTL_DSN": c.conninfo("bench")}
            (Path(tmp) / "auroractl.toml").write_text(
                f'[lgpd]\nsubject = "public.usuarios"\n[map]\nfile = "{Path(MAP).resolve()}"\n'
            )
            env.pop("AURORACTL_CONFIG", None)
            t1 = time.perf_counter()
            one = subprocess.run(
                [str(exe), "-q", "lgpd", "forget", str(first - 1), "--yes"],
                cwd=tmp,
                env=env,
                capture_output=True,
                text=True,
            )
            single_cli = time.perf_counter() - t1
            t1 = time.perf_counter()
            batch = subprocess.run(
                [
                    str(exe),
                    "-q",
                    "lgpd",
                    "forget",
                    "--from-file",
                    str(ids),
                    "--yes",
                    "--format",
                    "json",
                ],
                cwd=tmp,
                env=env,
                capture_output=True,
                text=True,
            )
            batch_s = time.perf_counter() - t1
        for proc in (one, batch):
            if proc.returncode != 0:
                raise SystemExit(f"auroractl failed ({proc.returncode}): {proc.stderr[-500:]}")
        done = conn.execute(
            "SELECT count(*) FROM auroractl.lgpd_requests WHERE status = 'completed'"
        ).fetchone()[0]
    im, ip, ix = ms(indexed)
    sm, sp, sx = ms(scanned)
    print(
        f"\nlgpd forget: {users:,} usuarios, {entries:,} audit rows "
        f"(~{entries // users} per subject), scale {args.scale}"
    )
    print(f"{'one subject, one transaction':40} {'median':>9} {'p95':>9} {'max':>9} {'target':>8}")
    print(
        f"{'audit via (table_name, row_pk) index':40} {im:7.1f}ms {ip:7.1f}ms {ix:7.1f}ms "
        f"{'< 200ms':>8} {'OK' if ip < 200 else 'MISSED'}"
    )
    print(
        f"{'baseline: audit log scanned':40} {sm:7.1f}ms {sp:7.1f}ms {sx:7.1f}ms "
        f"{'':>8} ({sm / im:.0f}x slower)"
    )
    print(f"{'CLI end to end, one id (process start)':40} {single_cli * 1000:7.1f}ms")
    print(
        f"--from-file {args.ids:,} ids (CLI, one transaction each): {batch_s:.1f}s, "
        f"{args.ids / batch_s:.0f} subjects/s; receipts completed: {done:,}"
    )


if __name__ == "__main__":
    main()
