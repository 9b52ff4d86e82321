"""Foreign keys that cross tenants, and the tenant-scoped keys that replace them.

A foreign-key check bypasses row security: with ``orders (customer_id) REFERENCES
customers (id)`` an order of tenant 1 can point at a customer of tenant 2, and a key or unique
violation tells a tenant that another tenant's row exists. Between two tables that both
hold the tenant column, the key must pair it: ``(tenant_id, customer_id) REFERENCES
customers (tenant_id, id)``. ``cross_tenant_refs`` finds the keys that do not (for ``rls status``
and ``graphql check``); ``fix_steps`` builds the replacement online:

1. on the referenced table, a unique key on (tenant column, referenced columns), unless a
   usable one exists: ``CREATE UNIQUE INDEX CONCURRENTLY`` then ``ADD CONSTRAINT ...
   UNIQUE USING INDEX``; on a partitioned table (no CONCURRENTLY there) the same on each
   leaf partition, then the parent's constraint, which attaches them and builds nothing;
2. on the referencing table, the tenant-scoped key ``NOT VALID`` (brief lock), then
   ``VALIDATE`` in its own transaction (a scan that blocks no writer); a partitioned table
   cannot take a NOT VALID key (PostgreSQL 15), so each leaf partition gets it validated
   first and the parent's key then attaches them;
3. the old key dropped in a transaction of its own, once its replacement is validated, so
   that a lock timeout there retries the drop alone and never the validation scan. It is
   kept when it still enforces more than the new key: a nullable tenant column (MATCH
   SIMPLE skips a row whose tenant is NULL) or a multi-column MATCH FULL key.

The tenant column is the caller's (the data map's tenant key); the tenant root has no
tenant column, so keys to it are never reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from auroractl import templates
from auroractl.errors import Precondition
from auroractl.ops.shared.catalog import sql_name
from auroractl.ops.shared.objects import key_name
from auroractl.plan import Step

if TYPE_CHECKING:
    import psycopg

T = "shared/"
ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


@dataclass(frozen=True)
class CrossRef:
    """A foreign key between two tenant tables that does not pair their tenant columns."""

    constraint: str
    table: str  # schema.table, for people
    columns: tuple[str, ...]
    referenced_table: str
    referenced_columns: tuple[str, ...]
    on_delete: str  # NO ACTION | RESTRICT | CASCADE | SET NULL | SET DEFAULT
    on_update: str
    referenced_partitioned: bool
    description: str
    # What a fix needs beyond the above.
    tenant_column: str
    qualified: tuple[str, str]
    referenced_qualified: tuple[str, str]
    partitioned: bool  # the referencing table
    delete_set_columns: tuple[str, ...] = ()  # ON DELETE SET NULL (cols)
    match_full: bool = False
    deferrable: bool = False
    deferred: bool = False
    validated: bool = True
    tenant_not_null: bool = True  # the referencing table's tenant column

    @property
    def key(self) -> tuple[str, ...]:
        """The referenced table's unique key the fix references."""
        return (self.tenant_column, *self.referenced_columns)


def cross_tenant_refs(conn: psycopg.Connection, tenant_column: str) -> tuple[CrossRef, ...]:
    """Every declared foreign key (on a table or a partitioned parent, not the per-partition
    clones) between two tables with ``tenant_column`` whose columns do not pair it."""
    rows = conn.execute(templates.load(T + "tenant_refs.sql"), {"column": tenant_column})
    return tuple(_cross_ref(tenant_column, r) for r in rows.fetchall())


def _cross_ref(column: str, row: tuple) -> CrossRef:
    """One row of tenant_refs.sql."""
    (name, schema, table, partitioned, cols, fschema, ftable, fpartitioned, fcols) = row[:9]
    deltype, updtype, setcols, match, deferrable, deferred, validated, notnull = row[9:]
    label, flabel = sql_name(schema, table), sql_name(fschema, ftable)
    description = (
        f"{label} ({', '.join(cols)}) references {flabel} ({', '.join(fcols)}) without "
        f"{column}: a row can point at another tenant's row, and a key violation tells "
        f"whether another tenant's row exists ({name})"
    )
    return CrossRef(
        name,
        label,
        tuple(cols),
        flabel,
        tuple(fcols),
        ACTIONS[deltype],
        ACTIONS[updtype],
        fpartitioned,
        description,
        column,
        (schema, table),
        (fschema, ftable),
        partitioned,
        tuple(setcols or ()),
        match == "f",
        deferrable,
        deferred,
        validated,
        notnull,
    )


