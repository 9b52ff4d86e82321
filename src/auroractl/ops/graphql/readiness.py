"""Readiness of the schema for PostGraphile 5 (requirements 4.1), judged against what
PostGraphile really does with it.

PostGraphile serves what the role it runs as can reach and leaves authorization to the
database. So the database must make a tenant's request see exactly its rows: row security
forced on every tenant table, each permissive policy binding the tenant key through the
setting the generated config sets, no partition or view readable around those policies.
The rest keeps the API whole: sequences an INSERT needs, row identities (a primary key or
a UNIQUE constraint), indexes behind relation fields, personal columns hidden.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from auroractl import templates
from auroractl.errors import InvalidInput, NotFound
from auroractl.ops.shared.tenant_refs import cross_tenant_refs

if TYPE_CHECKING:
    import psycopg

KINDS = {"r": "table", "p": "partitioned", "v": "view", "m": "materialized view", "f": "foreign"}
MANIFEST = "auroractl-graphql.json"
_SETTING = re.compile(r"current_setting\('((?:[^']|'')+)'")


@dataclass(frozen=True)
class Manifest:
    """What a generated setup was written for; `graphql check --config` reads it."""

    directory: str
    app_role: str
    setting: str
    hidden: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # ("*",): all of it
    run: str = ""

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        path = directory / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            hidden = {str(k): tuple(v) for k, v in data["hidden"].items()}
            return cls(str(directory), data["app_role"], data["setting"], hidden, data["run"])
        except FileNotFoundError:
            raise InvalidInput(
                f"{path} does not exist (write it: auroractl graphql config --output {directory})"
            ) from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidInput(f"{path} is not a file auroractl wrote ({exc})") from None


@dataclass(frozen=True)
class Finding:
    relation: str
    kind: str  # rls_off, policy_unbound, partition_readable, view_bypasses_rls, ...
    blocking: bool
    message: str
    objects: tuple[tuple[str, str], ...] = ()  # (schema, name) a fix acts on
    columns: tuple[str, ...] = ()  # the columns it is about


@dataclass(frozen=True)
class Relation:
    label: str
    kind: str  # table | partitioned | partition | view | materialized view | foreign
    tenant: bool
    rls: str  # forced | enabled (not forced) | off | n/a
    privileges: tuple[str, ...] | None  # None: the role does not exist
    served: bool  # PostGraphile gives it a type: reachable, not a partition, not hidden
    identity: str  # primary key | unique <name> | none


@dataclass(frozen=True)
class Readiness:
    app_role: str
    role_exists: bool
    tenant_column: str
    setting: str
    config: str | None  # the generated config directory compared, if any
    relations: tuple[Relation, ...]
    findings: tuple[Finding, ...]
    run: str  # the command that serves the API

    @property
    def blocking(self) -> int:
        return sum(f.blocking for f in self.findings)


@dataclass(frozen=True)
class Target:
    """What the check compares the database with: the role PostGraphile runs as, the data
    map's tenant key and personal columns, and the generated setup (if any)."""

    schemas: tuple[str, ...]
    app_role: str
    tenant_column: str
    setting: str
    personal: Mapping[str, tuple[str, ...]]
    manifest: Manifest | None = None
    root: str | None = None  # the tenant root ("schema.table" listing every tenant)


