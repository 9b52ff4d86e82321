"""auroractl partition migrate: a referenced table under a writer, and fill vs pg_partman.

Scenario ``referenced`` (the default): a PARENTS-row table ``r.contas`` referenced by
foreign key from a CHILDREN-row table ``r.lancamentos`` (by id alone: after cleanup the
key is enforced by constraint triggers) is partitioned by year with the real CLI (prep,
fill --jobs 2, verify, swap, verify, cleanup) while a writer (its own connection) keeps
updating and deleting referenced rows (children first, as an application does) and
inserting referencing ones, and now and then tries a row referencing a missing key
(which must be rejected). The same run copies an identical table with one
``INSERT INTO twin SELECT *`` for the baseline fill rate. Reported: fill rate against it,
the writer's p99 and worst latency per step, the swap's transaction, the time cleanup
took to validate the foreign keys, the application errors (goal 0) and the missing keys
accepted (goal 0).

  python bench/partition_migrate.py                      # 1M parents, 2M children
  python bench/partition_migrate.py --parents 5000000 --children 10000000   # full size

Scenario ``partman``: fill vs a single INSERT ... SELECT vs pg_partman 4.7.

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

Usage: python bench/partition_migrate.py --scenario partman [--rows 1000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import threading
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
    ap.add_argument("--scenario", choices=("referenced", "partman"), default="referenced")
    ap.add_argument("--rows", type=int, default=1_000_000, help="partman: rows per table")
    ap.add_argument("--parents", type=int, default=1_000_000, help="referenced table rows")
    ap.add_argument("--children", type=int, default=2_000_000, help="referencing table rows")
    args = ap.parse_args()
    if args.scenario == "referenced":
        referenced(args.parents, args.children)
    else:
        partman(args.rows)


def partman(rows: int) -> None:
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


# ---------------------------------------------------------------- scenario: referenced

REFERENCED_DDL = """
CREATE SCHEMA {s};
CREATE TABLE {s}.contas (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, empresa_id integer NOT NULL,
    criado date NOT NULL, saldo numeric(12,2) NOT NULL DEFAULT 0, nota text
);
"""
REFERENCED_LOAD = """
INSERT INTO {s}.contas (id, empresa_id, criado, saldo, nota)
OVERRIDING SYSTEM VALUE
SELECT i, 1 + i % 50, date '2019-01-01' + (i % 2920), i % 1000, 'conta ' || i
FROM generate_series(1, {rows}) AS i;
SELECT setval(pg_get_serial_sequence('{s}.contas', 'id'), {rows});
"""
CHILDREN_DDL = """
CREATE TABLE r.lancamentos (
    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    conta_id bigint NOT NULL REFERENCES r.contas (id),
    valor numeric(12,2) NOT NULL, feito timestamptz NOT NULL DEFAULT now()
);
"""
# every conta with id % 10 = 0 has no lancamento yet: the writer may delete those directly
CHILDREN_LOAD = """
INSERT INTO r.lancamentos (conta_id, valor)
SELECT c, g % 100
FROM generate_series(1, {children}) AS g,
     LATERAL (SELECT 1 + (g::bigint * 7919) % {parents} AS raw) AS x,
     LATERAL (SELECT CASE WHEN raw % 10 = 0 THEN raw - 1 ELSE raw END AS c) AS y;
CREATE INDEX ON r.lancamentos (conta_id);
"""


class AppWriter(threading.Thread):
    """The application on its own connection: per transaction it updates a conta, inserts a
    lancamento of a conta, or deletes a conta with its lancamentos (children first); every
    20th transaction tries a lancamento of a missing conta, which must be rejected.
    Records each transaction's latency and every error."""

    def __init__(self, dsn: str, parents: int) -> None:
        super().__init__(daemon=True)
        self.dsn, self.parents = dsn, parents
        self.rng = random.Random(11)
        self.samples: list[tuple[float, float]] = []
        self.errors: list[str] = []
        self.rejected = self.accepted = 0
        self._halt = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as c:
            c.execute("SET lock_timeout = '30s'")
            i = 0
            while not self._halt.is_set():
                i += 1
                t0 = time.monotonic()
                try:
                    with c.transaction():
                        self.step(c, i)
                except psycopg.Error as exc:
                    self.errors.append(" ".join(str(exc).split())[:160])
                self.samples.append((t0, time.monotonic() - t0))
                time.sleep(0.002)

    def step(self, c: psycopg.Connection, i: int) -> None:
        conta = self.rng.randint(1, self.parents)
        if i % 20 == 0:
            try:
                with c.transaction():
                    c.execute("INSERT INTO r.lancamentos (conta_id, valor) VALUES (-1, 1)")
                self.accepted += 1
            except psycopg.errors.ForeignKeyViolation:
                self.rejected += 1
        elif i % 20 < 9:
            c.execute("UPDATE r.contas SET saldo = saldo + 1 WHERE id = %s", [conta])
        elif i % 20 < 17:
            c.execute(
                "INSERT INTO r.lancamentos (conta_id, valor) "
                "SELECT id, 1 FROM r.contas WHERE id = %s",
                [conta],
            )
        else:
            c.execute("DELETE FROM r.lancamentos WHERE conta_id = %s", [conta])
            c.execute("DELETE FROM r.contas WHERE id = %s", [conta])

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=120)

    def window(self, start: float, end: float) -> list[float]:
        return sorted(lat for t0, lat in self.samples if t0 + lat >= start and t0 <= end)

    def figures(self, start: float, end: float) -> tuple[float, float, int]:
        w = self.window(start, end)
        p99 = w[min(len(w) - 1, int(len(w) * 0.99))] if w else 0.0
        return p99, (w[-1] if w else 0.0), len(w)


