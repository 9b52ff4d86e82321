"""Relations named by the user, resolved against the catalog once, the same way everywhere.

A user-given name follows PostgreSQL's rules (``schema.table``, ``"Mixed Case"``,
unqualified names through ``search_path``). ``resolve`` turns it into a ``Relation``
(schema, name, oid) or a ``NotFound`` that says what was looked up, with a hint when
the name exists only with other letter case (it needs double quotes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from auroractl import templates
from auroractl.errors import InvalidInput, NotFound, Precondition

if TYPE_CHECKING:
    import psycopg


class SchemaNamed:
    """Mixin for frozen dataclasses with ``schema`` and ``name`` fields."""

    schema: str
    name: str

    @property
    def label(self) -> str:
        """schema.name, for people (quoted where PostgreSQL would need it)."""
        return (
            templates.ident((self.schema, self.name))
            if _needs_quotes(self)
            else (f"{self.schema}.{self.name}")
        )

    @property
    def qualified(self) -> tuple[str, str]:
        """(schema, name), for the ``ident`` filter."""
        return (self.schema, self.name)

    @property
    def shell(self) -> str:
        """The table as an argument of a command printed for people to run."""
        return shell_table(self.schema, self.name)


def sql_name(schema: str, name: str) -> str:
    """schema.name as PostgreSQL reads it back, each part quoted only where it must be
    (public."Eventos"): the form auroractl prints and accepts."""
    return ".".join(p if _plain(p) else templates.ident(p) for p in (schema, name))


def shell_table(schema: str, name: str) -> str:
    """``sql_name`` quoted for a POSIX shell, so that printed advice runs as printed:
    --table 'public."Eventos"'."""
    import shlex

    return shlex.quote(sql_name(schema, name))


def _needs_quotes(obj: SchemaNamed) -> bool:
    return any(not _plain(part) for part in (obj.schema, obj.name))


def _plain(part: str) -> bool:
    return part == part.lower() and part.replace("_", "a").isalnum() and not part[:1].isdigit()


@dataclass(frozen=True)
class Relation(SchemaNamed):
    schema: str
    name: str
    oid: int
    relkind: str  # r table, p partitioned table, v view, m matview, f foreign, ...


def lookup(conn: psycopg.Connection, name: str) -> Relation | None:
    """The relation ``name`` names, or None; malformed names are InvalidInput."""
    import psycopg

    if not name or not name.strip():
        raise InvalidInput("a table name is required")
    try:
        row = conn.execute(templates.load("shared/relation.sql"), {"name": name}).fetchone()
    except (
        psycopg.errors.InvalidName,
        psycopg.errors.SyntaxError,  # too many dotted names
        psycopg.errors.FeatureNotSupported,  # db.schema.table: another database
    ):
        raise NotFound(
            f'relation "{name}" does not exist: not a valid name',
            hint="use schema.table; quote names with capitals or dots: '\"My Table\"'",
        ) from None
    except psycopg.errors.DataError:
        return None
    if row is None or row[0] is None:
        return None
    return Relation(*row)


def resolve(conn: psycopg.Connection, name: str, what: str = "table") -> Relation:
    """The relation ``name`` names, or NotFound (with a quoting hint where one helps)."""
    found = lookup(conn, name)
    if found is None:
        raise NotFound(f'{what} "{name}" does not exist', hint=_case_hint(conn, name))
    return found


def exists(conn: psycopg.Connection, name: str | tuple[str, str]) -> bool:
    """Whether a relation exists: a user-style name, or an exact (schema, name) pair."""
    text = templates.ident(name) if isinstance(name, tuple) else name
    try:
        return lookup(conn, text) is not None
    except InvalidInput:
        return False


N = TypeVar("N", bound=SchemaNamed)


def choose(
    conn: psycopg.Connection,
    names: list[str] | None,
    all_tables: bool,
    known: Callable[[], Sequence[N]],
    refused: Callable[[str], str],
) -> list[N]:
    """The tables of ``--table`` (repeatable) or ``--all`` among what ``known()`` returns;
    a table outside them is a Precondition saying ``refused(its label)``."""
    if bool(names) == all_tables:
        raise InvalidInput("give --table (repeatable) or --all")
    candidates = list(known())
    if all_tables:
        return candidates
    chosen = []
    for name in names or []:
        rel = resolve(conn, name)
        match = next((t for t in candidates if t.qualified == rel.qualified), None)
        if match is None:
            raise Precondition(refused(rel.label))
        chosen.append(match)
    return chosen


def _case_hint(conn: psycopg.Connection, name: str) -> str | None:
    """When the name matches a relation only case-insensitively, say how to quote it."""
    rows = conn.execute(templates.load("shared/relation_like.sql"), {"name": name}).fetchall()
    if not rows:
        return None
    quoted = ", ".join(shell_table(s, n) for s, n in rows[:3])
    return f"names with capitals or special characters need double quotes: {quoted}"
