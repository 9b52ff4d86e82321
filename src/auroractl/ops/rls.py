"""Tenant isolation with row level security: enable, status, verify, disable.

The tenant key (column, setting, type, root) is the data map's, or ``[rls] column`` and
its companions. Policies fail closed: when the tenant setting is unset, empty or not a
well-formed key of the tenant column's type (integer, bigint, uuid or text, read per
table from the catalog) the predicate is NULL, so no row is visible and no row can be
written, and the application never gets a cast error. ``FORCE ROW LEVEL
SECURITY`` binds the table owner too; auroractl's own maintenance work (backfills, moves)
runs as the owner inside ``maintenance(conn)``, which a second policy, granted to the owner
only, recognises (``auroractl.maintenance = on``).
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import InvalidInput, NotFound, Precondition
from auroractl.ops.shared.catalog import SchemaNamed
from auroractl.ops.shared.session import MAINTENANCE_POLICY, maintenance
from auroractl.plan import Plan, Step

if TYPE_CHECKING:
    import psycopg

    from auroractl.ops.shared.datamap import TenantKey
    from auroractl.ops.shared.tenant_refs import CrossRef

TENANT_POLICY = "auroractl_tenant_isolation"
POLICY_VERSION = "auroractl rls v3"  # v3: the tenant predicate as an InitPlan
KEY_TYPES = ("integer", "bigint", "uuid", "text")
# A column's base type (through a domain) -> the key type its policy parses the setting as.
KEY_KINDS = {
    "smallint": "integer",
    "integer": "integer",
    "bigint": "bigint",
    "uuid": "uuid",
    "text": "text",
    "character varying": "text",
}
_BIGINT_MAX = 9223372036854775807
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


@dataclass(frozen=True)
class Tenancy:
    """The tenant key: its column, the setting that carries it, optionally its declared
    type (else each table's column type from the catalog) and the tenant root table."""

    column: str
    setting: str
    type: str | None = None
    root_table: str | None = None  # "schema.table" whose key lists every tenant

    @classmethod
    def of(cls, key: TenantKey) -> Tenancy:
        """The tenant key as the data map declares it."""
        return cls(key.column, key.setting, key.type, key.root)


SETTING_PREFIX = "app.current_"  # [rls] column without setting: app.current_<column>
_SECTION_KEYS = ("app_role", "column", "setting", "type", "root")


@dataclass(frozen=True)
class RlsConfig:
    tenancy: Tenancy
    app_role: str = "application_user"

    @property
    def column(self) -> str:
        return self.tenancy.column

    @property
    def setting(self) -> str:
        return self.tenancy.setting


def app_role(section: dict[str, Any]) -> str:
    """[rls] app_role (application_user by default), the section validated."""
    unknown = set(section) - set(_SECTION_KEYS)
    if unknown:
        raise InvalidInput(f"[rls] has unknown keys: {', '.join(sorted(unknown))}")
    for key in _SECTION_KEYS:
        if key in section and (not isinstance(section[key], str) or not section[key]):
            raise InvalidInput(f"[rls] {key} must be a non-empty string")
    return str(section.get("app_role", RlsConfig.app_role))


def tenancy_from_section(section: dict[str, Any]) -> Tenancy | None:
    """The tenant key ``[rls] column`` states (setting, type and root go with it), or None
    when the section names none."""
    app_role(section)
    column = section.get("column")
    if column is None:
        given = [k for k in ("setting", "type", "root") if k in section]
        if given:
            raise InvalidInput(
                f"[rls] {given[0]} goes with [rls] column: without it the tenant key is "
                "the data map's (auroractl map propose)"
            )
        return None
    setting = section.get("setting", f"{SETTING_PREFIX}{column}")
    if "." not in setting:
        raise InvalidInput(f"[rls] setting {setting!r} must be a dotted name like app.x")
    if section.get("type", KEY_TYPES[0]) not in KEY_TYPES:
        raise InvalidInput(f"[rls] type must be one of {', '.join(KEY_TYPES)}")
    return Tenancy(column, setting, section.get("type"), section.get("root"))


def parse_key(kind: str | None, value: str) -> Any:
    """``value`` as a key of type ``kind`` the way the policy reads the setting, or None
    where the policy would see no tenant (the same fail-closed rules)."""
    if kind in ("integer", "bigint"):
        if re.fullmatch(r"[0-9]{1,19}", value) and (len(value) < 19 or kind == "bigint"):
            n = int(value)
            return n if n <= _BIGINT_MAX else None
        return None
    if kind == "uuid":
        return uuid.UUID(value) if _UUID.fullmatch(value) else None
    if kind == "text":
        return value or None
    return None


@dataclass(frozen=True)
class TenantTable(SchemaNamed):
    schema: str
    name: str
    relkind: str
    is_partition: bool
    parent: str | None
    owner: str
    column_type: str
    base_type: str  # through a domain
    rls_enabled: bool
    rls_forced: bool
    policies: tuple[str, ...]
    policy_comments: tuple[str, ...]
    has_tenant_index: bool
    app_role_has_access: bool
    sequences_to_grant: tuple[tuple[str, str], ...] = ()  # (schema, name) fed by DEFAULTs

    @property
    def key_type(self) -> str | None:
        """integer, bigint, uuid or text; None when the policy cannot parse a key for it."""
        return KEY_KINDS.get(self.base_type)


@dataclass(frozen=True)
class Coverage:
    table: str
    covered: bool
    rls_enabled: bool
    rls_forced: bool
    policies: tuple[str, ...]
    bypass: tuple[str, ...]
    tenant_index: bool
    key_type: str  # the column's type as the policy reads it; "" when unsupported
    note: str = ""


@dataclass(frozen=True)
class RlsStatus:
    app_role: str
    app_role_exists: bool
    app_role_bypasses: bool
    column: str
    setting: str
    tables: tuple[Coverage, ...]
    bypass_roles: tuple[str, ...]
    # Foreign keys between tenant tables that do not pair the tenant column: foreign-key
    # checks bypass row security, so a row can point at another tenant's row.
    cross_tenant_refs: tuple[CrossRef, ...] = ()

    @property
    def uncovered(self) -> tuple[str, ...]:
        return tuple(t.table for t in self.tables if not t.covered)


@dataclass(frozen=True)
class CheckResult:
    table: str
    tenant: str
    check: str
    result: str  # ok | LEAK | n/a | error
    detail: str = ""


@dataclass(frozen=True)
class VerifyReport:
    app_role: str
    tenants: tuple[str, ...]
    checks: tuple[CheckResult, ...] = field(default_factory=tuple)

    @property
    def leaks(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.result == "LEAK")

    @property
    def errors(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.result == "error")


CHECKS = (
    "own_rows_only",
    "unset_sees_none",
    "empty_sees_none",
    "garbage_sees_none",
    "insert_other_tenant",
    "insert_unset",
    "update_to_other_tenant",
    "update_other_rows",
)


# ---------------------------------------------------------------- catalog


def tenant_tables(conn: psycopg.Connection, cfg: RlsConfig) -> list[TenantTable]:
    rows = conn.execute(
        templates.load("rls/tenant_tables.sql"), {"role": cfg.app_role, "column": cfg.column}
    ).fetchall()
    return [
        TenantTable(*r[:10], tuple(r[10]), tuple(r[11]), r[12], r[13], _pairs(r[14])) for r in rows
    ]


def _pairs(value: list[list[str]] | None) -> tuple[tuple[str, str], ...]:
    return tuple((a, b) for a, b in value or ())


def _role(conn: psycopg.Connection, role: str) -> tuple | None:
    return conn.execute(templates.load("rls/role.sql"), {"role": role}).fetchone()


def no_tenant_tables(cfg: RlsConfig) -> Precondition:
    return Precondition(
        f"no table has the tenant column {cfg.column}",
        hint="the data map's [[tenant]] (auroractl map check), or [rls] column, names the "
        "column that holds the tenant key",
    )


def _select_tables(
    conn: psycopg.Connection, cfg: RlsConfig, tables: list[str] | None, all_tables: bool
) -> list[TenantTable]:
    from auroractl.ops.shared.catalog import choose

    chosen = choose(
        conn,
        tables,
        all_tables,
        lambda: [t for t in tenant_tables(conn, cfg) if not t.is_partition],
        lambda label: (
            f'table "{label}" has no {cfg.column} column '
            "(or is a partition: enable RLS on its parent)"
        ),
    )
    if not chosen:
        raise no_tenant_tables(cfg)
    return chosen


def _family(kind: str | None) -> str | None:
    return "integer" if kind == "bigint" else kind


def _check_type(t: TenantTable, tenancy: Tenancy) -> str:
    """The table's key type, or a Precondition when no policy can be built for it."""
    kind = t.key_type
    if kind is None:
        raise Precondition(
            f"{t.label}.{tenancy.column} is {t.column_type}: "
            f"a tenant key must be {', '.join(KEY_TYPES[:-1])} or {KEY_TYPES[-1]}"
        )
    if tenancy.type and _family(tenancy.type) != _family(kind):
        raise Precondition(
            f"{t.label}.{tenancy.column} is {t.column_type}, not the declared {tenancy.type}"
        )
    return kind


def _comment(cfg: RlsConfig, kind: str, owner: str = "") -> str:
    base = f"{POLICY_VERSION} column={cfg.column} type={kind} setting={cfg.setting}"
    return f"{base} owner={owner}" if owner else base


# ---------------------------------------------------------------- enable / disable


@dataclass(frozen=True)
class AppRole:
    name: str
    superuser: bool
    bypassrls: bool
    can_login: bool
    current_user_is_member: bool


@dataclass(frozen=True)
class EnableFacts:
    """What enabling RLS on some tables depends on, read once."""

    tables: tuple[TenantTable, ...]
    role: AppRole | None  # None: the application role does not exist yet
    schemas_without_usage: tuple[str, ...]  # of the tables' schemas, for the role


def _app_role(conn: psycopg.Connection, cfg: RlsConfig) -> AppRole | None:
    row = _role(conn, cfg.app_role)
    return AppRole(*row) if row else None


def read_enable(
    conn: psycopg.Connection, cfg: RlsConfig, tables: list[str] | None, all_tables: bool
) -> EnableFacts:
    chosen = _select_tables(conn, cfg, tables, all_tables)
    role = _app_role(conn, cfg)
    schemas = tuple(dict.fromkeys(t.schema for t in chosen))
    if role is not None:
        schemas = tuple(
            s
            for s in schemas
            if not conn.execute(
                "SELECT has_schema_privilege(%s, %s, 'USAGE')", [cfg.app_role, s]
            ).fetchone()[0]
        )
    return EnableFacts(tuple(chosen), role, schemas)


def plan_enable(
    conn: psycopg.Connection, cfg: RlsConfig, tables: list[str] | None, all_tables: bool
) -> Plan:
    command = "rls enable " + (
        "--all" if all_tables else " ".join(f"--table {n}" for n in tables or [])
    )
    return plan_enable_from(read_enable(conn, cfg, tables, all_tables), cfg, command)


def plan_enable_from(facts: EnableFacts, cfg: RlsConfig, command: str) -> Plan:
    """The plan for ``facts``: pure, so it is testable without a database."""
    kinds = [_check_type(t, cfg.tenancy) for t in facts.tables]
    steps = _role_steps(facts, cfg) + [
        s for t, kind in zip(facts.tables, kinds, strict=True) for s in _table_steps(t, cfg, kind)
    ]
    notes = tuple(
        f"no index on {t.label} leads with {cfg.column}: every tenant-scoped "
        f"query will scan the table (CREATE INDEX CONCURRENTLY ... ({cfg.column}))"
        for t in facts.tables
        if not t.has_tenant_index
    )
    names = ", ".join(t.label for t in facts.tables)
    if not steps:
        return Plan(
            command, f"RLS already enabled and forced on {names}: nothing to do", notes=notes
        )
    return Plan(command, f"enable + force RLS on {names}", tuple(steps), notes)


def _role_steps(facts: EnableFacts, cfg: RlsConfig) -> list[Step]:
    """The application role: created NOLOGIN when missing, never one that bypasses RLS."""
    role = facts.role
    steps: list[Step] = []
    if role is None:
        steps.append(
            Step(
                templates.render("rls/create_role.sql.j2", role=cfg.app_role),
                comment=f"create role {cfg.app_role}",
                txn="role",
            )
        )
    elif role.superuser or role.bypassrls:
        raise Precondition(
            f"role {cfg.app_role} is a superuser or has BYPASSRLS: RLS would not bind it",
            hint=f"ALTER ROLE {cfg.app_role} NOBYPASSRLS (and NOSUPERUSER)",
        )
    if role is None or not role.current_user_is_member:
        steps.append(
            Step(
                templates.render("rls/grant_role.sql.j2", role=cfg.app_role),
                comment=f"let the current user SET ROLE {cfg.app_role}",
                txn="role",
            )
        )
    steps += [
        Step(
            templates.render("rls/grant_schema.sql.j2", schema=schema, role=cfg.app_role),
            txn="role",
        )
        for schema in facts.schemas_without_usage
    ]
    return steps


def _table_steps(t: TenantTable, cfg: RlsConfig, kind: str) -> list[Step]:
    """Grant, both policies (again when their tag differs), enable and force, in one
    transaction per table; the tenant policy parses the setting as a ``kind`` key."""
    txn, lock = t.label, (t.label,)
    comments = dict(c.split("=", 1) for c in t.policy_comments)
    steps: list[Step] = []
    if not t.app_role_has_access:
        steps.append(
            Step(
                templates.render("rls/grant_table.sql.j2", table=t.qualified, role=cfg.app_role),
                locks=lock,
                txn=txn,
            )
        )
    steps += [
        Step(
            templates.render("rls/grant_sequence.sql.j2", sequence=seq, role=cfg.app_role),
            comment=f"{cfg.app_role} inserts rows whose DEFAULT calls nextval({seq[1]})",
            txn=txn,
        )
        for seq in t.sequences_to_grant
    ]
    want_tenant = _comment(cfg, kind)
    if comments.get(TENANT_POLICY) != want_tenant:
        steps += _policy_steps(
            t,
            "rls/create_policy.sql.j2",
            TENANT_POLICY,
            want_tenant,
            txn,
            column=cfg.column,
            setting=cfg.setting,
            kind=kind,
        )
    want_maint = _comment(cfg, kind, t.owner)
    if comments.get(MAINTENANCE_POLICY) != want_maint:
        steps += _policy_steps(
            t,
            "rls/create_maintenance_policy.sql.j2",
            MAINTENANCE_POLICY,
            want_maint,
            txn,
            role=t.owner,
        )
    for needed, template, what in (
        (not t.rls_enabled, "rls/enable.sql.j2", "enable"),
        (not t.rls_forced, "rls/force.sql.j2", "force"),
    ):
        if needed:
            steps.append(
                Step(
                    templates.render(template, table=t.qualified),
                    locks=lock,
                    txn=txn,
                    comment=f"{what} RLS on {t.label}",
                )
            )
    return steps


def _policy_steps(
    t: TenantTable, template: str, policy: str, comment: str, txn: str, **ctx: Any
) -> list[Step]:
    lock = (t.label,)
    return [
        Step(
            templates.render("rls/drop_policy.sql.j2", policy=policy, table=t.qualified),
            locks=lock,
            txn=txn,
        ),
        Step(
            templates.render(template, policy=policy, table=t.qualified, **ctx),
            locks=lock,
            txn=txn,
            comment=f"policy {policy} on {t.label}",
        ),
        Step(
            templates.render(
                "rls/comment_policy.sql.j2", policy=policy, table=t.qualified, comment=comment
            ),
            locks=lock,
            txn=txn,
        ),
    ]


def plan_disable(
    conn: psycopg.Connection, cfg: RlsConfig, tables: list[str] | None, all_tables: bool
) -> Plan:
    chosen = _select_tables(conn, cfg, tables, all_tables)
    steps: list[Step] = []
    for t in chosen:
        lock, txn = (t.label,), t.label
        for policy in (TENANT_POLICY, MAINTENANCE_POLICY):
            if policy in t.policies:
                steps.append(
                    Step(
                        templates.render(
                            "rls/drop_policy.sql.j2", policy=policy, table=t.qualified
                        ),
                        locks=lock,
                        txn=txn,
                    )
                )
        if t.rls_forced:
            steps.append(
                Step(
                    templates.render("rls/no_force.sql.j2", table=t.qualified), locks=lock, txn=txn
                )
            )
        if t.rls_enabled:
            steps.append(
                Step(
                    templates.render("rls/disable.sql.j2", table=t.qualified),
                    locks=lock,
                    txn=txn,
                    comment=f"disable RLS on {t.label}",
                )
            )
    names = ", ".join(t.label for t in chosen)
    command = "rls disable " + (
        "--all" if all_tables else " ".join(f"--table {n}" for n in tables or [])
    )
    if not steps:
        return Plan(command, f"RLS is not enabled on {names}: nothing to do")
    return Plan(
        command, f"disable RLS on {names} (every row visible to every tenant)", tuple(steps)
    )


# ---------------------------------------------------------------- status


def _coverage(t: TenantTable) -> tuple[bool, str]:
    """(covered, note) for a table that is not a partition."""
    if not t.rls_enabled:
        return False, "RLS disabled"
    if not t.policies:
        return False, "RLS enabled without policies: nobody but bypassing roles sees rows"
    if not t.rls_forced:
        return False, "not forced: the owner bypasses RLS"
    if TENANT_POLICY not in t.policies:
        return True, "policies not managed by auroractl"
    return True, ""


def _partition_coverage(
    t: TenantTable, parents: dict[str, TenantTable], cfg: RlsConfig
) -> tuple[bool, str]:
    """A partition is covered by its own policies, or through a covered parent that the
    application role cannot bypass by reading the partition directly."""
    parent = parents.get(t.parent or "")
    parent_ok = parent is not None and parent.rls_enabled and parent.rls_forced
    own_ok = t.rls_enabled and t.rls_forced and bool(t.policies)
    covered = own_ok or (parent_ok and not t.app_role_has_access)
    if covered and not own_ok:
        return covered, "partition: reached through its parent's policies"
    if not covered and t.app_role_has_access:
        return covered, f"partition: {cfg.app_role} can read it directly, bypassing the parent"
    return covered, "partition: parent not covered"


def status(conn: psycopg.Connection, cfg: RlsConfig) -> RlsStatus:
    from auroractl.ops.shared.tenant_refs import cross_tenant_refs

    tables = tenant_tables(conn, cfg)
    if not tables:
        raise no_tenant_tables(cfg)
    role = _role(conn, cfg.app_role)
    bypass_rows = conn.execute(templates.load("rls/bypass_roles.sql")).fetchall()
    bypass = tuple(f"{r[0]} ({'superuser' if r[1] else 'BYPASSRLS'})" for r in bypass_rows)
    parents = {t.label: t for t in tables if not t.is_partition}
    out = []
    for t in tables:
        by = [] if t.rls_forced else [f"{t.owner} (owner, not forced)"]
        covered, note = _partition_coverage(t, parents, cfg) if t.is_partition else _coverage(t)
        if t.key_type is None:
            note = f"{cfg.column} is {t.column_type}: not a supported tenant key type"
        out.append(
            Coverage(
                t.label,
                covered,
                t.rls_enabled,
                t.rls_forced,
                t.policies,
                tuple(by),
                t.has_tenant_index,
                t.key_type or "",
                note,
            )
        )
    return RlsStatus(
        cfg.app_role,
        role is not None,
        bool(role and (role[1] or role[2])),
        cfg.column,
        cfg.setting,
        tuple(out),
        bypass,
        cross_tenant_refs(conn, cfg.column),
    )


# ---------------------------------------------------------------- fix-references


def plan_fix_references(
    conn: psycopg.Connection, cfg: RlsConfig, constraints: list[str] | None, all_refs: bool
) -> Plan:
    """Replace the chosen cross-tenant foreign keys (``rls status``) by keys that pair the
    tenant column, online (``ops.shared.tenant_refs``); refused, with nothing changed,
    when existing rows already cross tenants."""
    from auroractl.ops.shared import tenant_refs as tr

    if bool(constraints) == all_refs:
        raise InvalidInput(
            "give --constraint NAME (rls status lists the keys that cross tenants) or --all"
            if not all_refs
            else "give --constraint or --all, not both"
        )
    command = "rls fix-references " + (
        "--all" if all_refs else " ".join(f"--constraint {n}" for n in constraints or [])
    )
    found = tr.cross_tenant_refs(conn, cfg.column)
    chosen = list(found) if all_refs else _chosen_refs(conn, found, constraints or [])
    if not chosen:
        return Plan(command, f"no chosen foreign key crosses tenants ({cfg.column}): nothing to do")
    names, planned = tr.Names(conn), set()
    fixes = [tr.read_fix(conn, ref, names, planned) for ref in chosen]
    tr.refuse_offending(fixes)
    steps: list[Step] = []
    notes: list[str] = []
    for fix in fixes:
        more, why = tr.fix_steps(fix)
        steps += more
        notes += why
    if any(not tr.keep_reason(r) for r in chosen):
        notes.append(
            "the data map records foreign keys: `auroractl map check` reports the replaced "
            "ones until its references are updated (`auroractl map propose --dry-run`)"
        )
    keys = ", ".join(f"{r.table}.{r.constraint}" for r in chosen)
    return Plan(command, f"scope to {cfg.column}: {keys}", tuple(steps), tuple(notes))


def _chosen_refs(
    conn: psycopg.Connection, found: tuple[CrossRef, ...], names: list[str]
) -> list[CrossRef]:
    """The keys named (NAME or TABLE.NAME); a foreign key that no longer crosses tenants
    is left out (nothing to do for it), a name no foreign key has is NotFound."""
    chosen: list[CrossRef] = []
    for name in dict.fromkeys(names):
        matches = [r for r in found if name in (r.constraint, f"{r.table}.{r.constraint}")]
        if len(matches) > 1:
            tables = ", ".join(r.table for r in matches)
            raise InvalidInput(f"{name} names a foreign key of {tables}: give it as TABLE.NAME")
        if matches:
            chosen += [m for m in matches if m not in chosen]
            continue
        exists = conn.execute(templates.load("rls/foreign_key.sql"), {"name": name}).fetchone()
        if not exists[0]:
            raise NotFound(
                f"no foreign key named {name}",
                hint="auroractl rls status lists the foreign keys that cross tenants",
            )
    return chosen


# ---------------------------------------------------------------- verify


@dataclass(frozen=True)
class Root(SchemaNamed):
    """The tenant root table: one row per tenant, keyed by ``key``."""

    schema: str
    name: str
    key: str
    key_type: str


def tenant_root(conn: psycopg.Connection, tenancy: Tenancy) -> Root | None:
    """The configured root table with its key: the tenant column when it has one, else its
    one-column primary key. None when no root is configured."""
    from auroractl.ops.shared.catalog import resolve

    if not tenancy.root_table:
        return None
    rel = resolve(conn, tenancy.root_table, "tenant root table")
    row = conn.execute(
        templates.load("rls/root_key.sql"), {"oid": rel.oid, "column": tenancy.column}
    ).fetchone()
    if row is None:
        raise Precondition(
            f"tenant root table {rel.label} has no {tenancy.column} column "
            "and no one-column primary key"
        )
    kind = KEY_KINDS.get(row[1])
    if kind is None:
        raise Precondition(f"{rel.label}.{row[0]} is {row[1]}: not a supported tenant key type")
    return Root(rel.schema, rel.name, row[0], kind)


def _verifiable(conn: psycopg.Connection, cfg: RlsConfig) -> list[TenantTable]:
    tables = [t for t in tenant_tables(conn, cfg) if not t.is_partition and t.key_type]
    if not tables:
        raise no_tenant_tables(cfg)
    return tables


def tenants_sample(conn: psycopg.Connection, cfg: RlsConfig, sample: int) -> list[str]:
    """``sample`` random tenants: keys of the root table when one is configured, else of
    the distinct tenant values found in the tenant tables."""
    if sample < 1:
        raise InvalidInput("--sample must be at least 1")
    root = tenant_root(conn, cfg.tenancy)
    if root is not None:
        tables, column, where = [root.qualified], root.key, root.label
    else:
        tables = [t.qualified for t in _verifiable(conn, cfg)]
        column, where = cfg.column, f"the {cfg.column} column of the tenant tables"
    query = templates.render("rls/tenant_values.sql.j2", tables=tables, column=column, n=sample)
    with maintenance(conn):
        values = [r[0] for r in conn.execute(query).fetchall()]
    if not values:
        raise Precondition(f"no tenant found in {where} to verify")
    return sorted(values, key=lambda v: (len(v), v))


def missing_tenants(conn: psycopg.Connection, cfg: RlsConfig, tenants: list[str]) -> list[str]:
    """The tenants that exist nowhere: not in the root table when one is configured, else
    in no tenant table (each compared as a key of that table's type)."""
    from psycopg import sql

    root = tenant_root(conn, cfg.tenancy)
    sources = (
        [(root.qualified, root.key, root.key_type)]
        if root
        else [(t.qualified, cfg.column, t.key_type) for t in _verifiable(conn, cfg)]
    )

    def found(tenant: str) -> bool:
        for table, column, kind in sources:
            key = parse_key(kind, tenant)
            query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {} = %s)").format(
                sql.Identifier(*table), sql.Identifier(column)
            )
            if key is not None and conn.execute(query, [key]).fetchone()[0]:
                return True
        return False

    with maintenance(conn):
        return [t for t in tenants if not found(t)]


