"""Jinja environment over ``sql_templates/``.

Identifiers go through ``ident`` and DDL-only values through ``literal``; both are
rendered by ``psycopg.sql`` so quoting is PostgreSQL's, not ours. Everything else
is passed as bind parameters at execution time.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def templates_dir() -> Path:
    """The installed copy inside the package, or the source tree's top-level folder."""
    packaged = Path(__file__).parent / "sql_templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "sql_templates"


def ident(name: str | Sequence[str]) -> str:
    """Quote an identifier; a tuple/list is a qualified name (schema, table)."""
    from psycopg import sql

    parts = (name,) if isinstance(name, str) else tuple(name)
    if not parts or any(not isinstance(p, str) or not p for p in parts):
        raise ValueError(f"invalid identifier: {name!r}")
    return sql.Identifier(*parts).as_string(None)


def literal(value: Any) -> str:
    """Quote a value for DDL, where bind parameters are impossible."""
    from psycopg import sql

    return sql.Literal(value).as_string(None)


@functools.cache
def environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ident"] = ident
    env.filters["literal"] = literal
    return env


def render(template: str, /, **context: Any) -> str:
    """Render ``sql_templates/<name>`` and strip surrounding whitespace."""
    return environment().get_template(template).render(**context).strip()


def load(name: str) -> str:
    """Read a plain (non-template) SQL file such as a catalog query."""
    return (templates_dir() / name).read_text(encoding="utf-8")


def names() -> list[str]:
    """Every template below sql_templates/, relative names."""
    root = templates_dir()
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.sql*") if p.is_file())
