"""Domain schemas (seed 1.2): move tables out of ``public`` without breaking the application.

``ALTER TABLE ... SET SCHEMA`` is a catalog update (ACCESS EXCLUSIVE for an instant, no
rewrite). What follows the table by OID keeps working: views, matviews, triggers, RLS
policies, foreign keys, column defaults (``nextval('seq'::regclass)``), indexes, owned
sequences (serial / identity: they move with the table), table and column privileges.
What does not:

- names resolved at run time: the application's unqualified queries. Each application
  role gets ``ALTER ROLE ... IN DATABASE ... SET search_path`` with the domain schemas
  added after the source schema (new sessions only: recycle the connection pool);
- function bodies (plain-text ``prosrc``, resolved at call time): reported, not changed;
- schema privileges: roles that use the tables get USAGE on the schemas they move to.

Partitioned tables: ``SET SCHEMA`` on a parent moves the parent only, so the partitions
(every level, those that sat in the source schema) move with it, in the same transaction.
Everything done is recorded in ``auroractl.schema_split`` so that ``revert`` undoes
exactly that (and nothing the DBA did by hand).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import InvalidInput, NotFound, Precondition
from auroractl.ops.shared import state as auroractl_state
from auroractl.plan import Plan, Step

if TYPE_CHECKING:
    import psycopg

COMMAND = "schema split"


@dataclass(frozen=True)
class SplitConfig:
    source_schema: str = "public"
    app_roles: tuple[str, ...] = ("application_user",)
    schemas: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Move:
    table: str
    kind: str  # table | partitioned table | partition
    from_schema: str
    to_schema: str
    state: str  # to move | moved
    parent: str | None = None
    sequences: tuple[str, ...] = ()


@dataclass(frozen=True)
class Grant:
    schema: str
    role: str
    reason: str


@dataclass(frozen=True)
class RolePath:
    role: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    from_setting: str  # where "before" comes from
    change: bool


@dataclass(frozen=True)
class FunctionRef:
    function: str
    language: str
    unqualified: tuple[str, ...]
    qualified: tuple[str, ...]
    pinned_search_path: str | None
    risk: str


@dataclass(frozen=True)
class SplitReport:
    source_schema: str
    schemas_to_create: tuple[str, ...]
    moves: tuple[Move, ...]
    grants: tuple[Grant, ...]
    search_paths: tuple[RolePath, ...]
    functions: tuple[FunctionRef, ...]
    notes: tuple[str, ...]


def config(
    section: Mapping[str, Any],
    roles: list[str] | None = None,
    layout: Mapping[str, Any] | None = None,
) -> SplitConfig:
    """``[schema_split]`` of auroractl.toml (``source_schema``, ``app_roles``, ``[schema_split
    .schemas]`` schema = [tables]), validated; ``roles`` (--role) overrides app_roles.
    ``layout``: the schemas when the section names none (the caller's default, if any);
    without either, a refusal: which table goes where is the user's to say."""
    unknown = set(section) - {"source_schema", "app_roles", "schemas"}
    if unknown:
        raise InvalidInput(f"[schema_split] has unknown keys: {', '.join(sorted(unknown))}")
    source = section.get("source_schema", "public")
    app_roles = roles or section.get("app_roles", ["application_user"])
    schemas = section.get("schemas", layout)
    if isinstance(app_roles, str):
        app_roles = [app_roles]
    _names("[schema_split] source_schema", [source])
    _names("[schema_split] app_roles", app_roles)
    if schemas is None:
        raise InvalidInput(
            "[schema_split] schemas is not set: which tables go to which schema",
            hint='auroractl.toml: [schema_split.schemas] then e.g. sales = ["orders", "invoices"]',
        )
    if not isinstance(schemas, Mapping) or not schemas:
        raise InvalidInput("[schema_split] schemas must map schema names to lists of tables")
    seen: dict[str, str] = {}
    mapping: dict[str, tuple[str, ...]] = {}
    for schema, tables in schemas.items():
        _names("[schema_split] schemas", [schema])
        if schema == source:
            raise InvalidInput(f"[schema_split] schema {schema!r} is the source schema itself")
        if schema.startswith("pg_") or schema in ("auroractl", "information_schema"):
            raise InvalidInput(f"[schema_split] schema {schema!r} is reserved")
        if isinstance(tables, str):
            tables = [tables]
        _names(f"[schema_split] schemas.{schema}", tables)
        for t in tables:
            if t in seen:
                raise InvalidInput(
                    f"[schema_split] table {t!r} is mapped to both {seen[t]!r} and {schema!r}"
                )
            seen[t] = schema
        mapping[schema] = tuple(tables)
    return SplitConfig(source, tuple(app_roles), mapping)


def _names(what: str, values: Any) -> None:
    if not isinstance(values, list | tuple) or not values:
        raise InvalidInput(f"{what} must be a non-empty list of names")
    for v in values:
        if not isinstance(v, str) or not v.strip() or len(v.encode()) > 63 or "\x00" in v:
            raise InvalidInput(f"{what}: {v!r} is not a valid name")


# --- search_path values -------------------------------------------------------------


def parse_search_path(value: str) -> tuple[str, ...]:
    """``"$user", public, "My Schema"`` -> ('$user', 'public', 'My Schema')."""
    out = []
    for m in re.finditer(r'\s*("(?:[^"]|"")*"|[^,]+)\s*(?:,|$)', value):
        item = m.group(1).strip()
        if not item:
            continue
        if item.startswith('"') and item.endswith('"'):
            out.append(item[1:-1].replace('""', '"'))
        else:
            out.append(item.lower())
    return tuple(out)


def _setting_value(setconfig_item: str | None) -> str | None:
    return setconfig_item.split("=", 1)[1] if setconfig_item else None


def widen(path: tuple[str, ...], source: str, targets: list[str]) -> tuple[str, ...]:
    """Add the domain schemas right after the source schema (so that unqualified CREATEs
    still land in it), or at the end when the path does not name it."""
    missing = [t for t in targets if t not in path]
    if not missing:
        return path
    if source in path:
        i = path.index(source) + 1
        return path[:i] + tuple(missing) + path[i:]
    return path + tuple(missing)


# --- analysis -----------------------------------------------------------------------


def _pattern(names: list[str]) -> str:
    """A PostgreSQL ARE matching any of the names as a whole word."""
    return r"\m(" + "|".join(re.sub(r"(\W)", r"\\\1", n) for n in names) + r")\M"


def scan_functions(
    conn: psycopg.Connection, source: str, tables: dict[str, str]
) -> list[FunctionRef]:
    """Functions whose plain-text bodies name the tables (``tables``: name -> new schema)."""
    if not tables:
        return []
    rows = conn.execute(
        templates.load("schema/functions.sql"), {"pattern": _pattern(sorted(tables))}
    ).fetchall()
    out = []
    for function, language, src, proconfig in rows:
        body = _strip_comments(src or "")
        unqualified, qualified = [], []
        for name in sorted(tables):
            q = re.escape(name)
            bare = rf'(?<![\w$."]){q}(?![\w$])|(?<![\w$.])"{q}"'
            if re.search(bare, body, re.IGNORECASE):
                unqualified.append(name)
            if re.search(rf'(?<![\w$]){re.escape(source)}"?\s*\.\s*"?{q}(?![\w$])', body, re.I):
                qualified.append(name)
        if not unqualified and not qualified:
            continue
        pinned = next(
            (_setting_value(c) for c in proconfig or () if c.startswith("search_path=")), None
        )
        risks = []
        if qualified:
            risks.append(
                f"names {', '.join(f'{source}.{t}' for t in qualified)}: fails after the move; "
                "use the new schema"
            )
        if unqualified:
            needed = {tables[t] for t in unqualified}
            if pinned is not None:
                pinned_path = set(parse_search_path(pinned))
                if not needed <= pinned_path:
                    risks.append(
                        f"its own search_path ({pinned}) lacks "
                        f"{', '.join(sorted(needed - pinned_path))}: fails after the move; "
                        "ALTER FUNCTION ... SET search_path to include them"
                    )
            else:
                risks.append(
                    "resolves unqualified names through the caller's search_path: works for "
                    "the application roles, fails for other roles; pin it with ALTER FUNCTION "
                    f"... SET search_path = {source}, {', '.join(sorted(needed))}"
                )
        if not risks:
            continue
        out.append(
            FunctionRef(
                function, language, tuple(unqualified), tuple(qualified), pinned, "; ".join(risks)
            )
        )
    return out


def _strip_comments(body: str) -> str:
    return re.sub(r"--[^\n]*|/\*.*?\*/", " ", body, flags=re.DOTALL)


def _record(kind: str, schema: str, obj: str | None = None, **extra: Any) -> Step:
    params = {
        "kind": kind,
        "schema_name": schema,
        "object": obj,
        "from_schema": extra.get("from_schema"),
        "previous": extra.get("previous"),
    }
    return Step(
        templates.load("schema/record.sql"), params, comment=f"record: {kind} {obj or schema}"
    )


@dataclass(frozen=True)
class Relation:
    oid: int
    schema: str
    name: str
    relkind: str
    owner: str


@dataclass(frozen=True)
class SplitFacts:
    """What ``plan_split`` works from, read in one go by ``read_split``."""

    user: str
    database: str
    relations: tuple[Relation, ...]  # the mapped tables, in the source or a target schema
    partitions: Mapping[int, tuple[Relation, ...]] = field(default_factory=dict)  # by parent
    sequences: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # owned, by table
    schemas: Mapping[str, tuple[str, frozenset[str]]] = field(default_factory=dict)
    roles: tuple[str, ...] = ()  # the configured application roles that exist
    users: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # of each target's tables
    role_settings: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    functions: tuple[FunctionRef, ...] = ()
    sessions: tuple[tuple[str, int], ...] = ()  # application sessions connected now
    default_acl: tuple[tuple[str, str], ...] = ()  # default privileges in the source schema
    state_steps: tuple[Step, ...] = ()  # installing auroractl's tables, when needed
    state_refusal: Precondition | None = None  # ... and this role may not


def split(
    conn: psycopg.Connection, cfg: SplitConfig, prepare_only: bool = False
) -> tuple[SplitReport, Plan]:
    """What `apply` would do (report) and the plan that does it: read, then plan."""
    return plan_split(read_split(conn, cfg), cfg, prepare_only)


def read_split(conn: psycopg.Connection, cfg: SplitConfig) -> SplitFacts:
    source, targets = cfg.source_schema, list(cfg.schemas)
    target_of = _target_of(cfg)
    me, database = conn.execute("SELECT current_user, current_database()").fetchone()
    if not conn.execute("SELECT to_regnamespace(%s) IS NOT NULL", [source]).fetchone()[0]:
        raise NotFound(f'source schema "{source}" does not exist')
    rels = tuple(
        Relation(*r)
        for r in conn.execute(
            templates.load("schema/relations.sql"),
            {"names": list(target_of), "schemas": [source, *targets]},
        )
    )
    partitions = {
        r.oid: tuple(
            Relation(poid, pnsp, pname, "r", "")
            for poid, pnsp, pname, _level in conn.execute(
                templates.load("schema/partitions.sql"), {"oid": r.oid}
            )
        )
        for r in rels
        if r.relkind == "p"
    }
    oids: dict[str, list[int]] = {t: [] for t in targets}  # per target: every mapped table
    for r in rels:
        if r.schema in (source, target_of[r.name]):
            oids[target_of[r.name]] += [r.oid, *(p.oid for p in partitions.get(r.oid, ()))]
    every = [o for group in oids.values() for o in group]
    owned: dict[str, tuple[str, ...]] = {}
    for tname, sname in conn.execute(templates.load("schema/sequences.sql"), {"oids": every}):
        owned[tname] = (*owned.get(tname, ()), sname)
    rows = conn.execute(
        "SELECT rolname::text FROM pg_roles WHERE rolname = ANY(%s)", [list(cfg.app_roles)]
    )
    existing = {r[0] for r in rows}
    roles = tuple(r for r in cfg.app_roles if r in existing)
    return SplitFacts(
        me,
        database,
        rels,
        partitions,
        owned,
        {
            nsp: (owner, frozenset(usage))
            for nsp, owner, usage in conn.execute(
                templates.load("schema/schemas.sql"), {"schemas": targets}
            )
        },
        roles,
        {t: _privileged(conn, oids[t]) for t in targets},
        {
            r[0]: tuple(r[1:])
            for r in conn.execute(
                templates.load("schema/role_settings.sql"), {"roles": list(roles)}
            )
        },
        tuple(scan_functions(conn, source, target_of)),
        tuple(
            tuple(r)
            for r in conn.execute(templates.load("schema/sessions.sql"), {"roles": list(roles)})
        ),
        tuple(
            tuple(r)
            for r in conn.execute(templates.load("schema/default_acl.sql"), {"schema": source})
        ),
        *_state_steps(conn),
    )


def _state_steps(conn: psycopg.Connection) -> tuple[tuple[Step, ...], Precondition | None]:
    try:
        return auroractl_state.plan_steps(conn, txn=PREPARE), None
    except Precondition as exc:  # raised only if the split has something to record
        return (), exc


def _privileged(conn: psycopg.Connection, oids: list[int]) -> tuple[str, ...]:
    rows = conn.execute(templates.load("schema/privileged_roles.sql"), {"oids": oids})
    return tuple(r[0] for r in rows)


def _target_of(cfg: SplitConfig) -> dict[str, str]:
    return {t: s for s, tables in cfg.schemas.items() for t in tables}


# --- the plan (pure) -----------------------------------------------------------------

PREPARE = "prepare"


def plan_split(
    facts: SplitFacts, cfg: SplitConfig, prepare_only: bool = False
) -> tuple[SplitReport, Plan]:
    """The report and the plan from ``facts`` alone. Idempotent: what is already in place
    is reported as such and left out of the plan.

    ``prepare_only``: schemas, grants and search_path only, no table moves, so that the
    application's connection pool can be recycled onto the new search_path first."""
    source, targets = cfg.source_schema, list(cfg.schemas)
    moves, notes = _moves(facts, cfg)
    to_create = [s for s in targets if s not in facts.schemas]
    notes += [
        f"application role {role} does not exist: no grants or search_path"
        for role in cfg.app_roles
        if role not in facts.roles
    ]
    grants = _grants(facts, targets)
    paths = _paths(facts, source, targets)
    notes += _split_notes(facts, source, paths)
    steps = _prepare_steps(facts, source, to_create, grants, paths, moves)
    if not prepare_only:
        steps += _move_steps(moves, source)
    report = SplitReport(
        source,
        tuple(to_create),
        tuple(moves),
        tuple(grants),
        tuple(paths),
        facts.functions,
        tuple(notes),
    )
    pending = sum(m.state == "to move" for m in moves)
    if not steps:
        summary = f"schema split is in place: {', '.join(targets)}"
        if prepare_only:
            summary = "schemas, grants and search_path are in place"
    elif prepare_only:
        summary = f"prepare {', '.join(targets)}: schemas, grants, search_path"
    else:
        summary = f"split {source} into {', '.join(targets)}: move {pending} table(s)"
    return report, Plan(f"{COMMAND} apply", summary, tuple(steps), tuple(notes))


def _moves(facts: SplitFacts, cfg: SplitConfig) -> tuple[list[Move], list[str]]:
    """Each mapped table (and its partitions) with where it is: to move, or moved."""
    source = cfg.source_schema
    found: dict[str, dict[str, Relation]] = {}
    for r in facts.relations:
        found.setdefault(r.name, {})[r.schema] = r
    moves: list[Move] = []
    notes: list[str] = []
    for table, target in _target_of(cfg).items():
        rel = _located(found.get(table, {}), table, source, target)
        if rel.relkind not in ("r", "p"):
            kinds = {"v": "a view", "m": "a materialized view", "f": "a foreign table"}
            raise InvalidInput(
                f'"{rel.schema}.{table}" is {kinds[rel.relkind]}: only tables are moved'
            )
        state = "moved" if rel.schema == target else "to move"
        kind = "partitioned table" if rel.relkind == "p" else "table"
        moves.append(Move(table, kind, source, target, state))
        for part in facts.partitions.get(rel.oid, ()):
            if part.schema == source:
                moves.append(Move(part.name, "partition", source, target, "to move", table))
            elif part.schema != target:
                notes.append(
                    f'partition "{part.schema}.{part.name}" of {table} is in another schema: '
                    "left there"
                )
    # Sequences owned by the tables move with them: say so.
    moves = [replace(m, sequences=tuple(facts.sequences.get(m.table, ()))) for m in moves]
    return moves, notes


def _located(where: dict[str, Relation], table: str, source: str, target: str) -> Relation:
    if source in where and target in where:
        raise Precondition(f'both "{source}.{table}" and "{target}.{table}" exist')
    if target in where:
        return where[target]
    if source in where:
        return where[source]
    other = [s for s in where if s not in (source, target)]
    if other:
        raise Precondition(
            f'table "{table}" is in schema "{other[0]}", not in "{source}" or "{target}"'
        )
    raise NotFound(f'table "{source}.{table}" does not exist')


def _grants(facts: SplitFacts, targets: list[str]) -> list[Grant]:
    """USAGE on each target schema for the roles that use its tables, and the app roles."""
    grants = []
    for schema in targets:
        owner, usage = facts.schemas.get(schema, (facts.user, frozenset()))
        wanted = {r: "uses its tables" for r in facts.users.get(schema, ())}
        wanted.update({r: "application role" for r in facts.roles})
        for role, reason in sorted(wanted.items()):
            if role != owner and role not in usage:
                grants.append(Grant(schema, role, reason))
    return grants


def _paths(facts: SplitFacts, source: str, targets: list[str]) -> list[RolePath]:
    """The application roles' search_path in this database, as it is and as it becomes."""
    paths = []
    for role in facts.roles:
        role_db, role_all, db_all, boot = facts.role_settings[role]
        label, value = next(
            (label, value)
            for label, value in (
                ("role in database", _setting_value(role_db)),
                ("role", _setting_value(role_all)),
                ("database", _setting_value(db_all)),
                ("server default", boot or ""),
            )
            if value is not None
        )
        before = parse_search_path(value or "")
        after = widen(before, source, targets)
        paths.append(RolePath(role, before, after, label, after != before))
    return paths


def _split_notes(facts: SplitFacts, source: str, paths: list[RolePath]) -> list[str]:
    notes = []
    if facts.sessions and any(p.change for p in paths):
        who = ", ".join(f"{n} x{c}" for n, c in facts.sessions)
        notes.append(
            f"sessions connected now ({who}) keep their old search_path until they reconnect "
            "(ALTER ROLE ... SET applies to new sessions): recycle the connection pool right "
            "after apply"
        )
    notes += [
        f"default privileges of {role} in {source} (type {objtype}) do not apply to the "
        "new schemas: repeat ALTER DEFAULT PRIVILEGES there for tables created later"
        for role, objtype in facts.default_acl
    ]
    if facts.functions:
        notes.append(
            f"{len(facts.functions)} function(s) name moved tables in their bodies "
            "(listed by `schema split plan`)"
        )
    return notes


def _prepare_steps(
    facts: SplitFacts,
    source: str,
    to_create: list[str],
    grants: list[Grant],
    paths: list[RolePath],
    moves: list[Move],
) -> list[Step]:
    """Schemas, grants and search_path first, in one transaction, each recorded."""
    steps: list[Step] = []
    changes = any(m.state == "to move" for m in moves) or to_create or grants
    if changes or any(p.change for p in paths):
        if facts.state_refusal is not None:
            raise facts.state_refusal
        steps.extend(facts.state_steps)  # auroractl.schema_split, when not installed yet
    for schema in to_create:
        steps.append(
            Step(templates.render("schema/create_schema.sql.j2", schema=schema), txn=PREPARE)
        )
        steps.append(_with_txn(_record("schema", schema), PREPARE))
    for g in grants:
        sql = templates.render("schema/grant_usage.sql.j2", schema=g.schema, role=g.role)
        steps.append(Step(sql, comment=f"{g.role}: {g.reason}", txn=PREPARE))
        steps.append(_with_txn(_record("grant", g.schema, g.role), PREPARE))
    for p in paths:
        if not p.change:
            continue
        previous = parse_search_path(_setting_value(facts.role_settings[p.role][0]) or "")
        sql = templates.render(
            "schema/set_search_path.sql.j2", role=p.role, database=facts.database, path=p.after
        )
        steps.append(Step(sql, comment=f"{p.role}: search_path (new sessions)", txn=PREPARE))
        record = _record("search_path", source, p.role, previous=list(previous) or None)
        steps.append(_with_txn(record, PREPARE))
    return steps


def _move_steps(moves: list[Move], source: str) -> list[Step]:
    """One short transaction per table, with its partitions."""
    steps = []
    for m in moves:
        if m.state != "to move":
            continue
        txn = f"move {m.parent or m.table}"
        sql = templates.render(
            "schema/set_schema.sql.j2", table=(m.from_schema, m.table), schema=m.to_schema
        )
        steps.append(
            Step(
                sql,
                comment=f"{m.kind} {m.table} -> {m.to_schema}",
                locks=(f"{m.from_schema}.{m.table}",),
                txn=txn,
            )
        )
        steps.append(_with_txn(_record("table", m.to_schema, m.table, from_schema=source), txn))
    return _sorted_by_txn(steps)


def _with_txn(step: Step, txn: str) -> Step:
    return replace(step, txn=txn)


def _sorted_by_txn(steps: list[Step]) -> list[Step]:
    """Keep each transaction's steps together (a partition can follow another table)."""
    order: dict[str, list[Step]] = {}
    for s in steps:
        order.setdefault(s.txn, []).append(s)
    return [s for group in order.values() for s in group]


def revert(conn: psycopg.Connection) -> Plan:
    """Undo what ``apply`` recorded, newest first: tables back, search_path restored,
    grants revoked, schemas dropped when nothing else is in them."""
    if not auroractl_state.readable(conn):
        return Plan(f"{COMMAND} revert", "nothing to revert: schema split was never applied")
    rows = conn.execute(templates.load("schema/recorded.sql")).fetchall()
    if not rows:
        return Plan(f"{COMMAND} revert", "nothing to revert: no recorded schema split")
    database = conn.execute("SELECT current_database()").fetchone()[0]
    forget = templates.load("schema/forget.sql")
    steps: list[Step] = []
    notes: list[str] = []
    for rid, kind, schema, obj, from_schema, previous in rows:
        if kind == "table":
            txn = f"table {obj}"
            steps += _revert_table(conn, schema, obj, from_schema, txn, notes)
        elif kind == "search_path":
            txn = "roles"
            steps += _revert_search_path(conn, obj, database, previous)
        elif kind == "grant":
            txn = "roles"
            steps += _revert_grant(conn, schema, obj)
        elif kind == "schema":
            txn = f"schema {schema}"
            steps += _revert_schema(conn, schema, rows, notes)
        else:
            continue
        steps.append(Step(forget, {"id": rid}, comment=f"forget #{rid}", txn=txn))
    steps = _sorted_by_txn(steps)
    # Roles and grants are restored after the tables are back, schemas dropped last.
    order = {"table": 0, "roles": 1, "schema": 2}
    steps.sort(key=lambda s: order[s.txn.split(" ", 1)[0]])
    tables = sum(1 for s in steps if s.txn.startswith("table ") and s.locks)
    return Plan(
        f"{COMMAND} revert",
        f"revert schema split: move {tables} table(s) back",
        tuple(steps),
        tuple(notes),
    )


def _regclass(conn: psycopg.Connection, schema: str, name: str) -> int | None:
    return conn.execute(
        "SELECT to_regclass(format('%%I.%%I', %s::text, %s::text))::oid", [schema, name]
    ).fetchone()[0]


def _role_exists(conn: psycopg.Connection, role: str) -> bool:
    return bool(conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone())


def _schema_exists(conn: psycopg.Connection, schema: str) -> bool:
    return conn.execute("SELECT to_regnamespace(%s)", [schema]).fetchone()[0] is not None


def _revert_table(
    conn: psycopg.Connection, schema: str, name: str, back_to: str, txn: str, notes: list[str]
) -> list[Step]:
    if _regclass(conn, schema, name) is None:
        notes.append(f'"{schema}.{name}" is no longer there: not moved back')
        return []
    sql = templates.render("schema/set_schema.sql.j2", table=(schema, name), schema=back_to)
    return [Step(sql, comment=f"{name} -> {back_to}", locks=(f"{schema}.{name}",), txn=txn)]


def _revert_search_path(
    conn: psycopg.Connection, role: str, database: str, previous: list[str] | None
) -> list[Step]:
    if not _role_exists(conn, role):
        return []
    if previous:
        sql = templates.render(
            "schema/set_search_path.sql.j2", role=role, database=database, path=list(previous)
        )
    else:
        sql = templates.render("schema/reset_search_path.sql.j2", role=role, database=database)
    return [Step(sql, comment=f"{role}: search_path as before", txn="roles")]


def _revert_grant(conn: psycopg.Connection, schema: str, role: str) -> list[Step]:
    if not ((role == "PUBLIC" or _role_exists(conn, role)) and _schema_exists(conn, schema)):
        return []
    sql = templates.render("schema/revoke_usage.sql.j2", schema=schema, role=role)
    return [Step(sql, txn="roles")]


def _revert_schema(
    conn: psycopg.Connection, schema: str, rows: list[tuple], notes: list[str]
) -> list[Step]:
    """Drop a schema split created, unless something else lives in it now."""
    if not _schema_exists(conn, schema):
        return []
    others = conn.execute(
        templates.load("schema/other_objects.sql"),
        {"schema": schema, "oids": _recorded_oids(conn, schema, rows)},
    ).fetchone()[0]
    if others:
        notes.append(f"schema {schema} holds other objects now: left in place")
        return []
    sql = templates.render("schema/drop_schema.sql.j2", schema=schema)
    return [Step(sql, txn=f"schema {schema}")]


def _recorded_oids(conn: psycopg.Connection, schema: str, rows: list[tuple]) -> list[int]:
    """OIDs of the recorded tables still in ``schema`` (they are moved back first)."""
    out = []
    for _rid, kind, s, obj, _f, _p in rows:
        if kind == "table" and s == schema:
            oid = _regclass(conn, s, obj)
            if oid is not None:
                out.append(oid)
    return out