def _verify_chosen(
    conn: psycopg.Connection, candidates: list[TenantTable], names: list[str]
) -> list[TenantTable]:
    """The tables named, resolved as PostgreSQL would ('"Mixed Case"', schema.table,
    search_path), among the verifiable ones."""
    from auroractl.ops.shared.catalog import resolve

    chosen = []
    for name in names:
        rel = resolve(conn, name)
        match = next((t for t in candidates if t.qualified == rel.qualified), None)
        if match is None:
            raise NotFound(f"no tenant table named {rel.label}")
        chosen.append(match)
    return chosen


def verify(
    conn: psycopg.Connection,
    cfg: RlsConfig,
    tenants: list[str],
    tables: list[str] | None = None,
) -> VerifyReport:
    """Try to leak, as the application role, inside transactions that are rolled back."""
    if not tenants:
        raise InvalidInput("no tenants to verify: pass --tenants 1,2 or --sample N")
    role = _role(conn, cfg.app_role)
    if role is None:
        raise Precondition(
            f"role {cfg.app_role} does not exist", hint="run: auroractl rls enable --all"
        )
    if not role[4]:
        raise Precondition(
            f"the current user cannot SET ROLE {cfg.app_role}",
            hint=f"GRANT {cfg.app_role} TO CURRENT_USER (rls enable does it)",
        )
    all_tables = _verifiable(conn, cfg)
    chosen = _verify_chosen(conn, all_tables, tables) if tables else all_tables
    absent = missing_tenants(conn, cfg, tenants)
    if absent:
        where = cfg.tenancy.root_table or "any tenant table"
        names = ", ".join(absent)
        raise NotFound(
            f"tenant {names} does not exist in {where}"
            if len(absent) == 1
            else f"tenants {names} do not exist in {where}"
        )
    results: list[CheckResult] = []
    for t in chosen:
        for tenant in tenants:
            results += _verify_table(conn, cfg, t, tenant, _other_tenant(tenant, tenants, t))
    return VerifyReport(cfg.app_role, tuple(tenants), tuple(results))


