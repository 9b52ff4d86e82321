"""Audit trail: generic trigger functions writing to audit.audit_log.

A plain table gets statement triggers with transition tables (AFTER INSERT, UPDATE and
DELETE, each one INSERT ... SELECT into the log per statement) through
``audit.log_changes()``; a partitioned table keeps row triggers through
``audit.log_change()`` (AFTER INSERT/DELETE, AFTER UPDATE WHEN the row changed): PostgreSQL
clones row triggers onto every partition, present and future, so a write straight into a
partition is logged too, and a statement trigger of the parent would not see it. Both
have a statement TRUNCATE trigger. The log keeps the OLD row on DELETE, the NEW row on
INSERT and only the changed columns on UPDATE; personal-data columns are recorded as
changed (``redacted_columns``) but their values never enter the log. ``audit.audit_log``
is RANGE-partitioned by month through the partition module, so ``auroractl partition
ensure`` keeps it ahead; ``audit prune`` drops months older than the retention.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import InvalidInput, NotFound, Precondition
from auroractl.ops.shared.catalog import SchemaNamed
from auroractl.ops.shared.objects import AUDIT_ENTRY_VALUES, AUDIT_LOG, personal_in
from auroractl.plan import Plan, Step

if TYPE_CHECKING:
    import psycopg

SCHEMA = "audit"
LOG = (SCHEMA, "audit_log")
LOG_LABEL = AUDIT_LOG
ROWS_INDEX = "audit_log_rows_idx"  # GIN on row_pks: the rows of grouped entries
FUNCTION = (SCHEMA, "log_change")  # per row: partitioned tables
STATEMENT_FUNCTION = (SCHEMA, "log_changes")  # per statement: plain tables
BULK_SQL = (SCHEMA, "log_changes_sql")  # its statement for many rows, by the table's columns
ENTRY_VALUES = AUDIT_ENTRY_VALUES  # a grouped entry's values of one of its rows
ENTRIES = (SCHEMA, "audit_entries")  # the view: every entry one row each
ROW_TRIGGERS = {
    "auroractl_audit_row": "audit/create_row_trigger.sql.j2",
    "auroractl_audit_update": "audit/create_update_trigger.sql.j2",
    "auroractl_audit_truncate": "audit/create_truncate_trigger.sql.j2",
}
STATEMENT_TRIGGERS = {
    "auroractl_audit_insert": "INSERT",
    "auroractl_audit_update": "UPDATE",
    "auroractl_audit_delete": "DELETE",
    "auroractl_audit_truncate": "TRUNCATE",
}
VERSION = "auroractl audit v3"


@dataclass(frozen=True)
class AuditConfig:
    retention_months: int = 24
    # Personal columns per "schema.table": the data map's, the one source of them.
    personal: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def personal_of(self, table: str, columns: Sequence[str]) -> list[str]:
        """A table's personal columns (and their ciphertext twins) that it has."""
        return personal_in(self.personal.get(table, ()), columns)

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> AuditConfig:
        if "personal_columns" in section:
            raise InvalidInput(
                "[audit] personal_columns is no longer read: the data map names each "
                "table's personal columns; move them into it and remove the key",
                hint="auroractl map propose",
            )
        unknown = set(section) - {"retention_months"}
        if unknown:
            raise InvalidInput(f"[audit] has unknown keys: {', '.join(sorted(unknown))}")
        months = section.get("retention_months", 24)
        if not isinstance(months, int) or not 1 <= months <= 1200:
            raise InvalidInput("[audit] retention_months must be an integer from 1 to 1200")
        return cls(months)


@dataclass(frozen=True)
class AuditedTable(SchemaNamed):
    schema: str
    name: str
    pk_columns: tuple[str, ...]
    columns: tuple[str, ...]
    triggers: dict[str, str]
    partitioned: bool = False

    def wanted(self, per_row: bool | None = None) -> tuple[str, ...]:
        """The audit triggers this table should have (per row if partitioned)."""
        row = self.partitioned if per_row is None else per_row
        return tuple(ROW_TRIGGERS if row else STATEMENT_TRIGGERS)


@dataclass(frozen=True)
class TableAudit:
    table: str
    audited: bool
    current: bool
    primary_key: tuple[str, ...]
    personal_columns: tuple[str, ...]


@dataclass(frozen=True)
class LogPartition:
    name: str
    bound: str
    rows_estimate: int
    bytes: int


@dataclass(frozen=True)
class AuditStatus:
    log_exists: bool
    retention_months: int
    tables: tuple[TableAudit, ...]
    partitions: tuple[LogPartition, ...]


