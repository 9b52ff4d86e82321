"""Audit trigger overhead: auroractl's statement triggers vs row triggers vs no audit.

Four identical usuarios-like tables, measured side by side in one run:
  unaudited    no trigger (the baseline every ratio is against)
  row (v2)     auroractl's previous design, still the one of partitioned tables: PL/pgSQL
               row triggers (hstore diff, one INSERT per row), `audit.trigger_steps(...,
               per_row=True)`
  statement    `auroractl audit enable` on a plain table: statement triggers with
               transition tables, one INSERT ... SELECT per statement; from 64 rows the
               entries grouped (one per set of changed columns per 1,000 rows)
  grouped      the hand-written prototype auroractl's grouped entries came from, for
               this table only (every statement grouped, even of one row), into a log
               partitioned and indexed like audit.audit_log
  full image   the usual public audit trigger, as a peer: a row trigger writing
               to_jsonb(OLD) and to_jsonb(NEW) into its own log (no diff, no redaction,
               no-op UPDATEs logged: it keeps none of auroractl's guarantees)
The floor of a log of one entry per row: ROWS entries the row variant wrote for one UPDATE,
already computed, inserted into audit.audit_log again (INSERT ... SELECT from a copy):
what writing one entry per changed row costs before any trigger runs or any diff is
computed (why auroractl groups a large statement's entries).
Each variant runs a ROWS-row UPDATE of a non-personal column, a no-op UPDATE, single-row
UPDATEs (median, interleaved across the variants) and a ROWS-row INSERT. Each bulk figure
is the best of --rounds, the variants interleaved in every round. Reported: seconds (or
milliseconds) and the ratio to the unaudited table.

Usage: python bench/audit_overhead.py [--rows 100000] [--rounds 3] [--singles 400]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).parent))
from _harness import throwaway_cluster
from auroractl import runner
from auroractl.ops import audit
from auroractl.ops.sandbox import superuser_connect
from auroractl.plan import Plan
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

INSERT = """
INSERT INTO {t} (id, empresa_id, nome, email, telefone, documento_identidade)
SELECT i, 1 + i % 50, 'Usuario ' || i, 'u' || i || '@example.test', '+55 11 9' || i,
       lpad(i::text, 11, '0') FROM generate_series({first}, {last}) i
"""

# The usual public audit trigger: the whole OLD and NEW rows as JSON, per row.
PEER = """
CREATE TABLE bench_peer_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    table_name text NOT NULL, operation text NOT NULL,
    db_user text NOT NULL DEFAULT session_user, txid bigint NOT NULL DEFAULT txid_current(),
    old_row jsonb, new_row jsonb
);
CREATE INDEX ON bench_peer_log (changed_at);
ALTER TABLE bench_peer_log OWNER TO {owner};
CREATE FUNCTION bench_peer_audit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO public.bench_peer_log (table_name, operation, old_row, new_row)
    VALUES (TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP,
            CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
            CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END);
    RETURN NULL;
END $$;
CREATE TRIGGER bench_peer AFTER INSERT OR UPDATE OR DELETE ON usuarios_peer
    FOR EACH ROW EXECUTE FUNCTION bench_peer_audit();
"""

# The grouped prototype, written out for usuarios (non-personal: id, empresa_id,
# ultimo_acesso); pairs by position as audit.log_changes_sql()'s statement does.
CHANGED = """array_remove(ARRAY[{}]::text[], NULL)""".format(
    ", ".join(
        f"CASE WHEN o.{c} IS DISTINCT FROM n.{c} THEN '{c}' END"
        for c in ("id", "nome", "email", "telefone", "empresa_id", "ultimo_acesso",
                  "documento_identidade")
    )
)  # fmt: skip
VALUES = "jsonb_strip_nulls(jsonb_build_object({}))"
GROUPED = """
CREATE TABLE bench_grouped_log (
    id bigint GENERATED ALWAYS AS IDENTITY, changed_at timestamptz NOT NULL,
    table_name text NOT NULL, operation text NOT NULL, row_pk text, row_pks text[],
    app_user_id bigint, db_user text NOT NULL, client_addr inet, txid bigint NOT NULL,
    changed_columns text[], redacted_columns text[], old_values jsonb, new_values jsonb,
    PRIMARY KEY (changed_at, id)
) PARTITION BY RANGE (changed_at);
CREATE TABLE bench_grouped_log_now PARTITION OF bench_grouped_log
    FOR VALUES FROM ('2000-01-01') TO ('2100-01-01');