def _other_tenant(tenant: str, tenants: list[str], t: TenantTable) -> str:
    """Another tenant to write into: one of ``tenants`` valid for the table, else a made-up
    key of the table's type."""
    kind = t.key_type
    others = [x for x in tenants if x != tenant and parse_key(kind, x) is not None]
    if others:
        return others[0]
    if kind in ("integer", "bigint"):
        n = parse_key(kind, tenant)
        return str(n + 1 if n is not None and n < 2**31 - 1 else 1)
    if kind == "uuid":
        return str(uuid.uuid5(uuid.NAMESPACE_OID, tenant))
    return f"{tenant}-other"


@contextlib.contextmanager
def _as_app(conn: psycopg.Connection, cfg: RlsConfig, value: str | None) -> Iterator[None]:
    """A transaction as the application role with the tenant setting; always rolled back."""
    from psycopg import sql

    class _Rollback(Exception):
        pass

    try:
        with conn.transaction():
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(cfg.app_role)))
            if value is not None:
                conn.execute("SELECT set_config(%s, %s, true)", [cfg.setting, value])
            else:
                conn.execute(sql.SQL("RESET {}").format(sql.Identifier(*cfg.setting.split("."))))
            yield
            raise _Rollback
    except _Rollback:
        pass


@dataclass(frozen=True)
class _Probe:
    """One table and tenant under test, with the statements every check uses."""

    conn: Any
    cfg: RlsConfig
    table: TenantTable
    tenant: str  # as the application sets it
    other: str

    @property
    def key(self) -> Any:
        """The tenant as a value of the tenant column's type (for comparisons)."""
        return parse_key(self.table.key_type, self.tenant)

    @property
    def other_key(self) -> Any:
        return parse_key(self.table.key_type, self.other)

    @property
    def ident(self) -> Any:
        from psycopg import sql

        return sql.Identifier(self.table.schema, self.table.name)

    @property
    def col(self) -> Any:
        from psycopg import sql

        return sql.Identifier(self.cfg.column)

    def run(self, query: Any, params: Any = None) -> Any:
        return self.conn.execute(query, params)