# ---------------------------------------------------------------- the fix: facts


@dataclass(frozen=True)
class Unique:
    """A unique key to build on ``table`` (a plain table or a leaf partition: online)."""

    table: tuple[str, str]
    name: str
    columns: tuple[str, ...]
    leftover: bool  # an INVALID index of that name from an interrupted build: drop it first
    partitioned: bool = False  # the parent of leaves built before it: attach them


@dataclass(frozen=True)
class NewKey:
    """The tenant-scoped foreign key on ``table`` (a plain table or a leaf partition)."""

    table: tuple[str, str]
    name: str
    exists: bool
    validated: bool


@dataclass(frozen=True)
class LookupIndex:
    """An index on the referencing table leading with the new key's columns: the key's
    checks on delete, and the relation PostGraphile builds over it, use it."""

    table: tuple[str, str]
    name: str
    columns: tuple[str, ...]
    leftover: bool
    partitioned: bool = False  # a partitioned table's: its partitions' indexes attached


@dataclass(frozen=True)
class Fix:
    """What replacing one cross-tenant key takes, read from the catalog."""

    ref: CrossRef
    uniques: tuple[Unique, ...]  # empty: a usable unique key exists
    keys: tuple[NewKey, ...]  # the table's own, or one per leaf partition
    parent_key: str | None  # a partitioned table: its key, added once its leaves have theirs
    offending: int
    index: tuple[LookupIndex, ...] = ()  # empty: an index leads with the key already


class Names:
    """The names taken per schema, and those this plan takes as it picks new ones."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self._conn = conn
        self._taken: dict[str, set[str]] = {}

    def taken(self, schema: str) -> set[str]:
        if schema not in self._taken:
            rows = self._conn.execute(
                templates.load(T + "tenant_refs_names.sql"), {"schema": schema}
            )
            self._taken[schema] = {r[0] for r in rows.fetchall()}
        return self._taken[schema]

    def pick(self, table: tuple[str, str], columns: tuple[str, ...], label: str) -> str:
        used = self.taken(table[0])
        name = key_name(table[1], columns, label, used)
        used.add(name)
        return name


def _q(table: tuple[str, str]) -> str:
    return templates.ident(table)


def _uniques(
    conn: psycopg.Connection, table: tuple[str, str]
) -> list[tuple[str, str | None, tuple[str, ...]]]:
    rows = conn.execute(templates.load(T + "tenant_refs_uniques.sql"), {"table": _q(table)})
    return [(name, con, tuple(cols)) for name, con, cols in rows.fetchall()]


def _leftover(conn: psycopg.Connection, schema: str, index: str) -> bool:
    row = conn.execute(
        templates.load(T + "tenant_refs_invalid_index.sql"), {"index": _q((schema, index))}
    ).fetchone()
    return bool(row[0])


def _leaves(conn: psycopg.Connection, table: tuple[str, str]) -> list[tuple[str, str]]:
    rows = conn.execute(templates.load(T + "tenant_refs_leaves.sql"), {"table": _q(table)})
    return [(s, n) for s, n in rows.fetchall()]


def _index_name(
    conn: psycopg.Connection,
    names: Names,
    table: tuple[str, str],
    columns: tuple[str, ...],
    label: str,
) -> tuple[str, bool]:
    """An index's name the way PostgreSQL would pick it, and whether an INVALID leftover of
    that name (an interrupted earlier run) is there to drop, its name reused."""
    base = key_name(table[1], columns, label)
    if _leftover(conn, table[0], base):
        return base, True
    return names.pick(table, columns, label), False


def _new_unique(
    conn: psycopg.Connection, names: Names, table: tuple[str, str], key: tuple[str, ...]
) -> Unique:
    """A unique key to build on a plain table."""
    name, leftover = _index_name(conn, names, table, key, "key")
    return Unique(table, name, key, leftover)


def _unique_needed(
    conn: psycopg.Connection, names: Names, ref: CrossRef, planned: set[tuple]
) -> tuple[Unique, ...]:
    """The unique key(s) the new foreign key references, unless usable ones exist (or this
    plan builds them already for another key)."""
    table, key = ref.referenced_qualified, ref.key
    if (table, frozenset(key)) in planned or any(
        set(cols) == set(key) for _, _, cols in _uniques(conn, table)
    ):
        return ()
    planned.add((table, frozenset(key)))
    if not ref.referenced_partitioned:
        return (_new_unique(conn, names, table, key),)
    _check_partition_key(conn, ref)
    # A leaf's index attaches to the parent's only as a constraint, in the same column order.
    leaves = tuple(
        _new_unique(conn, names, leaf, key)
        for leaf in _leaves(conn, table)
        if not any(con and cols == key for _, con, cols in _uniques(conn, leaf))
    )
    return (*leaves, Unique(table, names.pick(table, key, "key"), key, False, partitioned=True))


def _check_partition_key(conn: psycopg.Connection, ref: CrossRef) -> None:
    rows = conn.execute(
        templates.load(T + "tenant_refs_partition_keys.sql"),
        {"table": _q(ref.referenced_qualified)},
    ).fetchall()
    missing = sorted({r[0] or "(an expression)" for r in rows} - set(ref.key))
    if missing:
        raise Precondition(
            f"{ref.referenced_table} is partitioned on {', '.join(missing)}: a unique key on "
            f"({', '.join(ref.key)}) must include it, so {ref.constraint} cannot be scoped to "
            "the tenant (a trigger could check it instead)"
        )


def _new_keys(
    conn: psycopg.Connection, names: Names, ref: CrossRef
) -> tuple[tuple[NewKey, ...], str | None]:
    """The tenant-scoped key on the table, or on each of its leaf partitions plus the
    parent's name; an existing one (an earlier, interrupted run) is taken up."""
    cols = (ref.tenant_column, *ref.columns)
    targets = _leaves(conn, ref.qualified) if ref.partitioned else [ref.qualified]
    keys = []
    for table in targets:
        found = _companion(conn, table, ref)
        if found is not None:
            keys.append(NewKey(table, found[0], True, found[1]))
        else:
            keys.append(NewKey(table, names.pick(table, cols, "fkey"), False, False))
    parent = names.pick(ref.qualified, cols, "fkey") if ref.partitioned else None
    return tuple(keys), parent