CREATE INDEX ON bench_grouped_log (table_name, row_pk);
CREATE INDEX ON bench_grouped_log USING gin (row_pks)
    WHERE row_pks IS NOT NULL;
ALTER TABLE bench_grouped_log OWNER TO {owner};
CREATE FUNCTION bench_grouped_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_catalog SET jit = off
SET work_mem = '64MB' AS $$
BEGIN
    INSERT INTO bench_grouped_log (table_name, operation, row_pks, changed_columns,
        redacted_columns, old_values, new_values, changed_at, db_user, client_addr, txid)
    SELECT TG_ARGV[0], 'UPDATE', g.pks, g.changed,
           NULLIF(ARRAY(SELECT c FROM unnest(g.changed) c
                         WHERE c IN ('nome', 'email', 'telefone', 'documento_identidade')), '{}'),
           {old}, {new}, clock_timestamp(), session_user, inet_client_addr(), txid_current()
      FROM (SELECT d.changed, array_agg(n.id::text) AS pks,
                   array_agg(o.id) AS o_id, array_agg(n.id) AS n_id,
                   array_agg(o.empresa_id) AS o_empresa_id, array_agg(n.empresa_id) AS n_empresa_id,
                   array_agg(o.ultimo_acesso) AS o_ultimo_acesso,
                   array_agg(n.ultimo_acesso) AS n_ultimo_acesso
              FROM (SELECT row_number() OVER () AS ord, r.* FROM auroractl_old r) o
              JOIN (SELECT row_number() OVER () AS ord, r.* FROM auroractl_new r) n USING (ord)
             CROSS JOIN LATERAL (SELECT {changed} AS changed OFFSET 0) d
             WHERE d.changed <> '{}'
             GROUP BY d.changed, (o.ord - 1) / 1000) g;
    RETURN NULL;
END $$;
CREATE FUNCTION bench_grouped_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_catalog SET jit = off
SET work_mem = '64MB' AS $$
BEGIN
    INSERT INTO bench_grouped_log (table_name, operation, row_pks, redacted_columns,
        new_values, changed_at, db_user, client_addr, txid)
    SELECT TG_ARGV[0], 'INSERT', g.pks, g.redacted,
           jsonb_build_object('id', g.id, 'empresa_id', g.empresa_id,
                              'ultimo_acesso', g.ultimo_acesso),
           clock_timestamp(), session_user, inet_client_addr(), txid_current()
      FROM (SELECT d.redacted, array_agg(r.id::text) AS pks, array_agg(r.id) AS id,
                   array_agg(r.empresa_id) AS empresa_id,
                   array_agg(r.ultimo_acesso) AS ultimo_acesso
              FROM (SELECT row_number() OVER () AS ord, r.* FROM auroractl_rows r) r
             CROSS JOIN LATERAL (SELECT NULLIF(array_remove(ARRAY[
                        CASE WHEN r.nome IS NOT NULL THEN 'nome' END,
                        CASE WHEN r.email IS NOT NULL THEN 'email' END,
                        CASE WHEN r.telefone IS NOT NULL THEN 'telefone' END,
                        CASE WHEN r.documento_identidade IS NOT NULL THEN 'documento_identidade' END
                    ]::text[], NULL), '{}') AS redacted OFFSET 0) d
             GROUP BY d.redacted, (r.ord - 1) / 1000) g;
    RETURN NULL;