@dataclass(frozen=True)
class LogEntry:
    id: int
    changed_at: dt.datetime
    table_name: str
    operation: str
    row_pk: str | None
    app_user_id: int | None
    db_user: str
    client_addr: str | None
    txid: int
    changed_columns: list[str] | None
    redacted_columns: list[str] | None
    old_values: dict | None
    new_values: dict | None


# ---------------------------------------------------------------- catalog


def tables(conn: psycopg.Connection) -> list[AuditedTable]:
    rows = conn.execute(templates.load("audit/tables.sql")).fetchall()
    return [
        AuditedTable(
            r[0], r[1], tuple(r[2]), tuple(r[3]), dict(t.split("=", 1) for t in r[4]), r[5]
        )
        for r in rows
    ]


def log_exists(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", [LOG_LABEL]).fetchone()[0]


_LOG_PH = {n: f"%({n})s" for n in ("table", "since", "user", "row_id", "limit")}


@dataclass(frozen=True)
class LogFacts:
    """What setting up the log depends on, read in one round trip."""

    exists: bool
    function_tag: str | None  # the COMMENT on audit.log_change(): its version
    hstore_schema: str | None
    today: dt.date
    has_row_pks: bool = True  # False: a log from before grouped entries
    rows_index_valid: bool | None = True  # audit_log_rows_idx: None when missing
    partitions: tuple[tuple[str, str | None], ...] = ()  # (name, its row_pks index state)


def read_log(conn: psycopg.Connection) -> LogFacts:
    *head, partitions = conn.execute(templates.load("audit/log_facts.sql")).fetchone()
    return LogFacts(*head, tuple((name, state) for name, state in partitions))


def _select(
    conn: psycopg.Connection, names: list[str] | None, all_tables: bool
) -> list[AuditedTable]:
    from auroractl.ops.shared.catalog import choose

    return choose(
        conn,
        names,
        all_tables,
        lambda: tables(conn),
        lambda label: f'"{label}" cannot be audited (a partition or auroractl\'s own)',
    )


_FUNCTIONS = (
    ("audit/entry_values.sql.j2", ENTRY_VALUES),
    ("audit/entries_view.sql.j2", ENTRIES),
    ("audit/function.sql.j2", FUNCTION),
    ("audit/bulk_sql.sql.j2", BULK_SQL),
    ("audit/statement_function.sql.j2", STATEMENT_FUNCTION),
)


def _function_sqls(hstore: str) -> list[str]:
    """The trigger functions and the entries view (one tag covers them, kept on
    audit.log_change())."""
    return [
        templates.render(
            template,
            function=function,
            table=LOG,
            hstore=hstore,
            builder=BULK_SQL,
            view=ENTRIES,
            entry=ENTRY_VALUES,
        )
        for template, function in _FUNCTIONS
    ]


def _function_tag(sqls: list[str]) -> str:
    digest = hashlib.sha256("\n".join(sqls).encode()).hexdigest()[:16]
    return f"{VERSION} sha256={digest}"


# ---------------------------------------------------------------- plans


def setup_steps(facts: LogFacts) -> list[Step]:
    """The log table (partitioned by month, DEFAULT as a safety net), its indexes, the
    trigger functions (again when their version tag differs)."""
    schema = Step(templates.render("audit/create_schema.sql.j2", schema=SCHEMA), txn="setup")
    steps: list[Step] = []
    if not facts.exists:
        steps += [schema, *_log_steps()]
    elif not facts.has_row_pks:
        steps.append(Step(templates.render("audit/add_row_pks.sql.j2", table=LOG), txn="setup"))
    hstore = facts.hstore_schema
    if hstore is None:
        hstore = SCHEMA
        steps += [] if schema in steps else [schema]
        steps.append(
            Step(
                templates.render("audit/create_extension.sql.j2", schema=SCHEMA),
                txn="setup",
                comment="hstore, to diff OLD and NEW",
            )
        )
    steps += _function_steps(hstore, facts.function_tag)
    if facts.exists and facts.rows_index_valid is not True:
        steps += rows_index_steps(facts)
    return steps


def _log_steps() -> list[Step]:
    """A new log: the table, its DEFAULT partition and its indexes (the primary key
    (changed_at, id) orders it; row_pk and row_pks have theirs)."""
    return [
        Step(
            templates.render("audit/create_log.sql.j2", table=LOG),
            txn="setup",
            comment="audit.audit_log, partitioned by month",
        ),
        Step(
            templates.render(
                "audit/create_default.sql.j2", table=LOG, partition=(SCHEMA, "audit_log_default")
            ),
            txn="setup",
        ),
        Step(
            templates.render(
                "audit/create_index.sql.j2",
                index="audit_log_row_idx",
                table=LOG,
                columns=["table_name", "row_pk"],
            ),
            txn="setup",
        ),
        Step(
            templates.render("audit/create_rows_index.sql.j2", index=ROWS_INDEX, table=LOG),
            txn="setup",
        ),
    ]


def _function_steps(hstore: str, installed_tag: str | None) -> list[Step]:
    """The functions and the entries view, tagged, when the installed tag differs."""
    from psycopg import sql

    function_sqls = _function_sqls(hstore)
    tag = _function_tag(function_sqls)
    if installed_tag == tag:
        return []
    steps = [
        Step(
            q,
            txn="setup",
            comment=f"view {SCHEMA}.{f[1]}" if f == ENTRIES else f"function {SCHEMA}.{f[1]}()",
        )
        for q, (_, f) in zip(function_sqls, _FUNCTIONS, strict=True)
    ]
    comment = sql.SQL("COMMENT ON FUNCTION {}() IS {}").format(
        sql.Identifier(*FUNCTION), sql.Literal(tag)
    )
    return [*steps, Step(comment.as_string(None), txn="setup")]


def _leaf_index(partition: str) -> str:
    return f"{partition}_row_pks_idx"[:63]


def rows_index_steps(facts: LogFacts) -> list[Step]:
    """The GIN index on row_pks for a log that has partitions already: each partition's
    built CONCURRENTLY (an INVALID leftover dropped first), then the log's own created ON
    ONLY and each attached — audited writes are never blocked by the build."""
    steps: list[Step] = []
    for name, state in facts.partitions:
        index = (SCHEMA, _leaf_index(name))
        lock = {"locks": (f"{SCHEMA}.{name}",), "autocommit": True}
        if state == "invalid":
            steps.append(
                Step(templates.render("shared/drop_invalid_index.sql.j2", index=index), **lock)
            )
        if state != "valid":
            sql = templates.render(
                "audit/create_rows_index.sql.j2",
                index=index[1],
                table=(SCHEMA, name),
                concurrently=True,
            )
            steps.append(Step(sql, comment=f"{SCHEMA}.{name}: keys of grouped entries", **lock))
    if facts.rows_index_valid is None:
        sql = templates.render(
            "audit/create_rows_index.sql.j2", index=ROWS_INDEX, table=LOG, only=True
        )
        steps.append(Step(sql, locks=(LOG_LABEL,)))
    steps += [
        Step(
            templates.render(
                "audit/attach_index.sql.j2",
                index=(SCHEMA, ROWS_INDEX),
                partition_index=(SCHEMA, _leaf_index(name)),
            ),
            locks=(LOG_LABEL,),
        )
        for name, _ in facts.partitions
    ]
    return steps


def plan_setup(conn: psycopg.Connection) -> Plan:
    steps = setup_steps(read_log(conn))
    summary = "create audit.audit_log and audit.log_change()" if steps else "audit log in place"
    return Plan("audit setup", summary, tuple(steps))


def first_months(today: dt.date) -> Plan:
    """This month and the next of a log created in the same plan (nothing to move yet)."""
    from auroractl.ops import partition

    steps, names = [], []
    lower = dt.date(today.year, today.month, 1)
    for _ in range(2):
        upper = partition.add_period(lower, "month")
        name = f"audit_log_{lower.year}_{lower.month:02d}"
        steps.append(
            Step(
                templates.render(
                    "audit/create_month.sql.j2",
                    table=LOG,
                    partition=(SCHEMA, name),
                    lower=_utc(lower),
                    upper=_utc(upper),
                ),
                txn="setup",
                comment=f"{SCHEMA}.{name}",
            )
        )
        names.append(f"{SCHEMA}.{name}")
        lower = upper
    return Plan("audit setup", f"create {', '.join(names)}", tuple(steps))


def _utc(d: dt.date) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)


