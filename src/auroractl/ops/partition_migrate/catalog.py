"""Catalog and state reading for ``partition migrate`` (no changes here): the facts the
planners in ``prep`` and ``swap`` work from."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import NotFound, Precondition
from auroractl.ops.shared import shape, state
from auroractl.ops.shared.catalog import SchemaNamed
from auroractl.plan import Step

if TYPE_CHECKING:
    import psycopg

T = "partition_migrate/"
STATE_SCHEMA = "auroractl"
TEMPORAL_TYPES = ("date", "timestamp without time zone", "timestamp with time zone")
INTEGER_TYPES = ("smallint", "integer", "bigint")
PRIVILEGES = {
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "TRUNCATE",
    "REFERENCES",
    "TRIGGER",
    "USAGE",  # sequences
}
COMMANDS = {"ALL", "SELECT", "INSERT", "UPDATE", "DELETE"}
OUR_TRIGGERS = ["auroractl_pm_mirror", "auroractl_pm_reverse"]


def qualify(name: tuple[str, str]) -> str:
    return f"{name[0]}.{name[1]}"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool
    identity: bool
    generated: bool
    always: bool = False  # GENERATED ALWAYS AS IDENTITY: UPDATE may not set it


@dataclass(frozen=True)
class Source(SchemaNamed):
    oid: int
    schema: str
    name: str
    relkind: str
    rls_enabled: bool
    rls_forced: bool
    owner: str
    pk: tuple[str, ...]
    comment: str | None
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Policy:
    policy: str
    permissive: bool
    command: str
    roles: tuple[str, ...]  # "" is PUBLIC
    using: str | None
    check: str | None

    def context(self) -> dict[str, Any]:
        return {**asdict(self), "roles": list(self.roles)}


@dataclass(frozen=True)
class Access:
    """A table's grants, policies, RLS switch, comments and statistics targets."""

    owner: str
    comment: str | None
    rls_enabled: bool
    grants: frozenset[tuple[str, str, bool]]
    policies: tuple[Policy, ...]
    column_comments: tuple[tuple[str, str | None], ...] = ()
    stat_targets: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class IncomingFk:
    """A foreign key of another table pointing at the migrated one."""

    schema: str
    table: str
    name: str
    definition: str
    columns: tuple[str, ...]  # the referencing columns, in key order
    ref_columns: tuple[str, ...]  # the referenced ones, in the same order
    on_update: str  # pg_constraint.confupdtype: a (no action) r c n d
    on_delete: str
    match: str  # f (full) p (partial) s (simple)
    deferrable: bool
    deferred: bool
    validated: bool
    partitioned: bool  # declared on a partitioned table; then ``leaves`` hold its clones
    delete_set_columns: tuple[str, ...] = ()  # ON DELETE SET NULL (cols)
    leaves: tuple[tuple[str, str, str], ...] = ()  # (schema, partition, constraint)

    @property
    def label(self) -> str:
        return f"{templates.ident((self.schema, self.table))}.{templates.ident(self.name)}"

    @property
    def qualified(self) -> tuple[str, str]:
        return (self.schema, self.table)

    def fits(self, partition_key: str) -> bool:
        """A foreign key can reference the partitioned table: its unique key on the
        referenced columns contains the partition key."""
        return partition_key in self.ref_columns


@dataclass(frozen=True)
class View:
    """A view or materialized view reading the table directly (it binds by OID)."""

    oid: int
    schema: str
    name: str
    kind: str  # v | m
    definition: str
    options: tuple[str, ...] = ()  # reloptions: security_barrier=true, check_option=local

    @property
    def label(self) -> str:
        return templates.ident((self.schema, self.name))


@dataclass(frozen=True)
class Trigger:
    """A trigger of the table's own (not internal, not auroractl's mirrors)."""

    name: str
    definition: str  # pg_get_triggerdef
    enabled: str  # pg_trigger.tgenabled: O (origin), D (disabled), R (replica), A (always)
    comment: str | None = None
    row_transition: bool = False  # a row trigger with transition tables
    function: str = ""


@dataclass(frozen=True)
class Publication:
    """The table's explicit membership of a publication (FOR TABLE), column list and filter."""

    name: str
    columns: tuple[str, ...] = ()
    where: str | None = None
    via_root: bool = False