END $$;
CREATE TRIGGER bench_grouped_u AFTER UPDATE ON usuarios_grouped
    REFERENCING OLD TABLE AS auroractl_old NEW TABLE AS auroractl_new
    FOR EACH STATEMENT EXECUTE FUNCTION bench_grouped_update('public.usuarios_grouped');
CREATE TRIGGER bench_grouped_i AFTER INSERT ON usuarios_grouped
    REFERENCING NEW TABLE AS auroractl_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bench_grouped_insert('public.usuarios_grouped');
""".replace("{changed}", CHANGED).replace(
    "{old}",
    VALUES.format(", ".join(
        f"'{c}', CASE WHEN '{c}' = ANY (g.changed) THEN to_jsonb(g.o_{c}) END"
        for c in ("id", "empresa_id", "ultimo_acesso")
    )),
).replace(
    "{new}",
    VALUES.format(", ".join(
        f"'{c}', CASE WHEN '{c}' = ANY (g.changed) THEN to_jsonb(g.n_{c}) END"
        for c in ("id", "empresa_id", "ultimo_acesso")
    )),
)  # fmt: skip

VARIANTS = {
    "unaudited": "usuarios_plain",
    "row (v2)": "usuarios_row",
    "statement": "usuarios_audited",
    "grouped": "usuarios_grouped",
    "full image": "usuarios_peer",
}
PII = ("nome", "email", "telefone", "documento_identidade")
# What the data map would name: audit redacts these, as on a real database.
PERSONAL = {f"public.{t}": PII for t in ("usuarios_row", "usuarios_audited")}


def timed(conn: psycopg.Connection, sql: str, params: list | None = None) -> float:
    t0 = time.perf_counter()
    conn.execute(sql, params)
    return time.perf_counter() - t0


def enable(conn: psycopg.Connection) -> None:
    """`audit enable` on usuarios_audited; usuarios_row gets the previous row triggers."""
    cfg = audit.AuditConfig(personal=PERSONAL)
    runner.apply(
        conn, audit.plan_enable(conn, cfg, ["usuarios_audited"], False), runner.Options(yes=True)
    )
    (row,) = [t for t in audit.tables(conn) if t.name == "usuarios_row"]
    steps = tuple(audit.trigger_steps(row, cfg, per_row=True))
    runner.apply(conn, Plan("bench: row triggers", "usuarios_row", steps), runner.Options(yes=True))


def bulk(conn: psycopg.Connection, rounds: int, rows: int) -> dict[str, dict[str, float]]:
    """Best of `rounds` for each bulk statement, the variants interleaved in each round."""
    out: dict[str, dict[str, float]] = {v: {} for v in VARIANTS}
    statements = {
        "update": "UPDATE {t} SET ultimo_acesso = clock_timestamp()",
        "no-op": "UPDATE {t} SET nome = nome",
    }
    for r in range(rounds):
        for key, sql in statements.items():
            for v, t in VARIANTS.items():
                took = timed(conn, sql.format(t=t))
                out[v][key] = min(out[v].get(key, took), took)
                conn.execute(f"VACUUM {t}")
        first = rows * (r + 1) + 1
        for v, t in VARIANTS.items():
            took = timed(conn, INSERT.format(t=t, first=first, last=first + rows - 1))
            out[v]["insert"] = min(out[v].get("insert", took), took)
            conn.execute(f"VACUUM ANALYZE {t}")
    return out


LOG_COLUMNS = (
    "table_name, operation, row_pk, app_user_id, changed_columns, redacted_columns, "
    "old_values, new_values, changed_at, db_user, client_addr, txid"
)


def floor(conn: psycopg.Connection, rounds: int, rows: int) -> float:
    """Best of `rounds`: one UPDATE's worth of the row variant's entries, re-inserted."""
    conn.execute(
        f"CREATE TEMP TABLE staged AS SELECT {LOG_COLUMNS} FROM audit.audit_log "
        "WHERE table_name = 'public.usuarios_row' AND operation = 'UPDATE' LIMIT %s",
        [rows],
    )
    sql = f"INSERT INTO audit.audit_log ({LOG_COLUMNS}) SELECT {LOG_COLUMNS} FROM staged"
    return min(timed(conn, sql) for _ in range(rounds))


def singles(conn: psycopg.Connection, n: int, rows: int) -> dict[str, float]:
    """Median of n single-row UPDATEs per variant, interleaved (the same ids for each)."""
    samples: dict[str, list[float]] = {v: [] for v in VARIANTS}
    rng = random.Random(17)
    sql = {
        v: f"UPDATE {t} SET ultimo_acesso = clock_timestamp() WHERE id = %s"
        for v, t in VARIANTS.items()
    }
    for v in VARIANTS:  # warm up each session's plans
        for i in range(20):
            conn.execute(sql[v], [i + 1])
    for _ in range(n):
        pk = rng.randint(1, rows)
        for v in rng.sample(list(VARIANTS), len(VARIANTS)):
            samples[v].append(timed(conn, sql[v], [pk]))
    return {v: statistics.median(s) for v, s in samples.items()}


def report(
    args: argparse.Namespace, res: dict, single: dict, counts: dict, log_floor: float
) -> None:
    names = list(VARIANTS)
    head = f"{'':34}" + "".join(f"{n:>12} {'':>6}" for n in names)
    print(f"\n{args.rows:,} rows, best of {args.rounds} rounds; ratio = vs unaudited")
    print(head)
    rows = (
        (f"UPDATE of {args.rows:,} rows", "update", 1, "s"),
        ("no-op UPDATE (SET nome = nome)", "no-op", 1, "s"),
        (f"INSERT of {args.rows:,} rows", "insert", 1, "s"),
    )
    for label, key, scale, unit in rows:
        base = res["unaudited"][key]
        cells = "".join(
            f"{res[n][key] * scale:11.2f}{unit} {res[n][key] / base:5.2f}x" for n in names
        )
        print(f"{label:34}{cells}")
    base = single["unaudited"]
    cells = "".join(f"{single[n] * 1000:10.3f}ms {single[n] / base:5.2f}x" for n in names)
    print(f"{f'single-row UPDATE, median of {args.singles}':34}{cells}")
    base = res["unaudited"]["update"]
    print(
        f"\nfloor of one entry per row: {args.rows:,} computed entries inserted into "
        f"audit.audit_log {log_floor:.2f}s = {log_floor / base:.2f}x the unaudited UPDATE"
    )
    print("log entries written: " + ", ".join(f"{n} {c:,}" for n, c in counts.items()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--singles", type=int, default=400)
    args = ap.parse_args()
    with throwaway_cluster() as c, superuser_connect(c, "bench") as su:
        for t in VARIANTS.values():
            su.execute(DDL.format(t=t, rows=args.rows, owner=ADMIN_ROLE))
            su.execute(f"VACUUM ANALYZE {t}")
        su.execute(PEER.format(owner=ADMIN_ROLE))
        su.execute(GROUPED.replace("{owner}", ADMIN_ROLE))
        with psycopg.connect(c.conninfo("bench"), autocommit=True) as conn:
            enable(conn)
            res = bulk(conn, args.rounds, args.rows)
            single = singles(conn, args.singles, args.rows)
            log_floor = floor(conn, args.rounds, args.rows)
            counts = dict(
                conn.execute(
                    "SELECT table_name, count(*) FROM audit.audit_log GROUP BY 1 "
                    "UNION ALL SELECT table_name, count(*) FROM bench_peer_log GROUP BY 1 "
                    "UNION ALL SELECT table_name, count(*) FROM bench_grouped_log GROUP BY 1"
                ).fetchall()
            )
    report(args, res, single, counts, log_floor)


if __name__ == "__main__":
    main()