# A check returns (result, detail); it runs inside a rolled-back transaction as the
# application role with the tenant setting given beside it (None: unset).
Check = Callable[[_Probe], tuple[str, str]]


def _own_rows_only(p: _Probe) -> tuple[str, str]:
    from psycopg import sql

    foreign, total = p.run(
        sql.SQL("SELECT count(*) FILTER (WHERE {c} IS DISTINCT FROM %s), count(*) FROM {t}").format(
            c=p.col, t=p.ident
        ),
        [p.key],
    ).fetchone()
    if foreign:
        return "LEAK", f"{foreign} row(s) of other tenants visible"
    return "ok", f"{total} row(s) visible"


def _sees_none(p: _Probe) -> tuple[str, str]:
    from psycopg import sql

    n = p.run(sql.SQL("SELECT count(*) FROM {}").format(p.ident)).fetchone()[0]
    return ("LEAK" if n else "ok"), f"{n} row(s) visible"


def _rejected(exc: Exception) -> bool:
    return "row-level security" in str(exc)


def _insert_as(p: _Probe, target: str, unset: bool) -> tuple[str, str]:
    """Copy one of the tenant's rows with the tenant column set to ``target``; with
    ``unset`` the copy is read with the tenant set, then inserted with the setting empty."""
    import psycopg
    from psycopg import sql

    row = p.run(
        sql.SQL("SELECT to_jsonb(r) FROM (SELECT * FROM {t} WHERE {c} = %s LIMIT 1) r").format(
            t=p.ident, c=p.col
        ),
        [p.key],
    ).fetchone()
    if row is None:
        return "n/a", "tenant has no row to copy"
    if unset:
        p.run("SELECT set_config(%s, '', true)", [p.cfg.setting])
    insert = sql.SQL(
        "INSERT INTO {t} OVERRIDING SYSTEM VALUE "
        "SELECT * FROM jsonb_populate_record("
        "NULL::{t}, %s::jsonb || jsonb_build_object({n}, %s::text))"
    ).format(t=p.ident, n=sql.Literal(p.cfg.column))
    try:
        with p.conn.transaction():
            p.run(insert, [psycopg.types.json.Jsonb(row[0]), target])
    except psycopg.errors.InsufficientPrivilege as exc:
        if _rejected(exc):
            return "ok", "rejected by policy"
        raise
    return "LEAK", f"row inserted with {p.cfg.column}={target}"