def plan_partitions(conn: psycopg.Connection, facts: LogFacts | None = None) -> list[Plan]:
    """Current and next month, through the partition module (so `partition ensure` agrees)."""
    from auroractl.ops import partition

    facts = facts or read_log(conn)
    if not facts.exists:
        return [first_months(facts.today)]
    p = partition.parent(conn, LOG_LABEL)
    if p.ranges:
        return [partition.plan_ensure(conn, [LOG_LABEL], 1)[0]]
    # The log without monthly partitions (dropped by hand): this month, then the next.
    this = dt.date(p.today.year, p.today.month, 1)
    nxt = partition.add_period(this, "month")
    return [
        partition.plan_create(conn, LOG_LABEL, month=f"{d.year}-{d.month:02d}")[0]
        for d in (this, nxt)
    ]


def pg_array(items: tuple[str, ...] | list[str]) -> str:
    """A text[] literal ('{"id","x y"}'), passed to the trigger as one argument."""
    quoted = ('"' + i.replace("\\", "\\\\").replace('"', '\\"') + '"' for i in items)
    return "{" + ",".join(quoted) + "}"


def _comment(t: AuditedTable, pii: list[str]) -> str:
    return f"{VERSION} pk={json.dumps(list(t.pk_columns))} pii={json.dumps(pii)}"


