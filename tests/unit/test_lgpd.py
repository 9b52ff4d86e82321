"""The personal-data map's configuration and the check's detectors (no database)."""

from __future__ import annotations

import pytest

from auroractl.errors import InvalidInput
from auroractl.ops.lgpd import LgpdConfig, Treatment
from auroractl.ops.lgpd.map import name_looks_personal, value_matches


def test_defaults_cover_the_demo_schema():
    cfg = LgpdConfig.from_section({})
    assert cfg == LgpdConfig()
    usuarios = cfg.rule("public.usuarios")
    assert usuarios is not None
    assert usuarios.treatment("email").value(42, cfg.domain) == "anonimo_42@anonimizado.invalid"
    assert usuarios.treatment("documento_identidade_encrypted").kind == "null"
    assert cfg.rule("public.ai_preferences").delete
    assert cfg.held("public.contratos")


def test_overrides_replace_one_table_and_qualify_names():
    cfg = LgpdConfig.from_section(
        {
            "domain": "anon.example",
            "retain": ["faturas", "fiscal.notas"],
            "tables": {"usuarios": {"nome": "fixed:Titular removido", "email": "null"}},
        }
    )
    rule = cfg.rule("public.usuarios")
    assert [t.column for t in rule.columns] == ["nome", "email"]
    assert rule.treatment("nome").value(1, cfg.domain) == "Titular removido"
    assert cfg.retain == ("public.faturas", "fiscal.notas")
    assert cfg.rule("public.ai_preferences").delete  # other defaults stay


@pytest.mark.parametrize(
    "section",
    [
        {"unknown": 1},
        {"domain": "not a domain"},
        {"retain": "contratos"},
        {"sample_rows": 0},
        {"tables": {"usuarios": {"nome": "scramble"}}},
        {"tables": {"usuarios": {"nome": "pseudonym:fixed-for-everyone"}}},
        {"tables": {"usuarios": {"nome": "pseudonym:{id}-{who}"}}},
        {"tables": {"usuarios": "truncate"}},
        {"tables": {"usuarios": {"nome": 3}}},
    ],
)
def test_bad_config_is_one_clear_error(section):
    with pytest.raises(InvalidInput):
        LgpdConfig.from_section(section)


def test_treatment_descriptions():
    assert Treatment.parse("t", "c", "keep").erases is False
    assert Treatment.parse("t", "c", "null").value(1, "d") is None
    assert "anonimo_{id}" in Treatment.parse("t", "c", "pseudonym:anonimo_{id}").describe()


@pytest.mark.parametrize(
    ("column", "personal"),
    [
        ("cpf", True),
        ("cpf_tomador", True),
        ("data_nascimento", True),
        ("email_contato", True),
        ("rg", True),
        ("cargo", False),
        ("org_id", False),
        ("nome", False),
        ("numero", False),
    ],
)
def test_personal_looking_names(column, personal):
    assert name_looks_personal(column) is personal


def test_personal_looking_values():
    values = [
        "fulano@example.com",
        "123.456.789-09",
        "12345678909",
        "(11) 98765-4321",
        "+55 11 3456-7890",
        "Escola Municipal 12",
        "2024-01-15",
        "12345678000199",  # a CNPJ (a company, not a person)
    ]
    assert value_matches(values) == {"e-mail": 1, "CPF": 2, "phone": 2}
