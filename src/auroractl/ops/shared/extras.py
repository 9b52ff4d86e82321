"""What a table carries besides its columns, indexes and keys: row security and its
policies, grants (table and column), storage options, comments.

``read`` takes them from the catalog, ``copy`` gives them to another table with the same
columns (``shape`` does the same for indexes and keys). ``partition create`` uses both so
that a new partition has what its siblings have and its parent cannot pass on: a
partitioned parent has no storage options, and its grants, row security and policies do
not reach its partitions. Expressions and option names are PostgreSQL's own deparsed
text; privileges and commands are checked against PostgreSQL's fixed lists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auroractl import templates
from auroractl.ops.shared.shape import Copy, Statement

if TYPE_CHECKING:
    import psycopg

T = "shared/"
COMMANDS = {"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "*": "ALL"}
PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


@dataclass(frozen=True)
class Policy:
    name: str
    permissive: bool
    command: str  # SELECT | INSERT | UPDATE | DELETE | ALL
    roles: tuple[str | None, ...]  # None: PUBLIC
    using: str | None
    check: str | None


@dataclass(frozen=True)
class Grant:
    grantee: str | None  # None: PUBLIC
    privileges: tuple[str, ...]
    grantable: bool = False
    column: str | None = None  # a column grant


@dataclass(frozen=True)
class Extras:
    row_security: bool = False
    force_row_security: bool = False
    policies: tuple[Policy, ...] = ()
    grants: tuple[Grant, ...] = ()
    options: tuple[tuple[str, str], ...] = ()  # storage parameters (reloptions)
    comment: str | None = None
    column_comments: tuple[tuple[str, str], ...] = ()

    def describe(self) -> list[str]:
        """What there is, for a plan's notes."""
        out = []
        if self.row_security:
            out.append("row level security" + (" (forced)" if self.force_row_security else ""))
        if self.policies:
            out.append("policies " + ", ".join(p.name for p in self.policies))
        if self.grants:
            grantees = dict.fromkeys(g.grantee or "PUBLIC" for g in self.grants)
            out.append("grants to " + ", ".join(grantees))
        if self.options:
            out.append("storage options " + ", ".join(f"{k}={v}" for k, v in self.options))
        if self.comment is not None:
            out.append("table comment")
        if self.column_comments:
            out.append("comments on " + ", ".join(c for c, _ in self.column_comments))
        return out


def read(conn: psycopg.Connection, oid: int) -> Extras:
    row = conn.execute(templates.load(T + "extras_table.sql"), {"oid": oid}).fetchone()
    rls, force, options, comment = row
    policies = tuple(
        Policy(name, permissive, COMMANDS[cmd], tuple(roles), using, check)
        for name, permissive, cmd, roles, using, check in conn.execute(
            templates.load(T + "extras_policies.sql"), {"oid": oid}
        )
    )
    comments = tuple(
        (c, text)
        for c, text in conn.execute(templates.load(T + "extras_column_comments.sql"), {"oid": oid})
    )
    return Extras(
        rls,
        force,
        policies,
        _grants(conn, oid),
        tuple(_option(o) for o in options or ()),
        comment,
        comments,
    )


def _option(text: str) -> tuple[str, str]:
    name, _, value = text.partition("=")
    return name, value


def _grants(conn: psycopg.Connection, oid: int) -> tuple[Grant, ...]:
    """Privileges, grouped by column, grantee and grant option (one GRANT each)."""
    grouped: dict[tuple[str | None, str | None, bool], list[str]] = {}
    for column, grantee, privilege, grantable in conn.execute(
        templates.load(T + "extras_grants.sql"), {"oid": oid}
    ):
        if privilege in PRIVILEGES:
            grouped.setdefault((column, grantee, grantable), []).append(privilege)
    return tuple(Grant(g, tuple(p), ok, c) for (c, g, ok), p in grouped.items())


def copy(
    extras: Extras, target: tuple[str, str], rename: Callable[[str], str] = lambda n: n
) -> Copy:
    """The statements giving ``target`` these extras; ``rename`` names its policies."""
    out: list[Statement] = []

    def add(template: str, why: str = "", **ctx: object) -> None:
        out.append(Statement(templates.render(T + template, table=target, **ctx), why))

    if extras.row_security:
        add("extras_row_security.sql.j2", force=False)
    if extras.force_row_security:
        add("extras_row_security.sql.j2", force=True)
    for p in extras.policies:
        add(
            "extras_policy.sql.j2",
            f"policy like {p.name}",
            policy=rename(p.name),
            permissive=p.permissive,
            command=p.command,
            roles=list(p.roles),
            using=p.using,
            check=p.check,
        )
    for g in extras.grants:
        add(
            "extras_grant.sql.j2",
            privileges=list(g.privileges),
            grantee=g.grantee,
            grantable=g.grantable,
            column=g.column,
        )
    if extras.options:
        add("extras_options.sql.j2", options=list(extras.options))
    if extras.comment is not None:
        add("extras_comment.sql.j2", comment=extras.comment)
    for column, text in extras.column_comments:
        add("extras_column_comment.sql.j2", column=column, comment=text)
    return Copy(tuple(out))