def _companion(
    conn: psycopg.Connection, table: tuple[str, str], ref: CrossRef
) -> tuple[str, bool] | None:
    """A key on ``table`` that pairs the tenant columns and every pair of ``ref``."""
    want = {
        (ref.tenant_column, ref.tenant_column),
        *zip(ref.columns, ref.referenced_columns, strict=True),
    }
    rows = conn.execute(
        templates.load(T + "tenant_refs_foreign_keys.sql"),
        {"table": _q(table), "referenced": _q(ref.referenced_qualified)},
    ).fetchall()
    for name, cols, fcols, validated in rows:
        if set(zip(cols, fcols, strict=True)) >= want:
            return name, validated
    return None


def offending(conn: psycopg.Connection, ref: CrossRef) -> int:
    """Rows of the referencing table whose referenced row is not of their tenant (read in
    a maintenance session, so that forced row security hides none)."""
    from auroractl.ops.shared.session import maintenance

    query = templates.render(T + "tenant_refs_offending.sql.j2", **_pairs(ref))
    with maintenance(conn):
        return int(conn.execute(query).fetchone()[0])


def _pairs(ref: CrossRef) -> dict:
    return {
        "table": ref.qualified,
        "referenced": ref.referenced_qualified,
        "column": ref.tenant_column,
        "columns": list(ref.columns),
        "pairs": list(zip(ref.columns, ref.referenced_columns, strict=True)),
    }


def offending_query(ref: CrossRef) -> str:
    """The query that lists them, for a person to run."""
    return templates.render(T + "tenant_refs_offending_rows.sql.j2", **_pairs(ref))


def read_fix(conn: psycopg.Connection, ref: CrossRef, names: Names, planned: set[tuple]) -> Fix:
    """What fixing ``ref`` takes; ``names`` and ``planned`` are shared by the keys of one
    plan so that two keys to the same table build one unique key under one name."""
    if ref.on_update in ("SET NULL", "SET DEFAULT"):
        raise Precondition(
            f"{ref.constraint} is ON UPDATE {ref.on_update}: on a key that includes "
            f"{ref.tenant_column} it would reset the tenant column too; change it by hand"
        )
    uniques = _unique_needed(conn, names, ref, planned)
    keys, parent = _new_keys(conn, names, ref)
    index = _lookup_index(conn, names, ref, planned)
    return Fix(ref, uniques, keys, parent, offending(conn, ref), index)


