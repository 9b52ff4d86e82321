"""``partition migrate prep``: read the table's facts once, then plan from them alone.

``read`` collects catalog facts (``catalog.PrepFacts``); ``plan_prep(facts, args)`` is
pure, so what prep would do to a table with a quoted name, an identity key, forced RLS
or incoming foreign keys is testable without a database.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import InvalidInput, Precondition
from auroractl.ops.partition_migrate import catalog as cat
from auroractl.ops.partition_migrate import follow
from auroractl.ops.partition_migrate import references as refs
from auroractl.ops.partition_migrate._common import (
    FORWARD_TRIGGER,
    T,
    function_names,
    render,
    suffixed,
)
from auroractl.ops.partition_migrate.catalog import KeyData, PrepFacts, Source
from auroractl.ops.shared import shape, state
from auroractl.plan import Plan, Step

if TYPE_CHECKING:
    import psycopg

MAX_PARTITIONS = 400
BY_CHOICES = ("year", "month", "tenant")
LIST_TYPES = (*cat.INTEGER_TYPES, "text", "character varying")


@dataclass(frozen=True)
class PrepArgs:
    by: str  # year | month | tenant
    column: str  # the partition key
    hash_partitions: int | None = None

    @property
    def strategy(self) -> str:
        if self.by in ("year", "month"):
            return "range"
        return "hash" if self.hash_partitions else "list"

    def command(self, label: str) -> str:
        return f"partition migrate prep {label} --by {self.by} --column {self.column}" + (
            f" --hash-partitions {self.hash_partitions}" if self.hash_partitions else ""
        )


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


def prep(
    conn: psycopg.Connection,
    table: str,
    *,
    by: str,
    column: str,
    hash_partitions: int | None = None,
) -> tuple[Plan, PrepReport]:
    """Read, then plan: the Plan creating the twin and its mirror trigger."""
    check_prep_args(by, hash_partitions)
    args = PrepArgs(by, column, hash_partitions)
    return plan_prep(read(conn, table, args), args)


# ---------------------------------------------------------------- read


def read(conn: psycopg.Connection, table: str, args: PrepArgs) -> PrepFacts:
    src = cat.source(conn, table)
    existing = cat.find(conn, table, required=False)
    if existing is not None and existing.phase != "done":
        return PrepFacts(src, existing)
    facts = PrepFacts(
        src,
        policies=tuple(cat.policies(conn, src.oid)),
        shape=shape.read(conn, src.oid),
        grants=tuple(cat.grants(conn, src.oid)),
        access=cat.access(conn, src.oid),
        migrator=conn.execute("SELECT current_user::text").fetchone()[0],
        referencing=tuple(cat.incoming(conn, src.oid)),
        dependents=tuple(cat.dependents(conn, src.oid)),
        triggers=tuple(cat.user_triggers(conn, src.oid)),
        publications=tuple(cat.publications(conn, src.oid)),
        others=tuple(cat.others(conn, src.oid)),
        self_references=tuple(
            r[0] for r in conn.execute(templates.load(T + "self_references.sql"), {"oid": src.oid})
        ),
        state_steps=state.plan_steps(conn, txn="prep"),  # auroractl.migrations_partition
    )
    col = src.column(args.column)
    if src.relkind != "r" or col is None or col.generated or not _fits(col.type, args):
        return facts  # the planner refuses before it needs the rows
    lo, hi, nulls = conn.execute(
        render(
            "bounds.sql.j2",
            table=src.qualified,
            column=args.column,
            ordered=args.strategy != "hash",  # a HASH key (uuid, say) may have no min()
        )
    ).fetchone()
    values: tuple[Any, ...] = ()
    if args.strategy == "list":
        values = tuple(
            r[0]
            for r in conn.execute(
                render("distinct_values.sql.j2", table=src.qualified, column=args.column)
            )
        )
    today = conn.execute("SELECT current_date").fetchone()[0]
    facts = replace(facts, data=KeyData(lo, hi, nulls, today, values))
    names = [*_twin_names(src), *(p.name for p in partitions(src.name, args, facts.data))]
    return replace(facts, taken=cat.taken(conn, src.schema, names))


def _fits(type_: str, args: PrepArgs) -> bool:
    if args.strategy == "range":
        return type_ in cat.TEMPORAL_TYPES
    return args.strategy == "hash" or type_ in LIST_TYPES


def _twin_names(src: Source) -> tuple[str, str]:
    return suffixed(src.name, "_partitioned"), suffixed(src.name, "_retired")


# ---------------------------------------------------------------- plan (pure)


def plan_prep(facts: PrepFacts, args: PrepArgs) -> tuple[Plan, PrepReport]:
    """The twin, its partitions and shape, access rules and the mirror trigger, from
    ``facts`` alone; refuses (Precondition / InvalidInput) what it cannot carry safely."""
    check_prep_args(args.by, args.hash_partitions)
    src, column = facts.source, args.column
    command = args.command(src.label)
    if facts.existing is not None and facts.existing.phase != "done":
        return _already_prepared(command, facts.existing)
    _check_source(facts, args)
    data = facts.data
    assert data is not None  # read() collects it for every source _check_source accepts
    twin, retired = _twin_names(src)
    for taken in (twin, retired):
        if taken in facts.taken:
            raise Precondition(f'"{src.schema}.{taken}" already exists')
    if data.nulls:
        raise Precondition(
            f'{data.nulls:,} row(s) of "{src.label}" have {column} NULL: the partition key '
            "becomes part of the primary key (NOT NULL)"
        )
    parts = partitions(src.name, args, data)
    for p in parts:
        if p.name in facts.taken:
            raise Precondition(f'partition name "{src.schema}.{p.name}" is already taken')
    twin_pk = src.pk if column in src.pk else (*src.pk, column)
    copied = shape.copy(
        facts.shape, (src.schema, twin), suffix="_pm", partition_key=column, primary_key=twin_pk
    )
    steps = [
        *facts.state_steps,
        *_twin_steps(src, twin, args, parts),
        *(Step(s.sql, comment=s.comment, txn="prep") for s in copied.statements),
        *_access_steps(facts, twin, parts),
        *_mirror_steps(src, twin, retired, args, twin_pk),
    ]
    cannot = [*_key_notes(src.pk, twin_pk, column), *copied.cannot_carry]
    fks_in = _incoming_notes(facts, retired, column)
    deps = _dependent_notes(facts, retired)
    report = PrepReport(
        src.label,
        f"{src.schema}.{twin}",
        args.strategy,
        column,
        src.pk,
        twin_pk,
        tuple(f"{p.name} {p.bound()}" for p in parts),
        tuple(cannot),
        fks_in,
        deps,
    )
    summary = (
        f"partitioned twin {src.schema}.{twin} of {src.label} ({args.strategy} on {column}, "
        f"{len(parts)} partitions) + mirror trigger"
    )
    notes = (*cannot, *fks_in, *deps, *_other_notes(src))
    return Plan(command, summary, tuple(steps), notes), report


def _already_prepared(command: str, m: cat.Migration) -> tuple[Plan, PrepReport]:
    report = PrepReport(
        m.label,
        f"{m.schema}.{m.twin}",
        m.strategy,
        m.key_column,
        m.pk,
        m.twin_pk,
        (),
        already_prepared=True,
    )
    return Plan(command, f"{m.label} is already being migrated: nothing to do"), report


def _check_source(facts: PrepFacts, args: PrepArgs) -> None:
    from auroractl.ops.shared.session import MAINTENANCE_POLICY

    src, column, by = facts.source, args.column, args.by
    if src.relkind == "p":
        raise Precondition(f'"{src.label}" is already partitioned')
    if src.relkind != "r":
        raise Precondition(f'"{src.label}" is not a table')
    if not src.pk:
        raise Precondition(
            f'"{src.label}" has no primary key: fill copies in primary-key order and the '
            "mirror matches rows by key"
        )
    if src.rls_forced and not any(p.policy == MAINTENANCE_POLICY for p in facts.policies):
        raise Precondition(
            f'"{src.label}" forces row-level security on its owner and has no '
            f"{MAINTENANCE_POLICY} policy: fill and verify would see only some rows",
            hint="run: auroractl rls enable (it adds the owner's maintenance policy)",
        )
    if facts.self_references:
        raise Precondition(
            f'"{src.label}" has foreign keys onto itself ({", ".join(facts.self_references)}): '
            "partition migrate does not carry them"
        )
    follow.check_triggers(facts.triggers, src.label)
    follow.check_publications(list(facts.publications), src.label)
    col = src.column(column)
    if col is None:
        raise InvalidInput(f'column "{column}" of "{src.label}" does not exist')
    if col.generated:
        raise Precondition(f'"{column}" is a generated column: it cannot be the partition key')
    if args.strategy == "range" and not _fits(col.type, args):
        raise InvalidInput(f'--by {by} needs a date/timestamp column; "{column}" is {col.type}')
    if args.strategy == "list" and not _fits(col.type, args):
        raise InvalidInput(f'--by tenant needs an integer or text column; "{column}" is {col.type}')


def partitions(name: str, args: PrepArgs, data: KeyData) -> list[PartitionSpec]:
    """The twin's partitions: every period from the oldest row through the next one, one
    per LIST value, or N HASH partitions; plus a DEFAULT (not with HASH)."""
    from auroractl.ops.partition import add_period, as_date, period_start

    default = PartitionSpec(suffixed(name, "_default"), "default")
    if args.strategy == "hash":
        n = args.hash_partitions or 0
        return [
            PartitionSpec(suffixed(name, f"_h{i}"), "hash", modulus=n, remainder=i)
            for i in range(n)
        ]
    if args.strategy == "list":
        if len(data.values) > MAX_PARTITIONS:
            raise Precondition(
                f"{len(data.values)} distinct {args.column} values: more than {MAX_PARTITIONS} "
                "LIST partitions; use --hash-partitions"
            )
        return [
            PartitionSpec(suffixed(name, f"_empresa_{v}"), "list", value=v) for v in data.values
        ] + [default]
    by = args.by
    start = period_start(as_date(data.lower) or data.today, by)
    last = period_start(max(as_date(data.upper) or data.today, data.today), by)
    end = add_period(last, by, 2)  # the current period and the next one are covered
    parts: list[PartitionSpec] = []
    while start < end:
        if len(parts) >= MAX_PARTITIONS:
            raise Precondition(f"more than {MAX_PARTITIONS} partitions by {by}: use a coarser --by")
        suffix = f"_{start.year}" if by == "year" else f"_{start.year}_{start.month:02d}"
        parts.append(PartitionSpec(suffixed(name, suffix), "range", start, add_period(start, by)))
        start = add_period(start, by)
    return [*parts, default]


def _step(sql: str, comment: str = "", params: Any = None, locks: tuple[str, ...] = ()) -> Step:
    return Step(sql, params, comment=comment, locks=locks, txn="prep")


def _twin_steps(src: Source, twin: str, args: PrepArgs, parts: list[PartitionSpec]) -> list[Step]:
    twin_q = (src.schema, twin)
    steps = [
        _step(
            render(
                "create_twin.sql.j2",
                twin=twin_q,
                table=src.qualified,
                strategy=args.strategy,
                column=args.column,
            ),
            f"partitioned twin {src.schema}.{twin}",
        ),
    ]
    for p in parts:
        sql = render(
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
        steps.append(_step(sql))
    return steps


def _access_steps(facts: PrepFacts, twin: str, parts: list[PartitionSpec]) -> list[Step]:
    """Owner, comment, grants, policies, RLS and statistics targets of the original, on
    the twin (LIKE has copied the column comments)."""
    src = facts.source
    twin_q = (src.schema, twin)
    steps = []
    access = facts.access or cat.Access(src.owner, src.comment, src.rls_enabled, frozenset(), ())
    if facts.migrator and access.owner != facts.migrator:
        for name in (twin, *(p.name for p in parts)):
            steps.append(
                _step(render("owner.sql.j2", table=(src.schema, name), owner=access.owner))
            )
    fresh = cat.Access(
        access.owner,
        None,
        False,
        frozenset(),
        (),
        access.column_comments,
        tuple((c, -1) for c, _ in access.stat_targets),
    )
    wanted = replace(
        access, grants=frozenset(facts.grants), policies=facts.policies, comment=src.comment
    )
    for sql in follow.access_steps(wanted, fresh, twin_q):
        comment = "ENABLE now, FORCE at swap" if "ROW LEVEL SECURITY" in sql else ""
        steps.append(_step(sql, comment))
    return steps


def _mirror_steps(
    src: Source, twin: str, retired: str, args: PrepArgs, twin_pk: tuple[str, ...]
) -> list[Step]:
    """The mirror function and trigger (the only statement that locks the original)
    and the migration's state row."""
    forward, _ = function_names(src.schema, src.name)
    columns = [c.name for c in src.columns if not c.generated]
    mirror = render(
        "mirror_function.sql.j2",
        function=forward,
        target=(src.schema, twin),
        columns=columns,
        match=list(twin_pk),
        conflict=list(twin_pk),
        # an ALWAYS identity cannot be SET (nor can it change)
        update_columns=[
            c for c in columns if c not in twin_pk and not getattr(src.column(c), "always", False)
        ],
    )
    trigger = render(
        "create_trigger.sql.j2", trigger=FORWARD_TRIGGER, table=src.qualified, function=forward
    )
    state = {
        "schema": src.schema,
        "table": src.name,
        "twin": twin,
        "retired": retired,
        "strategy": args.strategy,
        "by_period": args.by if not args.hash_partitions else "hash",
        "key_column": args.column,
        "pk": list(src.pk),
        "twin_pk": list(twin_pk),
        "columns": columns,
        "rls_forced": src.rls_forced,
    }
    return [
        _step(mirror, "mirror function: DELETE by key + upsert into the twin"),
        _step(
            trigger,
            f"mirror every change of {src.label} into the twin from here on",
            locks=(src.label,),
        ),
        _step(templates.load(T + "state_insert.sql"), "record the migration", state),
    ]