def check(conn: psycopg.Connection, target: Target) -> Readiness:
    """Every relation of ``target.schemas`` as PostGraphile 5 would serve it, and the
    findings that keep it from isolating tenants or from working."""
    require_schemas(conn, list(target.schemas))
    params = {
        "role": target.app_role,
        "tenant_column": target.tenant_column,
        "personal": [f"{t}.{c}" for t, cols in target.personal.items() for c in cols],
        "schemas": list(target.schemas),
    }
    role_exists = (
        conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [target.app_role]).fetchone()
        is not None
    )
    rows = conn.execute(templates.load("graphql/relations.sql"), params).fetchall()
    policies = _by_label(conn.execute(templates.load("graphql/policies.sql"), params))
    fks = conn.execute(templates.load("graphql/foreign_keys.sql"), params).fetchall()
    sources = {
        r[0]: (tuple(r[1]), tuple(r[2] or ()))
        for r in conn.execute(templates.load("graphql/view_sources.sql"), params)
    }
    hidden = target.manifest.hidden if target.manifest else {}
    relations, findings = [], []
    tenant_tables = {r[0] + "." + r[1] for r in rows if r[7] and r[2] in ("r", "p")}
    for row in rows:
        rel, found = _relation(row, target, role_exists, policies, sources, tenant_tables, hidden)
        relations.append(rel)
        findings += found
    served = {r.label for r in relations if r.served}
    findings += _foreign_key_findings(fks, served)
    findings += [f for f in _cross_tenant_findings(conn, target) if f.relation in served]
    findings += _definer_findings(
        conn.execute(templates.load("graphql/definer_functions.sql"), params)
    )
    findings = _role_findings(target, role_exists) + _config_findings(target) + findings
    return Readiness(
        target.app_role,
        role_exists,
        target.tenant_column,
        target.setting,
        target.manifest.directory if target.manifest else None,
        tuple(relations),
        tuple(findings),
        target.manifest.run if target.manifest else _NO_CONFIG_RUN,
    )


_NO_CONFIG_RUN = "auroractl graphql config --output DIR (then: cd DIR && npm ci && npm start)"


def require_schemas(conn: psycopg.Connection, schemas: list[str]) -> None:
    query = templates.load("graphql/missing_schemas.sql")
    missing = [r[0] for r in conn.execute(query, {"schemas": schemas})]
    if missing:
        raise NotFound(
            f"schema {', '.join(missing)} does not exist"
            " (pass --schema with a schema of this database)"
        )


def _by_label(rows) -> dict[str, list[tuple]]:  # type: ignore[no-untyped-def]
    out: dict[str, list[tuple]] = {}
    for row in rows:
        out.setdefault(row[0], []).append(row[1:])
    return out


def _role_findings(target: Target, role_exists: bool) -> list[Finding]:
    if role_exists:
        return []
    return [
        Finding(
            "-",
            "role_missing",
            True,
            f"role {target.app_role} does not exist: nothing is served "
            "(auroractl rls enable, then auroractl graphql grant)",
        )
    ]


def _config_findings(target: Target) -> list[Finding]:
    """The generated setup must set the setting the policies read."""
    m = target.manifest
    if m is None or (m.setting, m.app_role) == (target.setting, target.app_role):
        return []
    return [
        Finding(
            m.directory,
            "config_stale",
            True,
            f"the config sets {m.setting} as {m.app_role}; the data map's tenant setting is "
            f"{target.setting} as {target.app_role}: regenerate it (auroractl graphql config)",
        )
    ]


def _relation(
    row: tuple,
    target: Target,
    role_exists: bool,
    policies: dict[str, list[tuple]],
    sources: dict[str, tuple[tuple[str, ...], tuple[str, ...]]],
    tenant_tables: set[str],
    hidden: Mapping[str, tuple[str, ...]],
) -> tuple[Relation, list[Finding]]:
    (schema, name, relkind, is_partition, _parent, has_pk, uniques, tenant) = row[:8]
    rls_on, rls_forced, invoker, privs, personal, sequences = row[8:]
    label = f"{schema}.{name}"
    kind = "partition" if is_partition else KINDS[relkind]
    table_like = relkind in ("r", "p")
    rls = (
        "n/a"
        if not (tenant and table_like)
        else ("forced" if rls_on and rls_forced else "enabled (not forced)" if rls_on else "off")
    )
    reachable = bool(privs)
    whole_hidden = hidden.get(label) == ("*",)
    served = reachable and not is_partition and not whole_hidden
    identity = "primary key" if has_pk else f"unique {uniques[0]}" if uniques else "none"
    found: list[Finding] = []
    if tenant and table_like and (served or (is_partition and reachable)):
        found += _tenant_findings(label, rls, is_partition, policies.get(label, []), target)
        if is_partition and found and found[0].kind == "partition_readable":
            found[0] = replace(found[0], objects=((schema, name),))
    if relkind in ("v", "m") and reachable:
        view = _view_findings(label, relkind, invoker, sources.get(label), tenant_tables, target)
        found += [f for f in view if not (whole_hidden and f.kind == "personal_exposed")]
    if served and label == target.root:
        found.append(
            Finding(
                label,
                "root_readable",
                True,
                f"the tenant root: {target.app_role} reads every tenant's row here "
                "(auroractl graphql grant revokes it)",
                ((schema, name),),
            )
        )
    if served:
        found += _served_findings(label, identity, personal, sequences, hidden.get(label, ()))
    rel = Relation(
        label, kind, bool(tenant), rls, tuple(privs) if role_exists else None, served, identity
    )
    return rel, found


