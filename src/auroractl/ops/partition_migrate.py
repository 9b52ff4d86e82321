"""Online partitioning of a live table: prep, fill, verify, swap, unswap, cleanup.

``prep`` builds a partitioned twin (columns, defaults, CHECK/NOT NULL, foreign keys,
indexes, grants, policies, comments) and a mirror trigger on the original that applies
every INSERT/UPDATE/DELETE to the twin (DELETE by key + upsert, so it is idempotent
against rows ``fill`` copied). ``fill`` copies existing rows in keyset batches, each its
own short transaction committing its watermark in ``auroractl.migrations_partition_chunks``.
``swap`` renames in one short transaction and leaves a reverse mirror (new -> retired),
so ``unswap`` loses nothing. ``cleanup`` drops the retired table after a passing verify.

Catalog reading lives in ``partition_migrate_catalog``; this module plans and runs.
"""

from __future__ import annotations

import itertools
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import InvalidInput, Precondition
from auroractl.ops import partition_migrate_catalog as cat
from auroractl.ops.partition_migrate_catalog import Migration, Source, qualify
from auroractl.ops.shared import state
from auroractl.plan import Plan, Step

if TYPE_CHECKING:
    import psycopg

T = "partition_migrate/"
FORWARD_TRIGGER = "auroractl_pm_mirror"
REVERSE_TRIGGER = "auroractl_pm_reverse"
MAX_PARTITIONS = 400
BY_CHOICES = ("year", "month", "tenant")


def _render(template: str, /, **ctx: Any) -> str:
    return templates.render(T + template, **ctx)


def _name(base: str, suffix: str) -> str:
    """``base`` + ``suffix`` within PostgreSQL's 63-byte identifier limit."""
    room = 63 - len(suffix.encode())
    raw = base.encode()[:room].decode(errors="ignore")
    return raw + suffix


