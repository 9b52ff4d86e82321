"""A ROWS-row UPDATE on an audited table vs the same UPDATE on an unaudited twin.

Two identical usuarios-like tables; `auroractl audit enable` (row + TRUNCATE triggers,
personal columns redacted) on one. Each table gets the same full-table UPDATE of a
non-personal column (the audit log stores only the changed column), then a no-op
UPDATE (skipped by the trigger's WHEN clause). Reported: seconds and the ratio.

Usage: python bench/audit_overhead.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from _harness import throwaway_cluster
from auroractl import runner
from auroractl.ops import audit
from auroractl.ops.sandbox import superuser_connect
from auroractl.sandbox import ADMIN_ROLE

DDL = """
CREATE TABLE {t} (
    id integer PRIMARY KEY, empresa_id integer NOT NULL, nome text NOT NULL,
    email text NOT NULL, telefone text, documento_identidade text, ultimo_acesso timestamptz
);
INSERT INTO {t} (id, empresa_id, nome, email, telefone, documento_identidade)
SELECT i, 1 + i % 50, 'Usuario ' || i, 'u' || i || '@example.test', '+55 11 9' || i,
       lpad(i::text, 11, '0') FROM generate_series(1, {rows}) i;
ALTER TABLE {t} OWNER TO {owner};
"""


# What the data map would name: audit redacts these, as on a real database.
PERSONAL = {"public.usuarios_audited": ("nome", "email", "telefone", "documento_identidade")}


def timed(conn: psycopg.Connection, sql: str) -> float:
    t0 = time.perf_counter()
    conn.execute(sql)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    args = ap.parse_args()
    with throwaway_cluster() as c, superuser_connect(c, "bench") as su:
        for t in ("usuarios_audited", "usuarios_plain"):
            su.execute(DDL.format(t=t, rows=args.rows, owner=ADMIN_ROLE))
            su.execute(f"VACUUM ANALYZE {t}")
        with psycopg.connect(c.conninfo("bench"), autocommit=True) as conn:
            # One change: the log, its first months and the triggers.
            plan = audit.plan_enable(
                conn, audit.AuditConfig(personal=PERSONAL), ["usuarios_audited"], False
            )
            runner.apply(conn, plan, runner.Options(yes=True))
            results = {}
            for t in ("usuarios_plain", "usuarios_audited"):
                results[t] = (
                    timed(conn, f"UPDATE {t} SET ultimo_acesso = now()"),
                    timed(conn, f"UPDATE {t} SET nome = nome"),
                )
                conn.execute(f"VACUUM {t}")
            size = conn.execute(
                "SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) "
                "FROM pg_inherits WHERE inhparent = 'audit.audit_log'::regclass"
            ).fetchone()[0]
            entries = conn.execute("SELECT count(*) FROM audit.audit_log").fetchone()[0]
    plain, audited = results["usuarios_plain"], results["usuarios_audited"]
    print(
        f"\n{'UPDATE of ' + format(args.rows, ',') + ' rows':32} {'unaudited':>10} "
        f"{'audited':>10} {'ratio':>7}"
    )
    print(
        f"{'SET ultimo_acesso = now()':32} {plain[0]:9.2f}s {audited[0]:9.2f}s "
        f"{audited[0] / plain[0]:6.2f}x"
    )
    print(
        f"{'SET nome = nome (no-op)':32} {plain[1]:9.2f}s {audited[1]:9.2f}s "
        f"{audited[1] / plain[1]:6.2f}x"
    )
    print(f"\naudit entries written: {entries:,} (no-op UPDATE: none); log size {size}")


if __name__ == "__main__":
    main()
