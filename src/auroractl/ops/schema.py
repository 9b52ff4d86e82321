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

DEFAULT_SCHEMAS: dict[str, tuple[str, ...]] = {
    "educacional": ("escolas", "alunos", "professores"),
    "administrativo": ("empresas", "contratos"),
    "autenticacao": ("usuarios", "ai_preferences"),
}
COMMAND = "schema split"


@dataclass(frozen=True)
class SplitConfig:
    source_schema: str = "public"
    app_roles: tuple[str, ...] = ("application_user",)
    schemas: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_SCHEMAS))


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


def config(section: Mapping[str, Any], roles: list[str] | None = None) -> SplitConfig:
    """``[schema_split]`` of auroractl.toml (``source_schema``, ``app_roles``, ``[schema_split
    .schemas]`` schema = [tables]), validated; ``roles`` (--role) overrides app_roles."""
    unknown = set(section) - {"source_schema", "app_roles", "schemas"}
    if unknown:
        raise InvalidInput(f"[schema_split] has unknown keys: {', '.join(sorted(unknown))}")
    source = section.get("source_schema", "public")
    app_roles = roles or section.get("app_roles", ["application_user"])
    schemas = section.get("schemas", DEFAULT_SCHEMAS)
    if isinstance(app_roles, str):
        app_roles = [app_roles]
    _names("[schema_split] source_schema", [source])
    _names("[schema_split] app_roles", app_roles)
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


