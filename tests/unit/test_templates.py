"""Every SQL template renders with hostile identifiers into well-formed SQL (pglast)."""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
import re

import pglast
import pytest

from auroractl import templates
from tests.unit import template_contexts

HOSTILE = ['a"b', "x; drop table y", "Ünïcode name", "select"]


def _collect() -> tuple[dict[str, dict], dict[str, str], set[str]]:
    contexts: dict[str, dict] = {}
    wrappers: dict[str, str] = {}
    multi: set[str] = set()
    for info in pkgutil.iter_modules(template_contexts.__path__):
        module = importlib.import_module(f"{template_contexts.__name__}.{info.name}")
        contexts.update(module.CONTEXTS)
        wrappers.update(getattr(module, "WRAPPERS", {}))
        multi |= set(getattr(module, "MULTI_STATEMENT", ()))
    return contexts, wrappers, multi


CONTEXTS, WRAPPERS, MULTI_STATEMENT = _collect()


# Keys whose None stands for a bare (unqualified) identifier; "columns" for a list of them;
# any other None stands for a schema-qualified name.
BARE_KEYS = {
    "schema",
    "key",
    "admin",
    "name",
    "role",
    "column",
    "policy",
    "function",
    "trigger",
    "index",
    "constraint",
    "member",
    "database",
}


def fill(context: dict, name: str) -> dict:
    """Replace None placeholders with a hostile identifier."""
    out = {}
    for key, value in context.items():
        if value is not None:
            out[key] = value
        elif key == "columns":
            out[key] = [name, name]
        else:
            out[key] = name if key in BARE_KEYS else ("public", name)
    return out


def test_every_template_has_a_context():
    jinja = {n for n in templates.names() if n.endswith(".j2")}
    assert jinja == set(CONTEXTS), "add new templates to CONTEXTS"


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_renders_to_well_formed_sql(name, hostile):
    rendered = templates.render(name, **fill(CONTEXTS[name], hostile))
    sql = WRAPPERS.get(name, "{}").format(rendered)
    statements = pglast.parse_sql(sql)
    if name not in MULTI_STATEMENT:
        assert len(statements) == 1, sql
    # The hostile name survives only as a quoted identifier, never as SQL.
    assert "drop table y" not in sql.replace('"x; drop table y"', "")


@pytest.mark.parametrize("name", [n for n in templates.names() if n.endswith(".sql")])
def test_static_queries_parse(name):
    # Bind placeholders (%s, %(name)s) become NULL; %% is a literal percent sign.
    text = re.sub(r"%\(\w+\)s|%s", "NULL", templates.load(name)).replace("%%", "%")
    assert pglast.parse_sql(text)


def test_literal_quotes_values():
    assert templates.literal("it's") == "'it''s'"
    assert templates.literal(dt.date(2026, 1, 1)) == "'2026-01-01'::date"


def test_ident_rejects_empty_parts():
    with pytest.raises(ValueError):
        templates.ident(("public", ""))