def _tenant_findings(
    label: str, rls: str, is_partition: bool, policies: list[tuple], target: Target
) -> list[Finding]:
    """A tenant table the role reaches: forced row security and policies that bind."""
    role = target.app_role
    if is_partition and rls != "forced":
        return [
            Finding(
                label,
                "partition_readable",
                True,
                f"{role} can read this partition directly, around its parent's policies "
                f"(RLS {rls}): every tenant's rows (auroractl graphql grant revokes it)",
            )
        ]
    if rls != "forced":
        return [
            Finding(
                label,
                "rls_off",
                True,
                f"tenant table with RLS {rls}: every tenant's rows are served "
                "(auroractl rls enable)",
            )
        ]
    permissive = [p for p in policies if p[1]]
    if not permissive:
        return [
            Finding(label, "no_policy", True, f"no policy lets {role} see a row: nothing is served")
        ]
    return [f for p in permissive for f in _policy_findings(label, p, target)]


def _policy_findings(label: str, policy: tuple, target: Target) -> list[Finding]:
    """A permissive policy must compare the tenant column with the map's setting, in its
    USING (reads) and its WITH CHECK (writes)."""
    name, _permissive, cmd, using, check = policy
    exprs = []
    if cmd in ("*", "r", "w", "d"):
        exprs.append(("USING", using))
    if cmd in ("*", "a", "w"):
        exprs.append(("WITH CHECK", check or using))
    out = []
    for clause, expr in exprs:
        settings = {s.replace("''", "'") for s in _SETTING.findall(expr)}
        binds_column = re.search(rf'(?<![\w"]){re.escape(target.tenant_column)}(?![\w"])', expr)
        quoted = f'"{target.tenant_column}"' in expr
        if (binds_column or quoted) and target.setting in settings:
            continue
        if (binds_column or quoted) and settings:
            message = (
                f"policy {name} {clause} reads {', '.join(sorted(settings))}, not the data "
                f"map's tenant setting {target.setting} (which the config sets): no tenant "
                "sees its rows"
            )
            out.append(Finding(label, "setting_mismatch", True, message))
        else:
            message = (
                f"policy {name} {clause} ({_short(expr)}) does not bind "
                f"{target.tenant_column} to {target.setting}: it opens every tenant's rows"
            )
            out.append(Finding(label, "policy_unbound", True, message))
    return out


def _short(expr: str, width: int = 60) -> str:
    text = " ".join(expr.split()) or "no expression"
    return text if len(text) <= width else text[: width - 3] + "..."