def _update_to_other(p: _Probe) -> tuple[str, str]:
    import psycopg
    from psycopg import sql

    try:
        with p.conn.transaction():
            n = p.run(
                sql.SQL(
                    "UPDATE {t} SET {c} = %s WHERE ctid = ANY(ARRAY(SELECT ctid FROM {t} LIMIT 1))"
                ).format(t=p.ident, c=p.col),
                [p.other_key],
            ).rowcount
    except psycopg.errors.InsufficientPrivilege as exc:
        if _rejected(exc):
            return "ok", "rejected by policy"
        raise
    if n:
        return "LEAK", f"{n} row(s) moved to tenant {p.other}"
    return "n/a", "tenant has no row to update"


def _update_other_rows(p: _Probe) -> tuple[str, str]:
    from psycopg import sql

    n = p.run(
        sql.SQL("UPDATE {t} SET {c} = {c} WHERE {c} IS DISTINCT FROM %s").format(
            t=p.ident, c=p.col
        ),
        [p.key],
    ).rowcount
    return ("LEAK" if n else "ok"), f"{n} row(s) of other tenants updated"


def _checks(p: _Probe) -> tuple[tuple[str, str | None, Check], ...]:
    """(check, tenant setting, function) in CHECKS order."""
    own = p.tenant
    return (
        ("own_rows_only", own, _own_rows_only),
        ("unset_sees_none", None, _sees_none),
        ("empty_sees_none", "", _sees_none),
        ("garbage_sees_none", f"{p.tenant} OR true", _sees_none),
        ("insert_other_tenant", own, lambda q: _insert_as(q, q.other, unset=False)),
        ("insert_unset", own, lambda q: _insert_as(q, q.tenant, unset=True)),
        ("update_to_other_tenant", own, _update_to_other),
        ("update_other_rows", own, _update_other_rows),
    )


def _verify_table(
    conn: psycopg.Connection, cfg: RlsConfig, t: TenantTable, tenant: str, other: str
) -> list[CheckResult]:
    import psycopg

    probe = _Probe(conn, cfg, t, tenant, other)
    if probe.key is None:
        detail = f"{tenant!r} is not a {t.key_type} key"
        return [CheckResult(t.label, tenant, c, "n/a", detail) for c in CHECKS]
    out: list[CheckResult] = []
    for check, value, fn in _checks(probe):
        try:
            with _as_app(conn, cfg, value):
                result, detail = fn(probe)
        except psycopg.Error as exc:
            result, detail = "error", _one_line(exc)
        out.append(CheckResult(t.label, tenant, check, result, detail))
    return out


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]
