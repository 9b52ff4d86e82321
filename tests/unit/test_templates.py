"""Every SQL template renders with hostile identifiers into well-formed SQL (pglast)."""

from __future__ import annotations

import datetime as dt
import re

import pglast
import pytest

from auroractl import templates

HOSTILE = ['a"b', "x; drop table y", "Ünïcode name", "select"]

# Context for each template; identifiers are hostile, values typed like real ones.
CONTEXTS: dict[str, dict] = {
    "partition/_predicate.sql.j2": {
        "key": None,
        "lower": dt.date(2026, 1, 1),
        "upper": dt.date(2027, 1, 1),
    },
    "partition/_bound.sql.j2": {"lower": dt.date(2026, 1, 1), "upper": dt.date(2027, 1, 1)},
    "partition/add_constraint.sql.j2": {
        "partition": None,
        "constraint_def": "PRIMARY KEY (id, data_inicio)",
    },
    "partition/add_index.sql.j2": {
        "partition": None,
        "unique": False,
        "index_tail": "USING btree (empresa_id)",
    },
    "partition/analyze.sql.j2": {"table": None},
    "partition/archive.sql.j2": {"partition": None, "schema": None},
    "partition/attach.sql.j2": {
        "parent": None,
        "partition": None,
        "bound": "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
    },
    "partition/count.sql.j2": {"table": None},
    "partition/count_in_bounds.sql.j2": {"default": None, "predicate": "true"},
    "partition/create.sql.j2": {"partition": None, "parent": None, "predicate": "true"},
    "partition/create_schema.sql.j2": {"schema": None},
    "partition/detach.sql.j2": {
        "parent": None,
        "partition": None,
        "concurrently": True,
        "finalize": False,
    },
    "partition/drop.sql.j2": {"partition": None},
    "partition/drop_bound_check.sql.j2": {"partition": None},
    "partition/lock_parent.sql.j2": {"parent": None},
    "partition/add_foreign_key.sql.j2": {
        "partition": None,
        "name": "fk",
        "constraint_def": "FOREIGN KEY (a) REFERENCES b(id)",
    },
    "partition/validate_constraint.sql.j2": {"partition": None, "name": "fk"},
    "partition/move.sql.j2": {
        "default": None,
        "partition": None,
        "predicate": "true",
        "columns": None,
    },
    "sandbox/count.sql.j2": {"table": None},
    "sandbox/roles.sql.j2": {"existing": set(), "admin": None},
    "sandbox/data.sql.j2": {
        "empresas": 2,
        "escolas": 3,
        "alunos": 4,
        "professores": 5,
        "usuarios": 6,
        "ai_preferences": 7,
        "contratos": 8,
        "contratos_default": 9,
        "current_year": 2026,
        "days_elapsed": 300,
    },
}
# Fragments are parsed inside the statement they are made for.
WRAPPERS = {
    "partition/_predicate.sql.j2": "SELECT 1 FROM t WHERE {}",
    "partition/_bound.sql.j2": "ALTER TABLE t ATTACH PARTITION p {}",
}
MULTI_STATEMENT = {"sandbox/roles.sql.j2", "sandbox/data.sql.j2"}


def fill(context: dict, name: str) -> dict:
    """Replace None placeholders with a hostile identifier (qualified for tables)."""
    out = {}
    for key, value in context.items():
        if value is None:
            out[key] = (
                [name, name]
                if key == "columns"
                else (name if key in ("schema", "key", "admin") else ("public", name))
            )
        else:
            out[key] = value
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