@dataclass(frozen=True)
class KeyData:
    """What the rows say about the partition key: its range, NULLs, LIST values."""

    lower: Any
    upper: Any
    nulls: int
    today: dt.date
    values: tuple[Any, ...] = ()


@dataclass(frozen=True)
class PrepFacts:
    """Everything ``prep`` plans from, read in one go (``prep.read``)."""

    source: Source
    existing: Migration | None = None
    policies: tuple[Policy, ...] = ()
    shape: shape.Shape = field(default_factory=shape.Shape)
    grants: tuple[tuple[str, str, bool], ...] = ()  # role, privilege, grantable
    access: Access | None = None
    migrator: str = ""  # current_user, who will own what prep creates
    referencing: tuple[IncomingFk, ...] = ()
    dependents: tuple[View, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    publications: tuple[Publication, ...] = ()
    others: tuple[str, ...] = ()  # objects depending on the table that cannot follow it
    self_references: tuple[str, ...] = ()  # its own foreign keys onto itself
    data: KeyData | None = None  # None when the key column cannot be one
    taken: frozenset[str] = frozenset()  # names the twin, retired and partitions would take
    state_steps: tuple[Step, ...] = ()  # installing auroractl's tables, when needed


@dataclass(frozen=True)
class Migration:
    schema: str
    table: str
    twin: str
    retired: str
    strategy: str
    by: str
    key_column: str
    pk: tuple[str, ...]
    twin_pk: tuple[str, ...]
    columns: tuple[str, ...]
    phase: str
    rls_forced: bool
    fill_done: bool
    copied: int
    verified_ok: bool | None
    verified_phase: str | None
    verified_at: Any
    matviews: Any = ()
    fk_moves: Any = ()  # what cleanup moved onto the new table (references.Move records)

    @property
    def label(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def source_q(self) -> tuple[str, str]:
        return (self.schema, self.table)

    @property
    def twin_q(self) -> tuple[str, str]:
        return (self.schema, self.twin)

    @property
    def retired_q(self) -> tuple[str, str]:
        return (self.schema, self.retired)


def oid(conn: psycopg.Connection, name: tuple[str, str] | str) -> int:
    from auroractl.ops.shared.catalog import resolve

    return resolve(conn, name if isinstance(name, str) else templates.ident(name)).oid


def exists(conn: psycopg.Connection, name: tuple[str, str]) -> bool:
    return conn.execute(
        templates.load(T + "relation_exists.sql"), {"name": templates.ident(name)}
    ).fetchone()[0]


def source(conn: psycopg.Connection, table: str) -> Source:
    relid = oid(conn, table)
    row = conn.execute(templates.load(T + "table.sql"), {"oid": relid}).fetchone()
    schema, name, relkind, rls, force, owner, pk, comment, _ = row
    cols = tuple(
        Column(n, t, nn, ident != "", gen != "", ident == "a")
        for n, t, nn, ident, gen in conn.execute(templates.load(T + "columns.sql"), {"oid": relid})
    )
    return Source(relid, schema, name, relkind, rls, force, owner, tuple(pk), comment, cols)


def index_names(conn: psycopg.Connection, relid: int) -> list[str]:
    return [ix.name for ix in shape.read(conn, relid).indexes]


def grants(conn: psycopg.Connection, relid: int) -> list[tuple[str, str, bool]]:
    rows = conn.execute(templates.load(T + "grants.sql"), {"oid": relid}).fetchall()
    return [(r, p, g) for r, p, g in rows if p in PRIVILEGES]


def policies(conn: psycopg.Connection, relid: int) -> list[Policy]:
    return [
        Policy(name, permissive, command, tuple(roles) or ("",), using, check)
        for name, permissive, command, roles, using, check in conn.execute(
            templates.load(T + "policies.sql"), {"oid": relid}
        )
        if command in COMMANDS
    ]


def access(conn: psycopg.Connection, relid: int) -> Access:
    owner, comment, rls, comments, targets = conn.execute(
        templates.load(T + "access.sql"), {"oid": relid}
    ).fetchone()
    return Access(
        owner,
        comment,
        rls,
        frozenset(grants(conn, relid)),
        tuple(policies(conn, relid)),
        tuple((c, v) for c, v in comments),
        tuple((c, int(v)) for c, v in targets),
    )


def taken(conn: psycopg.Connection, schema: str, names: list[str]) -> frozenset[str]:
    """Which of ``names`` are already relations (of any kind) in ``schema``."""
    rows = conn.execute(templates.load(T + "taken_names.sql"), {"schema": schema, "names": names})
    return frozenset(r[0] for r in rows)


def dependents(conn: psycopg.Connection, relid: int) -> list[View]:
    return [
        View(o, s, n, k, d, tuple(opts or ()))
        for o, s, n, k, d, opts in conn.execute(
            templates.load(T + "dependents.sql"), {"oid": relid}
        )
    ]


def incoming(conn: psycopg.Connection, relid: int) -> list[IncomingFk]:
    return [
        IncomingFk(
            *r[:4],
            tuple(r[4]),
            tuple(r[5]),
            *r[6:12],
            r[12] == "p",
            tuple(r[13]),
            tuple(tuple(x) for x in r[14]),
        )
        for r in conn.execute(templates.load(T + "referencing_fks.sql"), {"oid": relid})
    ]


def user_triggers(conn: psycopg.Connection, relid: int) -> list[Trigger]:
    return [
        Trigger(*r)
        for r in conn.execute(
            templates.load(T + "triggers.sql"), {"oid": relid, "exclude": OUR_TRIGGERS}
        )
    ]


def publications(conn: psycopg.Connection, relid: int) -> list[Publication]:
    return [
        Publication(name, tuple(cols or ()), where, via_root)
        for name, cols, where, via_root in conn.execute(
            templates.load(T + "publications.sql"), {"oid": relid}
        )
    ]


def others(conn: psycopg.Connection, relid: int) -> list[str]:
    """Objects depending on the table that follow it by OID and that auroractl does not
    re-create (functions with SQL-standard bodies, rules, ...), described."""
    return [r[0] for r in conn.execute(templates.load(T + "other_dependents.sql"), {"oid": relid})]


def sequences(conn: psycopg.Connection, relid: int) -> list[tuple[str, str, str, str]]:
    return conn.execute(templates.load(T + "sequences.sql"), {"oid": relid}).fetchall()


def estimate(conn: psycopg.Connection, table: tuple[str, str]) -> int:
    """The planner's row estimate; an exact count for a table never analyzed."""
    est = conn.execute(templates.load(T + "estimate.sql"), {"oid": oid(conn, table)}).fetchone()[0]
    if est:
        return est
    return conn.execute(templates.render(T + "count.sql.j2", table=table)).fetchone()[0]


def _split(conn: psycopg.Connection, table: str) -> tuple[str | None, str]:
    """(schema or None, name) of a possibly qualified, possibly quoted name."""
    row = conn.execute("SELECT parse_ident(%s)", [table]).fetchone()
    parts = row[0]
    if len(parts) == 1:
        return None, parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    raise NotFound(f'table "{table}" does not exist')


def find(conn: psycopg.Connection, table: str, required: bool = True) -> Migration | None:
    """The migration of ``table`` (named as before or after the swap, or as the twin).
    Without one: None, or (``required``) NotFound for a name that is no table and
    Precondition for a table that is not being migrated."""
    import psycopg

    rows = []
    if state.readable(conn):
        try:
            schema, name = _split(conn, table)
        except psycopg.errors.InvalidParameterValue:
            raise NotFound(f'table "{table}" does not exist') from None
        if schema is None:
            schema = conn.execute("SELECT current_schema()").fetchone()[0]
        rows = conn.execute(
            templates.load(T + "state_find.sql"), {"schema": schema, "table": name}
        ).fetchall()
    if not rows:
        if required:
            oid(conn, table)  # NotFound for an unknown table
            raise Precondition(
                f"no partition migration of {table}",
                hint="start one with auroractl partition migrate prep (it takes --by and --column)",
            )
        return None
    row = conn.execute(
        templates.load(T + "state_get.sql"), {"schema": rows[0][0], "table": rows[0][1]}
    ).fetchone()
    s, t, twin, retired, strategy, by, key, pk, twin_pk, cols, *rest = row
    return Migration(
        s, t, twin, retired, strategy, by, key, tuple(pk), tuple(twin_pk), tuple(cols), *rest
    )


def chunks(conn: psycopg.Connection, m: Migration) -> list[dict[str, Any]]:
    keys = ("chunk", "lower", "upper", "watermark", "done", "copied")
    return [
        dict(zip(keys, r, strict=True))
        for r in conn.execute(
            templates.load(T + "chunks_get.sql"), {"schema": m.schema, "table": m.table}
        )
    ]