def _key_notes(pk: tuple[str, ...], twin_pk: tuple[str, ...], column: str) -> list[str]:
    if column in pk:
        return []
    return [
        f"primary key ({', '.join(pk)}) must include the partition key: it becomes "
        f"({', '.join(twin_pk)}); uniqueness of ({', '.join(pk)}) alone is still "
        "enforced by the original until the swap, not after it, and a statement with "
        f"ON CONFLICT ({', '.join(pk)}) must name ({', '.join(twin_pk)}) after the swap"
    ]


def _incoming_notes(facts: PrepFacts, retired: str, column: str) -> tuple[str, ...]:
    src = facts.source
    return tuple(
        refs.note(refs.plan_move(fk, column), src.label, f"{src.schema}.{retired}", column)
        for fk in facts.referencing
    )


def _dependent_notes(facts: PrepFacts, retired: str) -> tuple[str, ...]:
    """Each dependent of the table and what happens to it."""
    src = facts.source
    old = f"{src.schema}.{retired}"
    notes = [
        f"view {v.label}: re-bound to the new table at swap (to the original at unswap)"
        if v.kind == "v"
        else f"materialized view {v.label}: keeps reading {old} (kept current by the reverse "
        "mirror) after swap; cleanup re-creates it on the new table with its indexes, grants "
        "and comment"
        for v in facts.dependents
    ]
    for t in facts.triggers:
        webhook = (
            " (a webhook subscription: it follows the table by name)"
            if (t.function.endswith("criar_webhook_event"))
            else ""
        )
        notes.append(
            f"trigger {t.name}{webhook}: moves to the new table at swap, in its state and with "
            f"its comment (disabled on {old} so mirrored rows do not fire it twice); back at unswap"
        )
    for p in facts.publications:
        notes.append(
            f"publication {p.name}: the new table takes the original's place at swap"
            + (
                ""
                if p.via_root
                else " (its changes are published under the partitions' names: "
                "publish_via_partition_root is off)"
            )
        )
    access = facts.access
    if facts.grants or facts.policies or src.comment or (access and access.stat_targets):
        notes.append(
            "grants, row-level security policies, comments and statistics targets: copied to "
            "the twin now, synced again at swap (and back at unswap)"
        )
    notes += [
        f"{what}: bound to {src.label} by OID, it would keep using {old} after the swap; "
        "cleanup refuses until it is re-created on the new table"
        for what in facts.others
    ]
    return tuple(notes)


def _other_notes(src: Source) -> list[str]:
    notes = [
        f"identity column {c.name}: the twin has its own identity sequence; at swap it "
        "continues where the original's is and takes its name (back at unswap), so cleanup "
        "drops only the retired one's"
        for c in src.columns
        if c.identity
    ]
    notes.append(
        "triggers and FORCE ROW LEVEL SECURITY are carried at swap time (so mirrored and "
        "copied rows do not fire audit triggers twice); TRUNCATE is not mirrored"
    )
    return notes