def _view_findings(
    label: str,
    relkind: str,
    invoker: bool,
    source: tuple[tuple[str, ...], tuple[str, ...]] | None,
    tenant_tables: set[str],
    target: Target,
) -> list[Finding]:
    """A view runs as its owner unless security_invoker: over a tenant table it reads
    around the caller's policies. A materialized view has no row security at all."""
    tables, columns = source or ((), ())
    out = []
    over = sorted(set(tables) & tenant_tables)
    if over and (relkind == "m" or not invoker):
        how = (
            "a materialized view has no row security"
            if relkind == "m"
            else ("it runs as its owner (ALTER VIEW ... SET (security_invoker = on))")
        )
        out.append(
            Finding(
                label,
                "view_bypasses_rls",
                True,
                f"reads tenant table {', '.join(over)} around the policies: {how}",
            )
        )
    personal = {f"{t}.{c}" for t, cols in target.personal.items() for c in cols}
    exposed = sorted(set(columns) & personal)
    if exposed:
        out.append(
            Finding(
                label,
                "personal_exposed",
                False,
                f"serves personal columns {', '.join(exposed)} (auroractl graphql config "
                "hides the view)",
                columns=tuple(exposed),
            )
        )
    return out


def _served_findings(
    label: str,
    identity: str,
    personal: list[str],
    sequences: list[list[str]],
    hidden: tuple[str, ...],
) -> list[Finding]:
    out = []
    if sequences:
        out.append(
            Finding(
                label,
                "sequence_grant",
                True,
                f"create mutations fail: no USAGE on sequence "
                f"{', '.join(sorted(f'{s}.{n}' for s, n in sequences))} (auroractl graphql grant)",
                tuple(sorted((s, n) for s, n in sequences)),
            )
        )
    if identity == "none":
        out.append(
            Finding(
                label,
                "no_identity",
                False,
                "no primary key or UNIQUE constraint: no node id, no update or delete mutations",
            )
        )
    exposed = [c for c in personal if c not in hidden]
    if exposed:
        out.append(
            Finding(
                label,
                "personal_exposed",
                False,
                f"personal columns served: {', '.join(exposed)} "
                "(auroractl graphql config hides them)",
                columns=tuple(exposed),
            )
        )
    return out


def _definer_findings(rows) -> list[Finding]:  # type: ignore[no-untyped-def]
    """A SECURITY DEFINER function the role may execute is served, and runs as its owner:
    row security is then checked as the owner (who, owning the tables or with BYPASSRLS,
    sees every tenant), not as the role the token gave."""
    return [
        Finding(
            f"{schema}.{name}({args})",
            "definer_function",
            True,
            f"SECURITY DEFINER, runs as {owner}: row security is checked as {owner}, not as "
            f"the request's role; REVOKE EXECUTE ON FUNCTION {schema}.{name}({args}) FROM "
            "PUBLIC (and the role), or make it SECURITY INVOKER",
            objects=((schema, name),),
        )
        for schema, name, args, owner in rows
    ]


def _cross_tenant_findings(conn: psycopg.Connection, target: Target) -> list[Finding]:
    """Foreign-key checks bypass row security: a key between tenant tables that does not
    pair the tenant column lets a tenant point at another's row (and learn it exists)."""
    return [
        Finding(
            ref.table,
            "cross_tenant_ref",
            True,
            f"{ref.description}: a create or update may reference another tenant's row "
            "(auroractl rls fix-references)",
        )
        for ref in cross_tenant_refs(conn, target.tenant_column)
    ]


def _foreign_key_findings(fks: list[tuple], served: set[str]) -> list[Finding]:
    """Relations as PostGraphile 5 builds them: without a non-partial index containing the
    key columns it drops the backward relation field; an index that does not lead with
    them still leaves each lookup scanning."""
    out = []
    for label, name, columns, references, relation_served, leading in fks:
        if label not in served or references not in served:
            continue
        cols = ", ".join(columns)
        if not relation_served:
            out.append(
                Finding(
                    label,
                    "relation_removed",
                    False,
                    f"{references} has no field listing {label} by {name}: no non-partial "
                    f"index on {label} contains ({cols})",
                )
            )
        elif not leading:
            out.append(
                Finding(
                    label,
                    "relation_scans",
                    False,
                    f"no index on {label} leads with ({cols}) ({name}): the relation field scans",
                )
            )
    return out