def _current(t: AuditedTable, want: str, per_row: bool | None = None) -> bool:
    """The table has exactly the wanted audit triggers, each with the wanted tag."""
    names = t.wanted(per_row)
    return set(t.triggers) == set(names) and all(t.triggers[n] == want for n in names)


def trigger_steps(t: AuditedTable, cfg: AuditConfig, per_row: bool | None = None) -> list[Step]:
    """(Re)create a table's audit triggers unless they carry the wanted tag, and drop the
    ones of the other design (an older row-trigger install is upgraded in place).
    ``per_row`` overrides the choice by table kind (the benchmark's baseline)."""
    pii = cfg.personal_of(t.label, t.columns)
    want = _comment(t, pii)
    if _current(t, want, per_row):
        return []
    row = t.partitioned if per_row is None else per_row
    ctx = {
        "table": t.qualified,
        "function": FUNCTION if row else STATEMENT_FUNCTION,
        "pk_array": pg_array(t.pk_columns),
        "pii_array": pg_array(pii),
        "label": t.label,
    }
    lock = {"locks": (t.label,), "txn": t.label}
    steps = [
        Step(templates.render("audit/drop_trigger.sql.j2", trigger=n, table=t.qualified), **lock)
        for n in sorted(set(t.triggers) - set(t.wanted(per_row)))
    ]
    for trig in t.wanted(per_row):
        if row:
            create = templates.render(ROW_TRIGGERS[trig], trigger=trig, **ctx)
        else:
            create = templates.render(
                "audit/create_statement_trigger.sql.j2",
                trigger=trig,
                operation=STATEMENT_TRIGGERS[trig],
                **ctx,
            )
        sqls = (
            (templates.render("audit/drop_trigger.sql.j2", trigger=trig, table=t.qualified), ""),
            (create, f"{trig} on {t.label}"),
            (
                templates.render(
                    "audit/comment_trigger.sql.j2", trigger=trig, table=t.qualified, comment=want
                ),
                "",
            ),
        )
        steps += [Step(q, comment=c, **lock) for q, c in sqls]
    return steps


def plan_enable(
    conn: psycopg.Connection, cfg: AuditConfig, names: list[str] | None, all_tables: bool
) -> Plan:
    """One change: the log and its function when missing or outdated, its partitions
    through next month, and the triggers, so that there is one confirmation."""
    chosen = _select(conn, names, all_tables)  # input errors before anything is read
    facts = read_log(conn)
    setup = setup_steps(facts)
    months = [p for p in plan_partitions(conn, facts) if not p.empty]
    triggers = [s for t in chosen for s in trigger_steps(t, cfg)]
    notes = tuple(
        f"{t.label} has no primary key: row_pk stays NULL for its rows"
        for t in chosen
        if not t.pk_columns
    )
    command = "audit enable " + (
        "--all" if all_tables else " ".join(f"--table {n}" for n in names or [])
    )
    labels = ", ".join(t.label for t in chosen)
    steps = (*setup, *(s for p in months for s in p.steps), *triggers)
    if not steps:
        return Plan(command, f"already audited: {labels}: nothing to do", notes=notes)
    parts = [
        ("create audit.audit_log" if not facts.exists else "update audit.log_change()")
        if setup
        else "",
        *(p.summary for p in months),
        f"audit {labels}" if triggers else "",
    ]
    return Plan(command, "; ".join(p for p in parts if p), steps, notes)


def plan_disable(conn: psycopg.Connection, names: list[str] | None, all_tables: bool) -> Plan:
    chosen = _select(conn, names, all_tables)
    steps = [
        Step(
            templates.render("audit/drop_trigger.sql.j2", trigger=trig, table=t.qualified),
            locks=(t.label,),
            txn=t.label,
        )
        for t in chosen
        for trig in sorted(t.triggers)
    ]
    command = "audit disable " + (
        "--all" if all_tables else " ".join(f"--table {n}" for n in names or [])
    )
    labels = ", ".join(t.label for t in chosen)
    if not steps:
        return Plan(command, f"not audited: {labels}: nothing to do")
    return Plan(command, f"stop auditing {labels} (the log is kept)", tuple(steps))