def referenced(parents: int, children: int) -> None:
    started = time.monotonic()
    with throwaway_cluster() as c, superuser_connect(c, "bench") as su:
        dsn = c.conninfo("bench", user="postgres")
        env = {**os.environ, "AURORACTL_DSN": dsn, "AURORACTL_LOCK_TIMEOUT": "500ms",
               "AURORACTL_LOCK_RETRIES": "20"}  # fmt: skip
        for s in ("r", "i"):
            su.execute(REFERENCED_DDL.format(s=s))
            su.execute(REFERENCED_LOAD.format(s=s, rows=parents))
        su.execute(CHILDREN_DDL)
        su.execute(CHILDREN_LOAD.format(children=children, parents=parents))
        for s in ("r", "i"):
            su.execute(f"VACUUM ANALYZE {s}.contas")
        su.execute("VACUUM ANALYZE r.lancamentos")
        su.execute("CHECKPOINT")
        loaded = time.monotonic() - started
        print(
            f"{parents:,} contas referenced by {children:,} lancamentos (+ an identical "
            f"contas for INSERT ... SELECT), loaded in {loaded:.0f}s",
            file=sys.stderr,
        )
        prep = ("partition", "migrate", "prep", "--column", "criado", "--by", "year", "--yes")
        cli(env, *prep[:3], "i.contas", *prep[3:])
        su.execute("DROP TRIGGER auroractl_pm_mirror ON i.contas")  # the physical limit
        t0 = time.monotonic()
        su.execute("INSERT INTO i.contas_partitioned SELECT * FROM i.contas")
        insert_select = time.monotonic() - t0
        su.execute("CHECKPOINT")

        writer = AppWriter(dsn, parents)
        writer.start()
        time.sleep(1.0)
        steps: dict[str, tuple[float, float, dict | None]] = {}

        def step(name: str, *args: str) -> dict | None:
            t = time.monotonic()
            out = cli(env, *args)
            doc = json.loads(out.stdout) if "--format" in args else None
            steps[name] = (t, time.monotonic(), doc)
            return doc

        m = ("partition", "migrate")
        step("prep", *m, "prep", "r.contas", *prep[3:])
        step("fill --jobs 2", *m, "fill", "r.contas", "--jobs", "2", "--yes", "--format", "json")
        step("verify", *m, "verify", "r.contas", "--format", "json")
        step("swap", *m, "swap", "r.contas", "--yes", "--format", "json")
        time.sleep(1.0)
        step("verify after swap", *m, "verify", "r.contas", "--format", "json")
        step("cleanup", *m, "cleanup", "r.contas", "--yes", "--format", "json")
        time.sleep(1.0)
        writer.stop()
        orphans = su.execute(
            "SELECT count(*) FROM r.lancamentos l "
            "WHERE NOT EXISTS (SELECT FROM r.contas c WHERE c.id = l.conta_id)"
        ).fetchone()[0]
        kind = su.execute("SELECT relkind FROM pg_class WHERE oid = 'r.contas'::regclass")
        partitioned = kind.fetchone()[0] == "p"
    _report_referenced(
        parents, children, insert_select, steps, writer, orphans, partitioned,
        time.monotonic() - started,
    )  # fmt: skip


def _report_referenced(  # type: ignore[no-untyped-def]
    parents, children, insert_select, steps, writer, orphans, partitioned, total
) -> None:
    fill_t0, fill_t1, _ = steps["fill --jobs 2"]
    fill_rate = parents / (fill_t1 - fill_t0)
    base_rate = parents / insert_select
    print(f"\n{parents:,} referenced rows, {children:,} referencing rows, writer running")
    print(f"\n{'fill':42} {'seconds':>8} {'rows/s':>10} {'vs INSERT':>10}")
    base = "INSERT INTO twin SELECT * (1 statement)"
    print(f"{base:42} {insert_select:8.1f} {base_rate:10,.0f} {1:9.0%}")
    print(
        f"{'auroractl migrate fill --jobs 2':42} {fill_t1 - fill_t0:8.1f} {fill_rate:10,.0f} "
        f"{fill_rate / base_rate:9.0%}"
    )
    print(f"\n{'step (real CLI)':24} {'seconds':>8} {'writer p99':>11} {'worst':>10} {'txns':>7}")
    for name, (t0, t1, _) in steps.items():
        p99, worst, n = writer.figures(t0, t1)
        print(f"{name:24} {t1 - t0:8.1f} {p99 * 1000:9.1f}ms {worst * 1000:8.1f}ms {n:7d}")
    swap = steps["swap"][2] or {}
    cleanup = steps["cleanup"][2] or {}
    fks = (cleanup.get("result") or {}).get("foreign_keys", [])
    print(
        f"\nswap transaction: {swap.get('duration_s', 0):.3f}s (goal < 1 s), lock retries "
        f"{swap.get('lock_retries')}"
    )
    for fk in fks:
        what = f"{fk['label']} ({fk['kind']})"
        print(f"foreign key validated after cleanup: {what} {fk['seconds']:.1f}s")
    print(f"cleanup as a whole (its transaction + validation): {cleanup.get('duration_s', 0):.1f}s")
    verified = [steps[k][2]["ok"] for k in ("verify", "verify after swap")]
    print(f"verify before / after swap: {verified}; table partitioned: {partitioned}")
    print(
        f"application errors: {len(writer.errors)} (goal 0); missing keys rejected "
        f"{writer.rejected}, accepted {writer.accepted} (goal 0); orphans after: {orphans}"
    )
    for e in sorted(set(writer.errors))[:5]:
        print(f"    writer error: {e}")
    print(f"total run: {total:.0f}s")


if __name__ == "__main__":
    main()
