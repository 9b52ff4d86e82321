"""schema split helpers: config validation and search_path handling (no database)."""

from __future__ import annotations

import pytest

from auroractl.errors import InvalidInput
from auroractl.ops import schema


def test_default_mapping_is_the_seeds():
    cfg = schema.config({})
    assert cfg.source_schema == "public"
    assert cfg.app_roles == ("application_user",)
    assert dict(cfg.schemas) == {
        "educacional": ("escolas", "alunos", "professores"),
        "administrativo": ("empresas", "contratos"),
        "autenticacao": ("usuarios", "ai_preferences"),
    }
    assert schema.config({}, ["app"]).app_roles == ("app",)


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