def function_names(schema: str, table: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """The forward and reverse mirror functions of one migration (in schema auroractl)."""
    import hashlib

    tag = hashlib.sha256(f"{schema}.{table}".encode()).hexdigest()[:12]
    return (cat.STATE_SCHEMA, f"pm_{tag}_forward"), (cat.STATE_SCHEMA, f"pm_{tag}_reverse")


# ---------------------------------------------------------------- prep


@dataclass(frozen=True)
class PartitionSpec:
    name: str
    kind: str  # range | list | hash | default
    lower: Any = None
    upper: Any = None
    value: Any = None
    modulus: int = 0
    remainder: int = 0

    def bound(self) -> str:
        if self.kind == "default":
            return "DEFAULT"
        if self.kind == "range":
            return f"FROM ({self.lower}) TO ({self.upper})"
        if self.kind == "list":
            return f"IN ({self.value})"
        return f"WITH (MODULUS {self.modulus}, REMAINDER {self.remainder})"


@dataclass(frozen=True)
class PrepReport:
    table: str
    twin: str
    strategy: str
    column: str
    primary_key: tuple[str, ...]
    twin_primary_key: tuple[str, ...]
    partitions: tuple[str, ...]
    cannot_carry: tuple[str, ...] = ()
    foreign_keys_in: tuple[str, ...] = ()
    dependents: tuple[str, ...] = ()
    already_prepared: bool = False


def check_prep_args(by: str, hash_partitions: int | None) -> None:
    if by not in BY_CHOICES:
        raise InvalidInput(f"--by {by!r} must be one of {', '.join(BY_CHOICES)}")
    if hash_partitions is not None:
        if by != "tenant":
            raise InvalidInput("--hash-partitions goes with --by tenant")
        if not 2 <= hash_partitions <= 256:
            raise InvalidInput(f"--hash-partitions {hash_partitions} is out of range (2-256)")


def plan_prep(
    conn: psycopg.Connection,
    table: str,
    *,
    by: str = "year",
    column: str | None = None,
    hash_partitions: int | None = None,
) -> tuple[Plan, PrepReport]:
    check_prep_args(by, hash_partitions)
    column = column or ("empresa_id" if by == "tenant" else "data_inicio")
    src = cat.source(conn, table)
    command = f"partition migrate prep {src.label} --by {by} --column {column}" + (
        f" --hash-partitions {hash_partitions}" if hash_partitions else ""
    )
    existing = cat.find(conn, table, required=False)
    if existing is not None and existing.phase != "done":
        report = PrepReport(
            existing.label,
            f"{existing.schema}.{existing.twin}",
            existing.strategy,
            existing.key_column,
            existing.pk,
            existing.twin_pk,
            (),
            already_prepared=True,
        )
        return Plan(command, f"{existing.label} is already being migrated: nothing to do"), report
    if src.relkind == "p":
        raise Precondition(f'"{src.label}" is already partitioned')
    if src.relkind != "r":
        raise Precondition(f'"{src.label}" is not a table')
    if not src.pk:
        raise Precondition(
            f'"{src.label}" has no primary key: fill copies in primary-key order and the '
            "mirror matches rows by key"
        )
    if src.rls_forced:
        from auroractl.ops.shared.session import MAINTENANCE_POLICY

        if not any(p["policy"] == MAINTENANCE_POLICY for p in cat.policies(conn, src.oid)):
            raise Precondition(
                f'"{src.label}" forces row-level security on its owner and has no '
                f"{MAINTENANCE_POLICY} policy: fill and verify would see only some rows",
                hint="run: auroractl rls enable (it adds the owner's maintenance policy)",
            )
    col = src.column(column)
    if col is None:
        raise InvalidInput(f'column "{column}" of "{src.label}" does not exist')
    if col.generated:
        raise Precondition(f'"{column}" is a generated column: it cannot be the partition key')
    if by in ("year", "month") and col.type not in cat.TEMPORAL_TYPES:
        raise InvalidInput(f'--by {by} needs a date/timestamp column; "{column}" is {col.type}')
    strategy = "range" if by in ("year", "month") else ("hash" if hash_partitions else "list")
    if strategy == "list" and col.type not in (*cat.INTEGER_TYPES, "text", "character varying"):
        raise InvalidInput(f'--by tenant needs an integer or text column; "{column}" is {col.type}')

    twin = _name(src.name, "_partitioned")
    retired = _name(src.name, "_retired")
    for taken in (twin, retired):
        if cat.exists(conn, (src.schema, taken)):
            raise Precondition(f'"{src.schema}.{taken}" already exists')
    lo, hi, nulls = conn.execute(
        _render("bounds.sql.j2", table=src.qualified, column=column)
    ).fetchone()
    if nulls:
        raise Precondition(
            f'{nulls:,} row(s) of "{src.label}" have {column} NULL: the partition key becomes '
            "part of the primary key (NOT NULL)"
        )
    parts = _partitions(conn, src, strategy, by, column, lo, hi, hash_partitions)
    for p in parts:
        if cat.exists(conn, (src.schema, p.name)):
            raise Precondition(f'partition name "{src.schema}.{p.name}" is already taken')

    twin_q = (src.schema, twin)
    twin_pk = src.pk if column in src.pk else (*src.pk, column)
    notes: list[str] = []
    cannot: list[str] = []
    if column not in src.pk:
        cannot.append(
            f"primary key ({', '.join(src.pk)}) must include the partition key: it becomes "
            f"({', '.join(twin_pk)}); uniqueness of ({', '.join(src.pk)}) alone is still "
            "enforced by the original until the swap, not after it"
        )
    steps: list[Step] = []

    def add(sql: str, comment: str = "", params: Any = None, locks: tuple[str, ...] = ()) -> None:
        steps.append(Step(sql, params, comment=comment, locks=locks, txn="prep"))

    steps.extend(state.plan_steps(conn, txn="prep"))  # auroractl.migrations_partition
    add(
        _render(
            "create_twin.sql.j2",
            twin=twin_q,
            table=src.qualified,
            strategy=strategy,
            column=column,
        ),
        f"partitioned twin {src.schema}.{twin}",
    )
    for p in parts:
        add(
            _render(
                "create_partition.sql.j2",
                partition=(src.schema, p.name),
                parent=twin_q,
                kind=p.kind,
                lower=p.lower,
                upper=p.upper,
                value=p.value,
                modulus=p.modulus,
                remainder=p.remainder,
            )
        )
    for ix in cat.indexes(conn, src.oid):
        name = _name(ix.name, "_pm")
        if ix.primary:
            add(
                _render(
                    "add_primary_key.sql.j2", table=twin_q, constraint=name, columns=list(twin_pk)
                ),
                "primary key with the partition key",
            )
            continue
        unique = ix.unique and ix.columns is not None and column in ix.columns
        if ix.unique and not unique:
            cannot.append(
                f"unique index {ix.name} does not contain {column}: a partitioned table cannot "
                "enforce it, so the twin gets it as a plain index"
            )
        add(
            _render(
                "create_index.sql.j2",
                index=name,
                table=twin_q,
                unique=unique,
                index_tail=ix.tail,
            ),
            f"like {ix.name}",
        )
        if ix.comment:
            add(_render("comment_index.sql.j2", index=(src.schema, name), comment=ix.comment))
    for name, definition in conn.execute(
        templates.load("partition/foreign_keys.sql"), {"oid": src.oid}
    ):
        add(
            _render("add_constraint.sql.j2", table=twin_q, name=name, constraint_def=definition),
            f"foreign key {name}",
        )
    if src.comment:
        add(_render("comment_table.sql.j2", table=twin_q, comment=src.comment))
    for role, privilege, grantable in cat.grants(conn, src.oid):
        add(
            _render(
                "grant.sql.j2", privilege=privilege, table=twin_q, role=role, grantable=grantable
            )
        )
    for pol in cat.policies(conn, src.oid):
        add(_render("create_policy.sql.j2", table=twin_q, **pol))
    if src.rls_enabled:
        add(_render("rls.sql.j2", table=twin_q, action="enable"), "ENABLE now, FORCE at swap")
    forward, _ = function_names(src.schema, src.name)
    columns = [c.name for c in src.columns if not c.generated]
    add(
        _render(
            "mirror_function.sql.j2",
            function=forward,
            target=twin_q,
            columns=columns,
            match=list(twin_pk),
            conflict=list(twin_pk),
            update_columns=[c for c in columns if c not in twin_pk],
        ),
        "mirror function: DELETE by key + upsert into the twin",
    )
    add(
        _render(
            "create_trigger.sql.j2", trigger=FORWARD_TRIGGER, table=src.qualified, function=forward
        ),
        f"mirror every change of {src.label} into the twin from here on",
        locks=(src.label,),
    )
    add(
        templates.load(T + "state_insert.sql"),
        "record the migration",
        {
            "schema": src.schema,
            "table": src.name,
            "twin": twin,
            "retired": retired,
            "strategy": strategy,
            "by_period": by if not hash_partitions else "hash",
            "key_column": column,
            "pk": list(src.pk),
            "twin_pk": list(twin_pk),
            "columns": columns,
            "rls_forced": src.rls_forced,
        },
    )

    fks_in = []
    for schema, rel, conname, definition in conn.execute(
        templates.load(T + "referencing_fks.sql"), {"oid": src.oid}
    ):
        fks_in.append(
            f"{schema}.{rel}.{conname} ({definition}): a foreign key cannot reference a "
            f"partitioned table by ({', '.join(src.pk)}) alone. Plan: it keeps pointing at "
            f"{src.schema}.{retired} after the swap (kept complete by the reverse mirror, so it "
            "is still enforced); cleanup drops it — enforce it in the application, or add "
            f"{column} to {rel} and reference ({', '.join(twin_pk)})"
        )
    deps = []
    for _, schema, rel, kind, _ in cat.dependents(conn, src.oid):
        if kind == "v":
            deps.append(f"view {schema}.{rel}: re-created on the new table at swap")
        else:
            deps.append(
                f"materialized view {schema}.{rel}: keeps reading {src.schema}.{retired} (kept "
                "current by the reverse mirror) after swap; cleanup re-creates it on the new table"
            )
    for c in src.columns:
        if c.identity:
            notes.append(
                f"identity column {c.name}: PostgreSQL 15 partitioned tables have no identity; "
                "after the swap it defaults to nextval() of the same sequence"
            )
    notes.append(
        "triggers and FORCE ROW LEVEL SECURITY are carried at swap time (so mirrored and "
        "copied rows do not fire audit triggers twice); TRUNCATE is not mirrored"
    )
    report = PrepReport(
        src.label,
        f"{src.schema}.{twin}",
        strategy,
        column,
        src.pk,
        twin_pk,
        tuple(f"{p.name} {p.bound()}" for p in parts),
        tuple(cannot),
        tuple(fks_in),
        tuple(deps),
    )
    summary = (
        f"partitioned twin {src.schema}.{twin} of {src.label} ({strategy} on {column}, "
        f"{len(parts)} partitions) + mirror trigger"
    )
    return Plan(command, summary, tuple(steps), tuple(cannot + fks_in + deps + notes)), report


def _partitions(
    conn: psycopg.Connection,
    src: Source,
    strategy: str,
    by: str,
    column: str,
    lo: Any,
    hi: Any,
    hash_partitions: int | None,
) -> list[PartitionSpec]:
    from auroractl.ops.partition import add_period, as_date, period_start

    default = PartitionSpec(_name(src.name, "_default"), "default")
    if strategy == "hash":
        n = hash_partitions or 0
        return [
            PartitionSpec(_name(src.name, f"_h{i}"), "hash", modulus=n, remainder=i)
            for i in range(n)
        ]
    if strategy == "list":
        values = [
            r[0]
            for r in conn.execute(
                _render("distinct_values.sql.j2", table=src.qualified, column=column)
            )
        ]
        if len(values) > MAX_PARTITIONS:
            raise Precondition(
                f"{len(values)} distinct {column} values: more than {MAX_PARTITIONS} LIST "
                "partitions; use --hash-partitions"
            )
        return [
            PartitionSpec(_name(src.name, f"_empresa_{v}"), "list", value=v) for v in values
        ] + [default]
    today = conn.execute("SELECT current_date").fetchone()[0]
    first = period_start(as_date(lo) or today, by)
    last = period_start(max(as_date(hi) or today, today), by)
    end = add_period(last, by, 2)  # the current period and the next one are covered
    parts: list[PartitionSpec] = []
    start = first
    while start < end:
        if len(parts) >= MAX_PARTITIONS:
            raise Precondition(f"more than {MAX_PARTITIONS} partitions by {by}: use a coarser --by")
        suffix = f"_{start.year}" if by == "year" else f"_{start.year}_{start.month:02d}"
        parts.append(PartitionSpec(_name(src.name, suffix), "range", start, add_period(start, by)))
        start = add_period(start, by)
    return [*parts, default]


# ---------------------------------------------------------------- fill


@dataclass(frozen=True)
class FillResult:
    table: str
    twin: str
    rows_read: int
    rows_copied: int
    batches: int
    chunks: int
    seconds: float
    resumed: bool

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds else 0.0


def check_batching(batch_size: int, sleep_ms: int, jobs: int) -> None:
    if not 1 <= batch_size <= 100_000:
        raise InvalidInput(f"--batch-size {batch_size} is out of range (1-100000)")
    if not 0 <= sleep_ms <= 60_000:
        raise InvalidInput(f"--sleep-ms {sleep_ms} is out of range (0-60000)")
    if not 1 <= jobs <= 32:
        raise InvalidInput(f"--jobs {jobs} is out of range (1-32)")


def _placeholders(prefix: str, n: int) -> list[str]:
    return [f"%({prefix}{i})s" for i in range(n)]


def _key_params(prefix: str, values: list[str] | None) -> dict[str, str]:
    return {f"{prefix}{i}": v for i, v in enumerate(values or [])}


def describe_fill(m: Migration, batch_size: int, jobs: int) -> Plan:
    """What the batch loop runs, for --dry-run / confirmation / the ledger."""
    sql = _batch_sql(m, True, True)
    return Plan(
        f"partition migrate fill {m.label} --batch-size {batch_size} --jobs {jobs}",
        f"copy {m.label} into {m.schema}.{m.twin} in keyset batches of {batch_size:,} "
        f"({jobs} job(s)), each batch and its watermark one transaction",
        (Step(sql, comment="repeated per batch, each its own transaction"),),
    )


def _batch_sql(m: Migration, lower: bool, upper: bool) -> str:
    n = len(m.pk)
    return _render(
        "fill_batch.sql.j2",
        table=m.source_q,
        twin=m.twin_q,
        columns=list(m.columns),
        pk=list(m.pk),
        lower=_placeholders("l", n) if lower else [],
        upper=_placeholders("u", n) if upper else [],
        ph={"limit": "%(limit)s"},
    )


def boundaries(conn: psycopg.Connection, m: Migration, table: tuple[str, str], parts: int) -> list:
    """Primary keys splitting ``table`` into about ``parts`` equal key ranges."""
    if parts <= 1:
        return []
    est = cat.estimate(conn, table)
    step = max(1, math.ceil(est / parts))
    rows = conn.execute(
        _render("boundaries.sql.j2", table=table, pk=list(m.pk), ph={"step": "%(step)s"}),
        {"step": step},
    ).fetchall()
    return [r[0] for r in rows][: parts - 1]


def fill(
    connect: Callable[[], psycopg.Connection],
    table: str,
    *,
    batch_size: int = 5000,
    sleep_ms: int = 0,
    jobs: int = 1,
    on_progress: Callable[[int], None] = lambda n: None,
    on_start: Callable[[int], None] = lambda total: None,
) -> FillResult:
    """Copy every row into the twin; safe to kill at any point and run again."""
    import psycopg

    from auroractl.ops.shared.session import maintenance

    check_batching(batch_size, sleep_ms, jobs)
    started = time.monotonic()
    key = {}
    with connect() as conn, maintenance(conn):
        m = cat.find(conn, table)
        if m.phase != "prepped":
            raise Precondition(f"{m.label} is {m.phase}: fill runs between prep and swap")
        key = {"schema": m.schema, "table": m.table}
        chunks = cat.chunks(conn, m)
        resumed = bool(chunks)
        if not chunks:
            bounds = boundaries(conn, m, m.source_q, jobs)
            edges = [None, *bounds, None]
            with conn.transaction():
                for i in range(len(edges) - 1):
                    conn.execute(
                        templates.load(T + "chunk_insert.sql"),
                        {**key, "chunk": i, "lower": edges[i], "upper": edges[i + 1]},
                    )
            chunks = cat.chunks(conn, m)
        total = max(0, cat.estimate(conn, m.source_q) - sum(c["copied"] for c in chunks))
        on_start(total)
    todo = [c for c in chunks if not c["done"]]
    totals = {"read": 0, "copied": 0, "batches": 0}
    lock = threading.Lock()
    errors: list[BaseException] = []
    progress_sql = templates.load(T + "chunk_progress.sql")

    def worker(chunk: dict) -> None:
        try:
            with connect() as conn, maintenance(conn):
                conn.execute("SET synchronous_commit = off")
                after = chunk["watermark"] or chunk["lower"]
                upper = chunk["upper"]
                with_upper = _batch_sql(m, True, upper is not None)
                without_lower = _batch_sql(m, False, upper is not None)
                failures = 0
                while True:
                    params = {
                        "limit": batch_size,
                        **_key_params("l", after),
                        **_key_params("u", upper),
                    }
                    try:
                        with conn.transaction():
                            read, copied, last = conn.execute(
                                with_upper if after else without_lower, params
                            ).fetchone()
                            done = read < batch_size
                            conn.execute(
                                progress_sql,
                                {
                                    **key,
                                    "chunk": chunk["chunk"],
                                    "watermark": last,
                                    "copied": copied,
                                    "done": done,
                                },
                            )
                    except psycopg.errors.LockNotAvailable:
                        failures += 1  # a writer holds one of the rows: wait and retry
                        if failures > 20:
                            raise
                        time.sleep(min(2.0, 0.05 * failures))
                        continue
                    failures = 0
                    with lock:
                        totals["read"] += read
                        totals["copied"] += copied
                        totals["batches"] += 1
                    if read:
                        on_progress(read)
                    if done:
                        break
                    after = last
                    if sleep_ms:
                        time.sleep(sleep_ms / 1000)
        except BaseException as exc:  # re-raised in the calling thread
            errors.append(exc)

    if len(todo) == 1:
        worker(todo[0])
    elif todo:
        threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in todo]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    if errors:
        raise errors[0]
    with connect() as conn:
        conn.execute(templates.load(T + "state_filled.sql"), key)
    return FillResult(
        m.label,
        f"{m.schema}.{m.twin}",
        totals["read"],
        totals["copied"],
        totals["batches"],
        len(chunks),
        time.monotonic() - started,
        resumed,
    )