def _index_keys(conn: psycopg.Connection, table: tuple[str, str]) -> list[tuple[str, ...]]:
    rows = conn.execute(templates.load(T + "tenant_refs_indexes.sql"), {"table": _q(table)})
    return [tuple(r[0]) for r in rows.fetchall()]


def _lookup_index(
    conn: psycopg.Connection, names: Names, ref: CrossRef, planned: set[tuple]
) -> tuple[LookupIndex, ...]:
    """An index leading with (tenant, columns) on the referencing table, unless one exists.
    A partitioned table's: each partition's built online (or its index of exactly those
    columns kept), then the table's own, which only attaches them."""
    cols = (ref.tenant_column, *ref.columns)
    if (ref.qualified, "index", frozenset(cols)) in planned:
        return ()
    if any(set(keys[: len(cols)]) == set(cols) for keys in _index_keys(conn, ref.qualified)):
        return ()
    planned.add((ref.qualified, "index", frozenset(cols)))
    if not ref.partitioned:
        name, leftover = _index_name(conn, names, ref.qualified, cols, "idx")
        return (LookupIndex(ref.qualified, name, cols, leftover),)
    leaves = []
    for leaf in _leaves(conn, ref.qualified):
        if cols not in _index_keys(conn, leaf):
            name, leftover = _index_name(conn, names, leaf, cols, "idx")
            leaves.append(LookupIndex(leaf, name, cols, leftover))
    parent = LookupIndex(ref.qualified, names.pick(ref.qualified, cols, "idx"), cols, False, True)
    return (*leaves, parent)


# ---------------------------------------------------------------- the fix: steps (pure)


def refuse_offending(fixes: list[Fix]) -> None:
    """Refuse, before anything changes, when existing rows already cross tenants: the new
    key would fail its validation."""
    bad = [f for f in fixes if f.offending]
    if not bad:
        return
    what = "; ".join(
        f"{f.offending} row(s) of {f.ref.table} point at another tenant's "
        f"{f.ref.referenced_table} row through {f.ref.constraint}"
        for f in bad
    )
    raise Precondition(
        f"{what}: the tenant-scoped key would not validate; nothing was changed",
        hint=f"list them with: {offending_query(bad[0].ref)}",
    )


def fix_steps(fix: Fix) -> tuple[list[Step], list[str]]:
    """The steps replacing ``fix.ref`` by its tenant-scoped key, and the plan's notes."""
    ref = fix.ref
    steps = [s for u in fix.uniques for s in _unique_steps(u, ref)]
    notes = [
        f"{_label(u.table)} is partitioned: adding its unique key ({', '.join(u.columns)}) "
        "takes a brief ACCESS EXCLUSIVE lock on it and its partitions; each partition's "
        "index is built beforehand, CONCURRENTLY, and attached, not rebuilt"
        for u in fix.uniques
        if u.partitioned
    ]
    for ix in fix.index:
        steps += _index_steps(ix)
    notes += [
        f"{_label(ix.table)} is partitioned: its index ({', '.join(ix.columns)}) attaches its "
        "partitions' indexes, each built beforehand, CONCURRENTLY (a brief SHARE lock)"
        for ix in fix.index
        if ix.partitioned
    ]
    for key in fix.keys:
        steps += _key_steps(key, ref, not_valid=True)
    if fix.parent_key is not None:
        steps.append(
            Step(
                _add_fk(ref, ref.qualified, fix.parent_key, not_valid=False),
                comment=f"{fix.parent_key}: attach the partitions' validated keys",
                locks=(ref.table, ref.referenced_table),
                txn=f"{ref.table} {fix.parent_key}",
            )
        )
    kept = keep_reason(ref)
    if kept:
        notes.append(f"{ref.constraint} on {ref.table} is kept: {kept}")
    else:
        steps.append(
            Step(
                templates.render(
                    T + "tenant_refs_drop_fk.sql.j2", table=ref.qualified, name=ref.constraint
                ),
                comment=f"drop {ref.constraint}, replaced by its tenant-scoped key",
                locks=(ref.table, ref.referenced_table),
                txn=f"{ref.table} drop {ref.constraint}",
            )
        )
    return steps, notes