def plan_prune(conn: psycopg.Connection, cfg: AuditConfig, today: dt.date | None = None) -> Plan:
    """Detach and drop monthly partitions entirely older than the retention."""
    from auroractl.ops import partition

    if not log_exists(conn):
        raise Precondition("audit.audit_log does not exist", hint="run: auroractl audit enable")
    p = partition.parent(conn, LOG_LABEL)
    today = today or p.today
    first = dt.date(today.year, today.month, 1)
    months = today.year * 12 + today.month - 1 - cfg.retention_months
    cutoff = dt.date(months // 12, months % 12 + 1, 1)
    assert cutoff <= first
    steps: list[Step] = []
    for r in p.ranges:
        upper = partition.as_date(r.upper)
        if upper is None or upper > cutoff:
            continue
        steps.append(
            Step(
                templates.render(
                    "partition/detach.sql.j2",
                    parent=p.qualified,
                    partition=r.qualified,
                    concurrently=False,
                    finalize=r.detach_pending,
                ),
                autocommit=True,
                comment=f"{r.name} {r.bound}",
                locks=(p.label, r.name),
            )
        )
        steps.append(
            Step(
                templates.render("partition/drop.sql.j2", partition=r.qualified),
                autocommit=True,
                locks=(r.name,),
            )
        )
    command = f"audit prune (retention {cfg.retention_months} months)"
    if not steps:
        return Plan(command, f"no audit partition ends before {cutoff}: nothing to do")
    return Plan(command, f"drop audit partitions ending by {cutoff}", tuple(steps))


# ---------------------------------------------------------------- reports


def status(conn: psycopg.Connection, cfg: AuditConfig) -> AuditStatus:
    out = []
    for t in tables(conn):
        pii = cfg.personal_of(t.label, t.columns)
        # audited by either design (an older row-trigger install is not current)
        audited = any(all(n in t.triggers for n in d) for d in (ROW_TRIGGERS, STATEMENT_TRIGGERS))
        current = _current(t, _comment(t, pii))
        out.append(TableAudit(t.label, audited, current, t.pk_columns, tuple(pii)))
    parts: tuple[LogPartition, ...] = ()
    exists = log_exists(conn)
    if exists:
        parts = tuple(
            LogPartition(*r) for r in conn.execute(templates.load("audit/partitions.sql"))
        )
    return AuditStatus(exists, cfg.retention_months, tuple(out), parts)


def _logged_table(conn: psycopg.Connection, name: str) -> str:
    """The label the log keeps for ``name``: the table's, as the catalog resolves it, or
    a dropped table's that still has entries; otherwise NotFound (a misspelt name must
    not look like a table nobody changed)."""
    from auroractl.ops.shared import catalog

    rel = catalog.lookup(conn, name)
    if rel is None:
        label = name if "." in name else f"public.{name}"
        if conn.execute(
            "SELECT 1 FROM audit.audit_log WHERE table_name = %s LIMIT 1", [label]
        ).fetchone():
            return label
        rel = catalog.resolve(conn, name)  # NotFound, with its quoting hint
    return rel.label


def log(
    conn: psycopg.Connection,
    *,
    table: str | None = None,
    since: str | None = None,
    user: int | None = None,
    row_id: str | None = None,
    limit: int = 100,
) -> list[LogEntry]:
    if not 1 <= limit <= 100_000:
        raise InvalidInput(f"--limit {limit} is out of range (1-100000)")
    since_value = None
    if since:
        try:
            since_value = dt.datetime.fromisoformat(since)
        except ValueError:
            raise InvalidInput(f"--since {since!r} is not a date like 2026-01-31") from None
        if since_value.tzinfo is None:
            since_value = since_value.replace(tzinfo=dt.UTC)
    # one round trip: whether the log exists, and holds grouped entries (row_pks)
    exists, grouped = conn.execute(templates.load("audit/log_state.sql")).fetchone()
    if not exists:
        raise NotFound("audit.audit_log does not exist", hint="run: auroractl audit enable")
    if table:
        table = _logged_table(conn, table)
    rows = conn.execute(
        templates.render("audit/log.sql.j2", grouped=grouped, entry=ENTRY_VALUES, ph=_LOG_PH),
        {"table": table, "since": since_value, "user": user, "row_id": row_id, "limit": limit},
    ).fetchall()
    return [LogEntry(*r) for r in rows]
