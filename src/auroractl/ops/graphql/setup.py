"""A PostGraphile 5 setup that works as generated: the files (`graphql config`) and the
roles and grants it needs (`graphql grant`).

PostGraphile 5 (Node >= 22, installed from the npm registry with the pinned
``tools/graphql`` package) leaves JWT verification to the server; the generated config
verifies the token itself and sets the data map's tenant setting from one claim, so the
policies `rls enable` wrote work unchanged (the alternative, policies keyed on
``jwt.claims.*``, would tie the schema to one API server). Personal columns are hidden in
a smart-tags file, never by COMMENTs on the user's schema.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import InvalidInput
from auroractl.ops.graphql.readiness import MANIFEST, Readiness
from auroractl.plan import Plan, Step

if TYPE_CHECKING:
    import psycopg

POSTGRAPHILE_VERSION = "5.1.5"
TAGS_FILE = "postgraphile.tags.json5"
CONFIG_FILE = "graphile.config.mjs"
# A token's tenant claim, as the policies parse the setting (they re-check it anyway).
KEY_PATTERNS = {
    "integer": r"^[0-9]{1,18}$",
    "bigint": r"^[0-9]{1,19}$",
    "uuid": r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
    "text": r"^.{1,200}$",
}
# Personal columns stay writable (a create mutation may need them) but are never read,
# filtered or sorted on; a UNIQUE key over one would answer "does this e-mail exist?".
HIDE_COLUMN = "-select -filterBy -orderBy"
HIDE_KEY = "-single -update -delete"
_ENV = re.compile(r"[A-Z_][A-Z0-9_]{0,63}")


@dataclass(frozen=True)
class Options:
    schemas: tuple[str, ...]
    app_role: str
    authenticator: str
    tenant_column: str
    setting: str
    key_type: str  # integer | bigint | uuid | text
    claim: str
    audience: str = "postgraphile"
    secret_env: str = "JWT_SECRET"
    connection_env: str = "DATABASE_URL"
    port: int = 5678

    def validate(self) -> Options:
        for name in (self.secret_env, self.connection_env):
            if not _ENV.fullmatch(name):
                raise InvalidInput(f"{name!r} is not an environment variable name (A-Z, 0-9, _)")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,51}", self.claim):
            raise InvalidInput(f"claim {self.claim!r} must be a plain name (letters, digits, _)")
        if not 1 <= self.port <= 65535:
            raise InvalidInput(f"port {self.port} is not between 1 and 65535")
        if self.app_role == self.authenticator:
            raise InvalidInput("the authenticator must be a role of its own, not the app role")
        return self


@dataclass(frozen=True)
class GeneratedFile:
    name: str
    text: str


def files(
    conn: psycopg.Connection, opts: Options, personal: Mapping[str, tuple[str, ...]]
) -> tuple[GeneratedFile, ...]:
    """The setup's files: config, smart tags, the pinned package, the manifest."""
    database = conn.execute("SELECT current_database()").fetchone()[0]
    hidden = _hidden(conn, opts, personal)
    run = (
        f"cd DIR && npm ci && {opts.connection_env}='postgres://{opts.authenticator}@HOST/"
        f"{database}' {opts.secret_env}_FILE=/path/to/secret npm start"
    )
    config = templates.render(
        "graphql/graphile.config.mjs.j2",
        postgraphile_version=POSTGRAPHILE_VERSION,
        database=database,
        schemas=list(opts.schemas),
        app_role=opts.app_role,
        authenticator=opts.authenticator,
        setting=opts.setting,
        claim=opts.claim,
        key_pattern=KEY_PATTERNS[opts.key_type],
        audience=opts.audience,
        secret_env=opts.secret_env,
        connection_env=opts.connection_env,
        tags_file=f"./{TAGS_FILE}",
        port=opts.port,
    )
    manifest = {
        "postgraphile": POSTGRAPHILE_VERSION,
        "database": database,
        "schemas": list(opts.schemas),
        "app_role": opts.app_role,
        "authenticator": opts.authenticator,
        "setting": opts.setting,
        "claim": opts.claim,
        "hidden": {k: list(v) for k, v in hidden.items()},
        "run": run,
    }
    return (
        GeneratedFile(CONFIG_FILE, config + "\n"),
        GeneratedFile(TAGS_FILE, _tags(conn, hidden)),
        *_package_files(),
        GeneratedFile(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n"),
    )


def _hidden(
    conn: psycopg.Connection, opts: Options, personal: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """Per relation, the personal columns to hide; ("*",) for a view reading any."""
    cols = [f"{t}.{c}" for t, names in personal.items() for c in names]
    views = conn.execute(
        templates.load("graphql/view_sources.sql"), {"schemas": list(opts.schemas)}
    )
    hidden = {t: tuple(names) for t, names in personal.items() if t.split(".")[0] in opts.schemas}
    for label, _tables, columns in views:
        if set(columns or ()) & set(cols):
            hidden[label] = ("*",)
    return dict(sorted(hidden.items()))


def _tags(conn: psycopg.Connection, hidden: Mapping[str, tuple[str, ...]]) -> str:
    """postgraphile.tags.json5 (plain JSON is JSON5): behaviours that hide what ``hidden``
    names, and the UNIQUE keys over a hidden column."""
    keys = conn.execute(
        templates.load("graphql/unique_keys.sql"),
        {"tables": [t for t, c in hidden.items() if c != ("*",)]},
    ).fetchall()
    classes: dict[str, Any] = {}
    for label, columns in hidden.items():
        if columns == ("*",):
            classes[label] = {"tags": {"behavior": "-*"}}
            continue
        spec: dict[str, Any] = {
            "attribute": {c: {"tags": {"behavior": HIDE_COLUMN}} for c in columns}
        }
        over = {k: 1 for t, k, cols in keys if t == label and set(cols) & set(columns)}
        if over:
            spec["constraint"] = {k: {"tags": {"behavior": HIDE_KEY}} for k in over}
        classes[label] = spec
    return json.dumps({"version": 1, "config": {"class": classes}}, indent=2) + "\n"


def _package_files() -> tuple[GeneratedFile, ...]:
    """The pinned package (PostGraphile, Node 22, jsonwebtoken) and its lockfile."""
    return tuple(
        GeneratedFile(name, _tools_dir().joinpath(name).read_text("utf-8"))
        for name in ("package.json", "package-lock.json")
    )


def _tools_dir():  # type: ignore[no-untyped-def]
    packaged = resources.files("auroractl") / "tools" / "graphql"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[4] / "tools" / "graphql"


def check_directory(directory: Path) -> None:
    """Refuse, before anything is read, a destination that cannot hold the setup."""
    existing = next((p for p in (directory, *directory.parents) if p.exists()), None)
    if directory.exists() and not directory.is_dir():
        raise InvalidInput(f"{directory} exists and is not a directory")
    if existing is not None and not os.access(existing, os.W_OK):
        raise InvalidInput(f"{existing} is not writable: choose another --output")


def write(directory: Path, generated: tuple[GeneratedFile, ...]) -> list[str]:
    """Write the files whose content differs; the names written (none on a re-run)."""
    check_directory(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for f in generated:
            path = directory / f.name
            if path.is_file() and path.read_text(encoding="utf-8") == f.text:
                continue
            path.write_text(f.text, encoding="utf-8")
            written.append(f.name)
    except OSError as exc:
        raise InvalidInput(f"cannot write into {directory}: {exc.strerror}") from None
    return written


# ---------------------------------------------------------------- graphql grant


def plan_grant(conn: psycopg.Connection, opts: Options, readiness: Readiness) -> Plan:
    """The roles and grants the generated setup needs, and no more: the authenticator
    (LOGIN, NOINHERIT, a member of the app role), CONNECT, schema USAGE, USAGE on the
    sequences served INSERTs call, and no direct access to tenant partitions."""
    row = conn.execute(
        templates.load("graphql/grant_facts.sql"),
        {"role": opts.app_role, "authenticator": opts.authenticator, "schemas": list(opts.schemas)},
    ).fetchone()
    database, app_exists, auth_exists, auth_ok, member, can_connect, schemas = row
    steps: list[Step] = []
    if not app_exists:
        steps.append(
            _step("rls/create_role.sql.j2", f"create role {opts.app_role}", role=opts.app_role)
        )
    if not auth_exists:
        steps.append(
            _step(
                "graphql/create_authenticator.sql.j2",
                f"create the authenticator {opts.authenticator} (LOGIN, no password)",
                role=opts.authenticator,
            )
        )
    elif not auth_ok:
        raise InvalidInput(
            f"role {opts.authenticator} exists but is not LOGIN NOINHERIT: an authenticator "
            "must hold no privileges of its own (ALTER ROLE ... LOGIN NOINHERIT)"
        )
    if not member:
        steps.append(
            _step("graphql/grant_member.sql.j2", "", role=opts.app_role, member=opts.authenticator)
        )
    if not can_connect:
        steps.append(
            _step("graphql/grant_connect.sql.j2", "", database=database, role=opts.authenticator)
        )
    steps += [_step("rls/grant_schema.sql.j2", "", schema=s, role=opts.app_role) for s in schemas]
    steps += _finding_steps(readiness, opts.app_role)
    if not steps:
        return Plan("graphql grant", f"{opts.authenticator} and {opts.app_role}: nothing to do")
    return Plan(
        "graphql grant", f"roles and grants for PostGraphile as {opts.app_role}", tuple(steps)
    )


def _finding_steps(readiness: Readiness, role: str) -> list[Step]:
    """Fixes for the findings a grant can fix: sequence USAGE, readable partitions."""

    def objects(kind: str) -> list[tuple[str, str]]:
        return sorted({o for f in readiness.findings if f.kind == kind for o in f.objects})

    revoke = [
        _step("graphql/revoke_table.sql.j2", "", table=t, role=role)
        for t in objects("partition_readable") + objects("root_readable")
    ]
    usage = [
        _step("rls/grant_sequence.sql.j2", "", sequence=s, role=role)
        for s in objects("sequence_grant")
    ]
    return revoke + usage


def _step(template: str, comment: str, **context: Any) -> Step:
    return Step(templates.render(template, **context), comment=comment, txn="graphql grant")