def split(
    conn: psycopg.Connection, cfg: SplitConfig, prepare_only: bool = False
) -> tuple[SplitReport, Plan]:
    """What `apply` would do (report) and the plan that does it. Idempotent: what is
    already in place is reported as such and left out of the plan.

    ``prepare_only``: schemas, grants and search_path only, no table moves, so that the
    application's connection pool can be recycled onto the new search_path first."""
    source = cfg.source_schema
    targets = list(cfg.schemas)
    target_of = {t: s for s, tables in cfg.schemas.items() for t in tables}
    me, database = conn.execute("SELECT current_user, current_database()").fetchone()
    if not conn.execute("SELECT to_regnamespace(%s) IS NOT NULL", [source]).fetchone()[0]:
        raise NotFound(f'source schema "{source}" does not exist')

    rows = conn.execute(
        templates.load("schema/relations.sql"),
        {"names": list(target_of), "schemas": [source, *targets]},
    ).fetchall()
    found: dict[str, dict[str, tuple]] = {}
    for oid, nsp, name, relkind, owner in rows:
        found.setdefault(name, {})[nsp] = (oid, relkind, owner)
    moves: list[Move] = []
    all_oids: dict[str, list[int]] = {s: [] for s in targets}  # per target: every mapped table
    move_oids: list[int] = []
    notes: list[str] = []
    for table, target in target_of.items():
        where = found.get(table, {})
        if source in where and target in where:
            raise Precondition(f'both "{source}.{table}" and "{target}.{table}" exist')
        if target in where:
            state, nsp = "moved", target
        elif source in where:
            state, nsp = "to move", source
        else:
            other = [s for s in where if s not in (source, target)]
            if other:
                raise Precondition(
                    f'table "{table}" is in schema "{other[0]}", not in "{source}" or "{target}"'
                )
            raise NotFound(f'table "{source}.{table}" does not exist')
        oid, relkind, _ = where[nsp]
        if relkind not in ("r", "p"):
            kinds = {"v": "a view", "m": "a materialized view", "f": "a foreign table"}
            raise InvalidInput(f'"{nsp}.{table}" is {kinds[relkind]}: only tables are moved')
        all_oids[target].append(oid)
        kind = "partitioned table" if relkind == "p" else "table"
        moves.append(Move(table, kind, source, target, state))
        if state == "to move":
            move_oids.append(oid)
        if relkind == "p":
            for poid, pnsp, pname, _level in conn.execute(
                templates.load("schema/partitions.sql"), {"oid": oid}
            ):
                all_oids[target].append(poid)
                if pnsp == source:
                    moves.append(Move(pname, "partition", source, target, "to move", table))
                    move_oids.append(poid)
                elif pnsp != target:
                    notes.append(
                        f'partition "{pnsp}.{pname}" of {table} is in another schema: left there'
                    )
    # Sequences owned by the tables move with them: say so.
    owned: dict[str, list[str]] = {}
    every = [o for oids in all_oids.values() for o in oids]
    for tname, sname in conn.execute(templates.load("schema/sequences.sql"), {"oids": every}):
        owned.setdefault(tname, []).append(sname)
    moves = [replace(m, sequences=tuple(owned.get(m.table, ()))) for m in moves]

    # Schemas and USAGE grants.
    existing = {
        nsp: (owner, set(usage))
        for nsp, owner, usage in conn.execute(
            templates.load("schema/schemas.sql"), {"schemas": targets}
        )
    }
    to_create = [s for s in targets if s not in existing]
    app_roles = []
    for role in cfg.app_roles:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
            app_roles.append(role)
        else:
            notes.append(f"application role {role} does not exist: no grants or search_path")
    grants: list[Grant] = []
    for schema in targets:
        owner, usage = existing.get(schema, (me, set()))
        users = [
            r[0]
            for r in conn.execute(
                templates.load("schema/privileged_roles.sql"), {"oids": all_oids[schema]}
            )
        ]
        wanted = {r: "uses its tables" for r in users}
        wanted.update({r: "application role" for r in app_roles})
        for role, reason in sorted(wanted.items()):
            if role != owner and role not in usage:
                grants.append(Grant(schema, role, reason))

    # search_path of the application roles, in this database.
    paths: list[RolePath] = []
    settings = {
        r[0]: r[1:]
        for r in conn.execute(templates.load("schema/role_settings.sql"), {"roles": app_roles})
    }
    for role in app_roles:
        role_db, role_all, db_all, boot = settings[role]
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
        change = after != before
        paths.append(RolePath(role, before, after, label, change))

    functions = scan_functions(conn, source, target_of)
    sessions = conn.execute(templates.load("schema/sessions.sql"), {"roles": app_roles}).fetchall()
    if sessions and any(p.change for p in paths):
        who = ", ".join(f"{n} x{c}" for n, c in sessions)
        notes.append(
            f"sessions connected now ({who}) keep their old search_path until they reconnect "
            "(ALTER ROLE ... SET applies to new sessions): recycle the connection pool right "
            "after apply"
        )
    for role, objtype in conn.execute(templates.load("schema/default_acl.sql"), {"schema": source}):
        notes.append(
            f"default privileges of {role} in {source} (type {objtype}) do not apply to the "
            "new schemas: repeat ALTER DEFAULT PRIVILEGES there for tables created later"
        )
    if functions:
        notes.append(
            f"{len(functions)} function(s) name moved tables in their bodies "
            "(listed by `schema split plan`)"
        )

    # The plan: schemas, grants and search_path first (one transaction), then one short
    # transaction per table with its partitions.
    steps: list[Step] = []
    prepare = "prepare"
    changes = (
        any(m.state == "to move" for m in moves)
        or to_create
        or grants
        or any(p.change for p in paths)
    )
    if changes:
        steps.extend(auroractl_state.plan_steps(conn, txn=prepare))  # auroractl.schema_split
    for schema in to_create:
        steps.append(
            Step(templates.render("schema/create_schema.sql.j2", schema=schema), txn=prepare)
        )
        steps.append(_with_txn(_record("schema", schema), prepare))
    for g in grants:
        steps.append(
            Step(
                templates.render("schema/grant_usage.sql.j2", schema=g.schema, role=g.role),
                comment=f"{g.role}: {g.reason}",
                txn=prepare,
            )
        )
        steps.append(_with_txn(_record("grant", g.schema, g.role), prepare))
    for p in paths:
        if not p.change:
            continue
        previous = parse_search_path(_setting_value(settings[p.role][0]) or "") or None
        steps.append(
            Step(
                templates.render(
                    "schema/set_search_path.sql.j2", role=p.role, database=database, path=p.after
                ),
                comment=f"{p.role}: search_path (new sessions)",
                txn=prepare,
            )
        )
        steps.append(
            _with_txn(
                _record(
                    "search_path",
                    source,
                    p.role,
                    previous=list(previous) if previous is not None else None,
                ),
                prepare,
            )
        )
    for m in moves:
        if m.state != "to move":
            continue
        txn = f"move {m.parent or m.table}"
        steps.append(
            Step(
                templates.render(
                    "schema/set_schema.sql.j2", table=(m.from_schema, m.table), schema=m.to_schema
                ),
                comment=f"{m.kind} {m.table} -> {m.to_schema}",
                locks=(f"{m.from_schema}.{m.table}",),
                txn=txn,
            )
        )
        steps.append(_with_txn(_record("table", m.to_schema, m.table, from_schema=source), txn))
    steps = _sorted_by_txn(steps)
    if prepare_only:
        steps = [s for s in steps if s.txn == prepare]

    report = SplitReport(
        source,
        tuple(to_create),
        tuple(moves),
        tuple(grants),
        tuple(paths),
        tuple(functions),
        tuple(notes),
    )
    pending = 0 if prepare_only else sum(m.state == "to move" for m in moves)
    if not steps:
        summary = f"schema split is in place: {', '.join(targets)}"
        if prepare_only:
            summary = "schemas, grants and search_path are in place"
    elif prepare_only:
        summary = f"prepare {', '.join(targets)}: schemas, grants, search_path"
    else:
        summary = f"split {source} into {', '.join(targets)}: move {pending} table(s)"
    return report, Plan(f"{COMMAND} apply", summary, tuple(steps), tuple(notes))


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
    tables = 0
    for rid, kind, schema, obj, from_schema, previous in rows:
        drop_row = Step(forget, {"id": rid}, comment=f"forget #{rid}")
        if kind == "table":
            oid = conn.execute(
                "SELECT to_regclass(format('%%I.%%I', %s::text, %s::text))::oid", [schema, obj]
            ).fetchone()[0]
            txn = f"table {obj}"
            if oid is None:
                notes.append(f'"{schema}.{obj}" is no longer there: not moved back')
            else:
                tables += 1
                steps.append(
                    Step(
                        templates.render(
                            "schema/set_schema.sql.j2", table=(schema, obj), schema=from_schema
                        ),
                        comment=f"{obj} -> {from_schema}",
                        locks=(f"{schema}.{obj}",),
                        txn=txn,
                    )
                )
            steps.append(_with_txn(drop_row, txn))
        elif kind == "search_path":
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [obj]).fetchone()
            if exists:
                steps.append(
                    Step(
                        templates.render(
                            "schema/set_search_path.sql.j2",
                            role=obj,
                            database=database,
                            path=list(previous),
                        )
                        if previous
                        else templates.render(
                            "schema/reset_search_path.sql.j2", role=obj, database=database
                        ),
                        comment=f"{obj}: search_path as before",
                        txn="roles",
                    )
                )
            steps.append(_with_txn(drop_row, "roles"))
        elif kind == "grant":
            role_ok = (
                obj == "PUBLIC"
                or conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [obj]).fetchone()
            )
            schema_ok = conn.execute("SELECT to_regnamespace(%s)", [schema]).fetchone()[0]
            if role_ok and schema_ok:
                steps.append(
                    Step(
                        templates.render("schema/revoke_usage.sql.j2", schema=schema, role=obj),
                        txn="roles",
                    )
                )
            steps.append(_with_txn(drop_row, "roles"))
        elif kind == "schema":
            txn = f"schema {schema}"
            if conn.execute("SELECT to_regnamespace(%s)", [schema]).fetchone()[0] is None:
                pass
            elif conn.execute(
                templates.load("schema/other_objects.sql"),
                {"schema": schema, "oids": _recorded_oids(conn, schema, rows)},
            ).fetchone()[0]:
                notes.append(f"schema {schema} holds other objects now: left in place")
            else:
                steps.append(
                    Step(templates.render("schema/drop_schema.sql.j2", schema=schema), txn=txn)
                )
            steps.append(_with_txn(drop_row, txn))
    steps = _sorted_by_txn(steps)
    # Roles and grants are restored after the tables are back, schemas dropped last.
    order = {"table": 0, "roles": 1, "schema": 2}
    steps.sort(key=lambda s: order[s.txn.split(" ", 1)[0]])
    return Plan(
        f"{COMMAND} revert",
        f"revert schema split: move {tables} table(s) back",
        tuple(steps),
        tuple(notes),
    )


def _recorded_oids(conn: psycopg.Connection, schema: str, rows: list[tuple]) -> list[int]:
    """OIDs of the recorded tables still in ``schema`` (they are moved back first)."""
    out = []
    for _rid, kind, s, obj, _f, _p in rows:
        if kind == "table" and s == schema:
            oid = conn.execute(
                "SELECT to_regclass(format('%%I.%%I', %s::text, %s::text))::oid", [s, obj]
            ).fetchone()[0]
            if oid is not None:
                out.append(oid)
    return out