# ---------------------------------------------------------------- verify


@dataclass(frozen=True)
class Difference:
    key: tuple[str, ...]
    in_source: bool
    in_target: bool


@dataclass(frozen=True)
class VerifyResult:
    table: str
    source: str
    target: str
    phase: str
    source_rows: int
    target_rows: int
    ranges: int
    differing_ranges: int
    differences: tuple[Difference, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.differing_ranges == 0 and self.source_rows == self.target_rows


def verify(
    conn: psycopg.Connection, table: str, *, ranges: int = 16, limit: int = 20
) -> VerifyResult:
    """Counts and checksums of every column per key range, original vs twin (or, after the
    swap, new vs retired), in one REPEATABLE READ snapshot; records the outcome."""
    from auroractl.ops.shared.session import maintenance

    if not 1 <= ranges <= 1024:
        raise InvalidInput(f"--ranges {ranges} is out of range (1-1024)")
    if not 1 <= limit <= 10_000:
        raise InvalidInput(f"--limit {limit} is out of range (1-10000)")
    m = cat.find(conn, table)
    if m.phase == "done":
        raise Precondition(f"{m.label} was cleaned up: nothing to verify")
    if m.phase == "swapped":
        source, target = (m.schema, m.table), m.retired_q
    else:
        source, target = m.source_q, m.twin_q
    n = len(m.pk)
    src_rows = dst_rows = 0
    bad = 0
    diffs: list[Difference] = []
    with maintenance(conn):
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            edges = [None, *boundaries(conn, m, source, ranges), None]
            for lo, hi in itertools.pairwise(edges):
                ctx = {
                    "columns": list(m.columns),
                    "pk": list(m.pk),
                    "lower": _placeholders("l", n) if lo else [],
                    "upper": _placeholders("u", n) if hi else [],
                }
                params = {**_key_params("l", lo), **_key_params("u", hi)}
                a = conn.execute(_render("checksum.sql.j2", table=source, **ctx), params).fetchone()
                b = conn.execute(_render("checksum.sql.j2", table=target, **ctx), params).fetchone()
                src_rows += a[0]
                dst_rows += b[0]
                if tuple(a) != tuple(b):
                    bad += 1
                    if len(diffs) < limit:
                        rows = conn.execute(
                            _render(
                                "diff_keys.sql.j2",
                                table=source,
                                other=target,
                                ph={"limit": "%(limit)s"},
                                **ctx,
                            ),
                            {**params, "limit": limit - len(diffs)},
                        ).fetchall()
                        diffs += [Difference(tuple(k), s, t) for k, s, t in rows]
        finally:
            conn.execute("ROLLBACK")
    result = VerifyResult(
        m.label,
        qualify(source),
        qualify(target),
        m.phase,
        src_rows,
        dst_rows,
        len(edges) - 1,
        bad,
        tuple(diffs),
    )
    conn.execute(
        templates.load(T + "state_verified.sql"),
        {"schema": m.schema, "table": m.table, "ok": result.ok},
    )
    return result


# ---------------------------------------------------------------- swap / unswap


def _index_renames(
    conn: psycopg.Connection,
    old: tuple[str, str],
    new: tuple[str, str],
    old_suffix: str,
    new_suffix: str,
) -> list[str]:
    """Statements giving ``new``'s indexes (named X + new_suffix) the names X of ``old``'s
    indexes, after renaming those to X + old_suffix."""
    old_names = [ix.name for ix in cat.indexes(conn, cat.oid(conn, old))]
    new_names = {ix.name for ix in cat.indexes(conn, cat.oid(conn, new))}
    out = []
    schema = old[0]
    for name in old_names:
        theirs = _name(name, new_suffix) if new_suffix else name
        ours = _name(name, old_suffix) if old_suffix else name
        if theirs not in new_names:
            continue
        out.append(_render("rename_index.sql.j2", index=(schema, name), name=ours))
        out.append(_render("rename_index.sql.j2", index=(schema, theirs), name=name))
    return out


def _views(conn: psycopg.Connection, oid: int) -> list[str]:
    return [
        _render(
            "replace_view.sql.j2", view=(schema, rel), definition=definition.rstrip().rstrip(";")
        )
        for _, schema, rel, kind, definition in cat.dependents(conn, oid)
        if kind == "v"
    ]


def plan_swap(conn: psycopg.Connection, table: str) -> Plan:
    m = cat.find(conn, table)
    command = f"partition migrate swap {m.label}"
    if m.phase == "swapped":
        return Plan(command, f"{m.label} is already swapped: nothing to do")
    if m.phase != "prepped":
        raise Precondition(f"{m.label} is {m.phase}: nothing to swap")
    if not m.fill_done:
        raise Precondition(
            f"the fill of {m.label} has not finished", hint="run: auroractl partition migrate fill"
        )
    orig, twin, retired = m.source_q, m.twin_q, m.retired_q
    orig_oid = cat.oid(conn, orig)
    _, reverse = function_names(m.schema, m.table)
    triggers = cat.user_triggers(conn, orig_oid)
    views = _views(conn, orig_oid)
    renames = _index_renames(conn, orig, twin, "_retired", "_pm")
    sequences = cat.sequences(conn, orig_oid)
    locks = (m.label, qualify(twin))
    steps: list[Step] = []

    def add(sql: str, comment: str = "", params: Any = None) -> None:
        steps.append(Step(sql, params, comment=comment, locks=locks, txn="swap"))

    add(_render("lock.sql.j2", table=orig, other=twin), "the only lock writers wait on")
    add(_render("drop_trigger.sql.j2", trigger=FORWARD_TRIGGER, table=orig))
    add(
        _render("rename_table.sql.j2", table=orig, name=m.retired),
        f"{m.label} -> {qualify(retired)}",
    )
    add(_render("rename_table.sql.j2", table=twin, name=m.table), f"{qualify(twin)} -> {m.label}")
    for sql in renames:
        add(sql)
    for seq_schema, seq, col, deptype in sequences:
        if deptype == "a":
            add(
                _render("own_sequence.sql.j2", sequence=(seq_schema, seq), table=orig, column=col),
                "the serial sequence now belongs to the new table",
            )
        else:
            add(
                _render(
                    "set_default_nextval.sql.j2",
                    table=orig,
                    column=col,
                    sequence_text=templates.ident((seq_schema, seq)),
                ),
                "identity sequence feeds the new table's default",
            )
    for name, definition, _ in triggers:
        add(definition, f"trigger {name} on the new table")
        add(_render("enable_trigger.sql.j2", table=retired, trigger=name, enable=False))
    if m.rls_forced:
        add(_render("rls.sql.j2", table=orig, action="force"))
        add(_render("rls.sql.j2", table=retired, action="no force"))
    add(
        _render(
            "mirror_function.sql.j2",
            function=reverse,
            target=retired,
            columns=list(m.columns),
            match=list(m.pk),
            conflict=list(m.pk),
            update_columns=[c for c in m.columns if c not in m.pk],
        ),
        "reverse mirror: the retired table stays equal, so unswap loses nothing",
    )
    add(_render("create_trigger.sql.j2", trigger=REVERSE_TRIGGER, table=orig, function=reverse))
    for sql in views:
        add(sql, "dependent view re-bound to the new table")
    add(
        templates.load(T + "state_phase.sql"),
        params={"schema": m.schema, "table": m.table, "phase": "swapped"},
    )
    matviews = [
        {"oid": o, "schema": s, "name": r, "definition": d}
        for o, s, r, kind, d in cat.dependents(conn, orig_oid)
        if kind == "m"
    ]
    add(
        templates.load(T + "state_matviews.sql"),
        "materialized views keep reading the retired table until cleanup re-creates them",
        {"schema": m.schema, "table": m.table, "matviews": json.dumps(matviews)},
    )
    return Plan(
        command,
        f"swap {m.label} (unpartitioned -> {qualify(retired)}) with the partitioned "
        f"{qualify(twin)}",
        tuple(steps),
    )


def plan_unswap(conn: psycopg.Connection, table: str) -> Plan:
    m = cat.find(conn, table)
    command = f"partition migrate unswap {m.label}"
    if m.phase == "prepped":
        return Plan(command, f"{m.label} is not swapped: nothing to do")
    if m.phase != "swapped":
        raise Precondition(f"{m.label} is {m.phase}: the retired table is gone")
    new, twin, retired = m.source_q, m.twin_q, m.retired_q
    new_oid = cat.oid(conn, new)
    retired_oid = cat.oid(conn, retired)
    forward, reverse = function_names(m.schema, m.table)
    views = _views(conn, new_oid)
    # indexes: new's X -> X_pm, retired's X_retired -> X
    renames = []
    new_names = [ix.name for ix in cat.indexes(conn, new_oid)]
    retired_names = {ix.name for ix in cat.indexes(conn, retired_oid)}
    for name in new_names:
        if _name(name, "_retired") in retired_names:
            renames.append(
                _render("rename_index.sql.j2", index=(m.schema, name), name=_name(name, "_pm"))
            )
            renames.append(
                _render("rename_index.sql.j2", index=(m.schema, _name(name, "_retired")), name=name)
            )
    locks = (m.label, qualify(retired))
    steps: list[Step] = []

    def add(sql: str, comment: str = "", params: Any = None) -> None:
        steps.append(Step(sql, params, comment=comment, locks=locks, txn="unswap"))

    add(_render("lock.sql.j2", table=new, other=retired))
    add(_render("drop_trigger.sql.j2", trigger=REVERSE_TRIGGER, table=new))
    for name, _, _ in cat.user_triggers(conn, new_oid):
        add(_render("drop_trigger.sql.j2", trigger=name, table=new))
    for name, _, enabled in cat.user_triggers(conn, retired_oid):
        if enabled == "D":
            add(_render("enable_trigger.sql.j2", table=retired, trigger=name, enable=True))
    if m.rls_forced:
        add(_render("rls.sql.j2", table=new, action="no force"))
        add(_render("rls.sql.j2", table=retired, action="force"))
    add(_render("rename_table.sql.j2", table=new, name=m.twin), f"{m.label} -> {qualify(twin)}")
    add(
        _render("rename_table.sql.j2", table=retired, name=m.table),
        f"{qualify(retired)} -> {m.label}",
    )
    for sql in renames:
        add(sql)
    for seq_schema, seq, col, deptype in cat.sequences(conn, new_oid):
        if deptype == "a":
            add(_render("own_sequence.sql.j2", sequence=(seq_schema, seq), table=new, column=col))
    for _, _, col, deptype in cat.sequences(conn, retired_oid):
        if deptype == "i":
            add(_render("drop_default.sql.j2", table=twin, column=col))
    add(_render("create_trigger.sql.j2", trigger=FORWARD_TRIGGER, table=new, function=forward))
    add(_render("drop_function.sql.j2", function=reverse))
    for sql in views:
        add(sql, "dependent view re-bound to the original table")
    add(
        templates.load(T + "state_phase.sql"),
        params={"schema": m.schema, "table": m.table, "phase": "prepped"},
    )
    return Plan(
        command,
        f"unswap {m.label}: the original unpartitioned table comes back, the twin stays mirrored",
        tuple(steps),
    )


# ---------------------------------------------------------------- cleanup


def plan_cleanup(conn: psycopg.Connection, table: str) -> Plan:
    m = cat.find(conn, table)
    command = f"partition migrate cleanup {m.label}"
    if m.phase == "done":
        return Plan(command, f"{m.label} is already cleaned up: nothing to do")
    if m.phase != "swapped":
        raise Precondition(
            f"{m.label} is not swapped yet: cleanup drops the retired table after swap"
        )
    if not (m.verified_ok and m.verified_phase == "swapped"):
        raise Precondition(
            f"no passing verify of {m.label} since the swap",
            hint="run: auroractl partition migrate verify " + m.label,
        )
    retired_oid = cat.oid(conn, m.retired_q)
    deps = cat.dependents(conn, retired_oid)
    views = [f"{s}.{r}" for _, s, r, kind, _ in deps if kind == "v"]
    if views:
        raise Precondition(
            f"view(s) {', '.join(views)} still read {qualify(m.retired_q)}",
            hint="re-create them on the new table (views bind by OID), then cleanup",
        )
    saved = {mv["oid"]: mv["definition"] for mv in m.matviews or []}
    matviews = [d for d in deps if d[3] == "m"]
    unknown = [f"{s}.{r}" for o, s, r, _, _ in matviews if o not in saved]
    if unknown:
        raise Precondition(
            f"materialized view(s) {', '.join(unknown)} read {qualify(m.retired_q)} but were "
            "not there at swap time",
            hint="re-create them on the new table, then cleanup",
        )
    identity = [c for _, _, c, d in cat.sequences(conn, retired_oid) if d == "i"]
    if identity:
        raise Precondition(
            f"identity column(s) {', '.join(identity)} of {qualify(m.retired_q)} feed the new "
            "table's default: dropping it would drop the sequence",
            hint="give the new table its own sequence first",
        )
    _, reverse = function_names(m.schema, m.table)
    forward, _ = function_names(m.schema, m.table)
    steps: list[Step] = []
    locks = (m.label, qualify(m.retired_q))

    def add(sql: str, comment: str = "", params: Any = None) -> None:
        steps.append(Step(sql, params, comment=comment, locks=locks, txn="cleanup"))

    for mv_oid, schema, rel, _, _ in matviews:
        definition = saved[mv_oid]
        steps.extend(
            Step(sql, comment=comment, locks=(f"{schema}.{rel}",), txn="cleanup")
            for sql, comment in _recreate_matview(conn, mv_oid, (schema, rel), definition)
        )
    add(_render("drop_trigger.sql.j2", trigger=REVERSE_TRIGGER, table=m.source_q))
    for schema, rel, conname, definition in conn.execute(
        templates.load(T + "referencing_fks.sql"), {"oid": retired_oid}
    ):
        add(
            _render("drop_constraint.sql.j2", table=(schema, rel), constraint=conname),
            f"{definition}: cannot reference the partitioned table",
        )
    add(_render("drop_table.sql.j2", table=m.retired_q), "the retired unpartitioned table")
    add(_render("drop_function.sql.j2", function=reverse))
    add(_render("drop_function.sql.j2", function=forward))
    add(
        templates.load(T + "state_phase.sql"),
        params={"schema": m.schema, "table": m.table, "phase": "done"},
    )
    return Plan(command, f"drop {qualify(m.retired_q)} and the mirror functions", tuple(steps))


def _recreate_matview(
    conn: psycopg.Connection, mv_oid: int, view: tuple[str, str], definition: str
) -> list[tuple[str, str]]:
    """Build the materialized view again on the new table under a temporary name (readers
    keep the old one meanwhile), with its indexes, grants and comment; then swap names."""
    if cat.dependents(conn, mv_oid):
        raise Precondition(
            f"views depend on the materialized view {qualify(view)}: re-create it by hand"
        )
    schema, name = view
    temp = _name(name, "_pm")
    out = [
        (
            _render(
                "create_matview.sql.j2",
                view=(schema, temp),
                definition=definition.rstrip().rstrip(";"),
            ),
            f"materialized view {qualify(view)} on the new table (it binds by OID)",
        )
    ]
    renames = []
    for ix in cat.indexes(conn, mv_oid):
        tmp_ix = _name(ix.name, "_pm")
        out.append(
            (
                _render(
                    "create_index.sql.j2",
                    index=tmp_ix,
                    table=(schema, temp),
                    unique=ix.unique,
                    index_tail=ix.tail,
                ),
                f"like {ix.name}",
            )
        )
        renames.append((_render("rename_index.sql.j2", index=(schema, tmp_ix), name=ix.name), ""))
    for role, privilege, grantable in cat.grants(conn, mv_oid):
        out.append(
            (
                _render(
                    "grant.sql.j2",
                    privilege=privilege,
                    table=(schema, temp),
                    role=role,
                    grantable=grantable,
                ),
                "",
            )
        )
    comment = conn.execute(templates.load(T + "object_comment.sql"), {"oid": mv_oid}).fetchone()[0]
    if comment:
        out.append((_render("comment_matview.sql.j2", view=(schema, temp), comment=comment), ""))
    out.append(
        (_render("drop_matview.sql.j2", view=view), "the old one, bound to the retired table")
    )
    out.append((_render("rename_matview.sql.j2", view=(schema, temp), name=name), ""))
    return out + renames
