"""schema split helpers: config validation and search_path handling (no database)."""

from __future__ import annotations

import pytest

from auroractl.errors import InvalidInput, NotFound, Precondition
from auroractl.ops import schema


def test_without_schemas_it_is_refused_unless_the_caller_gives_a_layout():
    with pytest.raises(InvalidInput, match=r"\[schema_split\] schemas is not set"):
        schema.config({})
    layout = {"sales": ["orders"], "people": ["customers", "staff"]}
    cfg = schema.config({}, layout=layout)
    assert cfg.source_schema == "public" and cfg.app_roles == ("application_user",)
    assert dict(cfg.schemas) == {"sales": ("orders",), "people": ("customers", "staff")}
    assert schema.config({}, ["app"], layout).app_roles == ("app",)
    told = schema.config({"schemas": {"a": ["t"]}}, layout=layout)
    assert dict(told.schemas) == {"a": ("t",)}  # the file wins over the caller's default


@pytest.mark.parametrize(
    "section, message",
    [
        ({"nope": 1}, "unknown keys"),
        ({"schemas": {"public": ["alunos"]}}, "source schema itself"),
        ({"schemas": {"pg_x": ["alunos"]}}, "reserved"),
        ({"schemas": {"a": ["alunos"], "b": ["alunos"]}}, "mapped to both"),
        ({"schemas": {"a": []}}, "non-empty list"),
        ({"schemas": {"a": [""]}}, "not a valid name"),
        ({"app_roles": [3]}, "not a valid name"),
        ({"schemas": "x"}, "must map"),
    ],
)
def test_bad_config_is_rejected(section, message):
    with pytest.raises(InvalidInput, match=message):
        schema.config(section)


@pytest.mark.parametrize(
    "value, parsed",
    [
        ('"$user", public', ("$user", "public")),
        ("Public,  Extra", ("public", "extra")),
        ('"My ""Schema""", x', ('My "Schema"', "x")),
        ("", ()),
    ],
)
def test_parse_search_path(value, parsed):
    assert schema.parse_search_path(value) == parsed


def test_widen_adds_domain_schemas_after_the_source():
    assert schema.widen(("$user", "public", "extra"), "public", ["a", "b"]) == (
        "$user",
        "public",
        "a",
        "b",
        "extra",
    )
    assert schema.widen(("public", "a"), "public", ["a", "b"]) == ("public", "b", "a")
    assert schema.widen(("other",), "public", ["a"]) == ("other", "a")
    assert schema.widen(("public", "a"), "public", ["a"]) == ("public", "a")


# --- schema split planned from hand-made facts --------------------------------------

CFG = schema.SplitConfig(
    "public", ("app",), {"educacional": ("alunos",), "administrativo": ("contratos",)}
)


def split_facts(**kw) -> schema.SplitFacts:
    base = dict(
        user="admin",
        database="db",
        relations=(
            schema.Relation(1, "public", "alunos", "r", "admin"),
            schema.Relation(2, "public", "contratos", "p", "admin"),
        ),
        partitions={
            2: (
                schema.Relation(3, "public", "contratos_2026", "r", ""),
                schema.Relation(4, "arquivo", "contratos_2019", "r", ""),
            )
        },
        sequences={"alunos": ("alunos_id_seq",)},
        roles=("app",),
        users={"educacional": ("reporting",), "administrativo": ()},
        role_settings={"app": (None, None, None, '"$user", public')},
    )
    return schema.SplitFacts(**{**base, **kw})


def test_split_plan_moves_tables_with_partitions_and_widens_search_path():
    report, plan = schema.plan_split(split_facts(), CFG)
    assert [(m.table, m.state) for m in report.moves] == [
        ("alunos", "to move"),
        ("contratos", "to move"),
        ("contratos_2026", "to move"),
    ]
    assert report.moves[0].sequences == ("alunos_id_seq",)
    assert report.schemas_to_create == ("educacional", "administrativo")
    assert {(g.schema, g.role) for g in report.grants} == {
        ("educacional", "app"),
        ("educacional", "reporting"),
        ("administrativo", "app"),
    }
    assert report.search_paths[0].after == ("$user", "public", "educacional", "administrativo")
    assert any("contratos_2019" in n and "left there" in n for n in report.notes)
    # one transaction to prepare, then one per table with its partitions
    txns = list(dict.fromkeys(s.txn for s in plan.steps))
    assert txns == ["prepare", "move alunos", "move contratos"]
    assert plan.summary == "split public into educacional, administrativo: move 3 table(s)"
    _, prepare = schema.plan_split(split_facts(), CFG, prepare_only=True)
    assert {s.txn for s in prepare.steps} == {"prepare"}


def test_split_plan_in_place_is_empty():
    moved = (
        schema.Relation(1, "educacional", "alunos", "r", "admin"),
        schema.Relation(2, "administrativo", "contratos", "r", "admin"),
    )
    facts = split_facts(
        relations=moved,
        partitions={},
        schemas={"educacional": ("admin", frozenset({"app", "reporting"})),
                 "administrativo": ("admin", frozenset({"app"}))},
        role_settings={"app": ("search_path=public, educacional, administrativo", None, None, "")},
    )  # fmt: skip
    report, plan = schema.plan_split(facts, CFG)
    assert plan.empty and {m.state for m in report.moves} == {"moved"}


@pytest.mark.parametrize(
    ("relations", "error", "match"),
    [
        ((), NotFound, "does not exist"),
        ((schema.Relation(1, "outro", "alunos", "r", "a"),), Precondition, "outro"),
        (
            (
                schema.Relation(1, "public", "alunos", "r", "a"),
                schema.Relation(5, "educacional", "alunos", "r", "a"),
            ),
            Precondition,
            "both",
        ),
        ((schema.Relation(1, "public", "alunos", "v", "a"),), InvalidInput, "a view"),
    ],
)
def test_split_plan_refusals(relations, error, match):
    cfg = schema.SplitConfig("public", ("app",), {"educacional": ("alunos",)})
    with pytest.raises(error, match=match):
        schema.plan_split(split_facts(relations=relations, partitions={}), cfg)