def keep_reason(ref: CrossRef) -> str:
    """Why the old key stays beside its replacement ("" when it is dropped)."""
    if not ref.tenant_not_null:
        return (
            f"{ref.tenant_column} is nullable there, and the new key does not check a row "
            "whose tenant is NULL"
        )
    if ref.match_full and len(ref.columns) > 1:
        return "it is MATCH FULL, which the tenant-scoped key cannot be"
    return ""


def _label(table: tuple[str, str]) -> str:
    return sql_name(*table)


def _unique_steps(u: Unique, ref: CrossRef) -> list[Step]:
    label = _label(u.table)
    if u.partitioned:
        return [
            Step(
                templates.render(
                    T + "tenant_refs_unique.sql.j2",
                    table=u.table,
                    name=u.name,
                    columns=list(u.columns),
                ),
                comment=f"{u.name} on {label}: attach its partitions' unique keys",
                locks=(label,),
                txn=f"{label} {u.name}",
            )
        ]
    return [
        *_build_online(u.table, u.name, u.columns, u.leftover, unique=True),
        Step(
            templates.render(T + "tenant_refs_unique_using.sql.j2", table=u.table, name=u.name),
            comment=f"{u.name}: the unique key {ref.constraint}'s replacement references",
            locks=(label,),
            txn=f"{label} {u.name}",
        ),
    ]


def _index_steps(ix: LookupIndex) -> list[Step]:
    if not ix.partitioned:
        return _build_online(ix.table, ix.name, ix.columns, ix.leftover, unique=False)
    label = _label(ix.table)
    sql = templates.render(
        T + "tenant_refs_parent_index.sql.j2",
        index=ix.name,
        table=ix.table,
        columns=list(ix.columns),
    )
    return [Step(sql, comment=f"{ix.name} on {label}: attach its partitions' indexes",
                 locks=(label,), txn=f"{label} {ix.name}")]  # fmt: skip


def _build_online(
    table: tuple[str, str], name: str, columns: tuple[str, ...], leftover: bool, unique: bool
) -> list[Step]:
    """CREATE [UNIQUE] INDEX CONCURRENTLY, after dropping an INVALID leftover of its name."""
    label = _label(table)
    steps = []
    if leftover:
        steps.append(
            Step(
                templates.render("shared/drop_invalid_index.sql.j2", index=(table[0], name)),
                autocommit=True,
                comment=f"drop the INVALID leftover index {name}",
                locks=(label,),
            )
        )
    steps.append(
        Step(
            templates.render(
                T + "tenant_refs_index.sql.j2",
                index=name,
                table=table,
                columns=list(columns),
                unique=unique,
            ),
            autocommit=True,
            comment=f"build {name} on {label} ({', '.join(columns)}), not blocking writes",
            locks=(label,),
        )
    )
    return steps


def _key_steps(key: NewKey, ref: CrossRef, not_valid: bool) -> list[Step]:
    label = _label(key.table)
    locks = (label, ref.referenced_table)
    steps = []
    if not key.exists:
        steps.append(
            Step(
                _add_fk(ref, key.table, key.name, not_valid=not_valid),
                comment=f"{key.name} on {label}, NOT VALID: checks new rows from now on",
                locks=locks,
                txn=f"{label} {key.name}",
            )
        )
    if not key.validated:
        steps.append(
            Step(
                templates.render(T + "shape_validate.sql.j2", table=key.table, constraint=key.name),
                comment=f"validate {key.name}: scans {label} without blocking writes",
                locks=locks,
                txn=f"{label} validate {key.name}",
            )
        )
    return steps


def _add_fk(ref: CrossRef, table: tuple[str, str], name: str, not_valid: bool) -> str:
    set_columns: tuple[str, ...] = ()
    if ref.on_delete in ("SET NULL", "SET DEFAULT"):
        # Only the referencing columns: never the tenant column.
        set_columns = ref.delete_set_columns or ref.columns
    return templates.render(
        T + "tenant_refs_add_fk.sql.j2",
        table=table,
        name=name,
        columns=[ref.tenant_column, *ref.columns],
        referenced=ref.referenced_qualified,
        referenced_columns=list(ref.key),
        on_delete=ref.on_delete,
        on_update=ref.on_update,
        set_columns=list(set_columns),
        deferrable=ref.deferrable,
        deferred=ref.deferred,
        not_valid=not_valid,
    )
