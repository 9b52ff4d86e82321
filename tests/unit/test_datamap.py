"""The data map without a database: the classifier, the rule choice, the file format."""

from __future__ import annotations

from pathlib import Path

import pytest

from auroractl.errors import InvalidInput, Precondition
from auroractl.ops.datamap import classify
from auroractl.ops.datamap.classify import ColumnFacts
from auroractl.ops.shared import datamap as dm


@pytest.mark.parametrize(
    ("column", "table", "cls"),
    [
        ("nome", "public.alunos", "name"),
        ("first_name", "", "name"),
        ("last_name", "", "name"),
        ("surname", "", "name"),
        ("FullName", "", "name"),
        ("sobrenome", "", "name"),
        ("email", "", "email"),
        ("e_mail", "", "email"),
        ("work_email", "", "email"),
        ("telefone", "", "phone"),
        ("phone", "", "phone"),
        ("celular", "", "phone"),
        ("mobile_number", "", "phone"),
        ("cpf", "", "national_id"),
        ("cnpj", "", "national_id"),
        ("rg", "", "national_id"),
        ("ssn", "", "national_id"),
        ("documento_identidade", "", "national_id"),
        ("endereco", "", "address"),
        ("address_line1", "", "address"),
        ("street", "", "address"),
        ("logradouro", "", "address"),
        ("cep", "", "address"),
        ("zip_code", "", "address"),
        ("postal_code", "", "address"),
        ("data_nascimento", "", "birth_date"),
        ("birth_date", "", "birth_date"),
        ("date_of_birth", "", "birth_date"),
        ("dob", "", "birth_date"),
        ("foto_perfil", "", "photo"),
        ("avatar_url", "", "photo"),
        ("senha", "", "credential"),
        ("password_hash", "", "credential"),
        ("passwd", "", "credential"),
        ("api_key", "", "credential"),
        ("reset_token", "", "credential"),
        ("client_secret", "", "credential"),
        ("ip", "", "network_id"),
        ("ip_address", "", "network_id"),
        ("last_login_ip", "", "network_id"),
        ("notes", "", "free_text"),
        ("observacoes", "", "free_text"),
    ],
)
def test_names_in_portuguese_and_english(column, table, cls):
    assert classify.by_name(column, table) == cls


@pytest.mark.parametrize(
    ("column", "table"),
    [
        ("nome", "public.escolas"),  # a school's name is not a person's
        ("name", "shop.products"),
        ("status", ""),
        ("matricula", ""),
        ("numero", ""),
        ("ultimo_acesso", ""),
        ("description", ""),
        ("tipo", ""),
        ("zipper_color", ""),
        ("recepcao", ""),
    ],
)
def test_names_that_are_not_personal(column, table):
    assert classify.by_name(column, table) is None


def test_a_name_class_needs_a_type_that_can_carry_it():
    assert not classify.plausible("email", "boolean")  # email_verified
    assert not classify.plausible("credential", "timestamp with time zone")  # token_expires_at
    assert classify.plausible("birth_date", "date")
    assert classify.plausible("photo", "bytea")


def test_comments():
    assert classify.by_comment("customer e-mail") == "email"
    assert classify.by_comment("CPF do responsável") == "national_id"
    assert classify.by_comment("dado pessoal (LGPD)") == "free_text"
    assert classify.by_comment("as printed on the card: personal data") == "free_text"
    assert classify.by_comment("number of seats") is None
    assert classify.by_comment("email template id; not personal") is None
    assert classify.by_comment(None) is None


def test_cipher_base():
    assert classify.cipher_base("documento_identidade_encrypted", ["documento_identidade"]) == (
        "documento_identidade"
    )
    assert classify.cipher_base("ssn_enc", []) == "ssn"  # the plaintext may be gone
    assert classify.cipher_base("encrypted", []) is None


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("ana@example.com", "email"),
        ("529.982.247-25", "cpf"),
        ("52998224725", "cpf"),
        ("11.222.333/0001-81", "cnpj"),
        ("11222333000181", "cnpj"),
        ("123-45-6789", "ssn"),
        ("01310-100", "cep"),
        ("94105-1234", "zip"),
        ("10.0.0.1", "ip"),
        ("2001:db8::1", "ip"),
        ("(11) 98765-4321", "phone"),
        ("+55 11 98765-4321", "phone"),
        ("+1 415 555 0100", "phone"),
    ],
)
def test_value_kinds(value, kind):
    assert classify.value_kind(value) == kind


@pytest.mark.parametrize(
    "value",
    ["529.982.247-26", "111.111.111-11", "11.222.333/0001-82", "12345678901", "ativo", "2026-01-01",
     "SKU-1", "12345", "1.5", "1.2.3"],
)  # fmt: skip
def test_values_that_are_not_personal(value):
    assert classify.value_kind(value) is None


def test_by_values_needs_half_of_the_sample():
    assert classify.by_values(["a@x.org", "b@x.org", None, "nope"])[0] == "email"
    assert classify.by_values(["a@x.org", "x", "y", "z"]) is None
    assert classify.by_values([None, None]) is None


def test_rules_never_null_a_not_null_column():
    for cls in dm.CLASSES:
        for facts in (
            ColumnFacts("text", not_null=True),
            ColumnFacts("text", not_null=True, unique=True),
            ColumnFacts("character", not_null=True, unique=True, max_length=14),
            ColumnFacts("date", not_null=True),
            ColumnFacts("bytea", not_null=True),
            ColumnFacts("inet", not_null=True),
        ):
            rules = classify.candidates(cls, facts)
            assert all(r.kind != "null" for r in rules), (cls, facts)
            assert all(classify.rule_problem(r, facts, cls) is None for r in rules), (cls, facts)


def test_rule_choice():
    assert classify.choose_rule("phone", ColumnFacts("text")) == dm.Rule("null")
    assert classify.choose_rule("name", ColumnFacts("text", not_null=True)).kind == "pseudonym"
    assert classify.choose_rule("address", ColumnFacts("text", not_null=True)) == dm.Rule(
        "fixed", ""
    )
    # one shared value on a UNIQUE column would collide at the second erasure
    assert classify.choose_rule("phone", ColumnFacts("text", True, unique=True)).kind == "pseudonym"
    assert classify.choose_rule("birth_date", ColumnFacts("date", True)) == dm.Rule(
        "fixed", "1900-01-01"
    )
    # too narrow for a pseudonym, unique: only deleting the row erases it
    narrow = ColumnFacts("character", True, unique=True, max_length=14)
    assert classify.choose_rule("national_id", narrow).kind == "delete_row"


def test_rule_problems():
    assert classify.rule_problem(dm.Rule("null"), ColumnFacts("text", not_null=True))
    assert classify.rule_problem(dm.Rule("pseudonym"), ColumnFacts("date"))
    assert classify.rule_problem(dm.Rule("fixed", "x"), ColumnFacts("text", unique=True))
    varchar3 = ColumnFacts("character varying", max_length=3)
    assert classify.rule_problem(dm.Rule("fixed", "toolong"), varchar3)
    assert classify.rule_problem(dm.Rule("hash"), ColumnFacts("bytea")) is None
    assert classify.rule_problem(dm.Rule("null"), ColumnFacts("text")) is None
    assert classify.pseudonym_example("email").endswith("@erased.invalid")


SAMPLE = dm.DataMap(
    tenants=(dm.TenantKey("tenant_id", "uuid", "app.tenant_id", "s.tenants", ("s.people",)),),
    subjects=(dm.Subject("s.people", ("id",)),),
    columns=(
        dm.PersonalColumn("s.people", "email", "email", dm.Rule("pseudonym")),
        dm.PersonalColumn("s.people", 'we"ird', "name", dm.Rule("fixed", "")),
        dm.PersonalColumn("s.people", "notes", "free_text", dm.Rule("keep", basis="contract")),
        dm.PersonalColumn("s.people", "ssn_encrypted", "ciphertext", dm.Rule("null"), of="ssn"),
    ),
    references=(
        dm.Reference("s.orders", ("t", "p"), "s.people", ("t", "id"), "s.people", "in", "fk", True),
    ),
    not_personal=("s.people.nickname_style",),
)


def test_the_file_round_trips():
    text = dm.dumps(SAMPLE, ("a header",))
    assert text.startswith("# a header\n")
    assert dm.parse(__import__("tomllib").loads(text)) == SAMPLE


@pytest.mark.parametrize(
    ("toml", "names"),
    [
        ('[columns."s.t"]\nx = { class = "mail", rule = "null" }', 'columns."s.t".x.class'),
        ('[columns."s.t"]\nx = { class = "email", rule = "erase" }', 'columns."s.t".x.rule'),
        ('[columns."s.t"]\nx = { class = "email", rule = "fixed" }', 'columns."s.t".x.value'),
        ('[columns."s.t"]\nx = { class = "email", rule = "keep" }', 'columns."s.t".x.basis'),
        ('[columns."s.t"]\nx = { class = "ciphertext", rule = "null" }', 'columns."s.t".x.of'),
        ('[columns."t"]\nx = { class = "email", rule = "null" }', 'columns."t"'),
        ('[[tenant]]\ncolumn = "t"\ntype = "int"\nsetting = "app.t"', "tenant[0].type"),
        ('[[tenant]]\ncolumn = "t"\ntype = "uuid"\nsetting = "t"', "tenant[0].setting"),
        ('[[subject]]\ntable = "s.p"\nkey = []', "subject[0].key"),
        ("[extra]\n", "extra"),
        (
            '[[reference]]\nsubject = "s.p"\ndirection = "in"\ntable = "s.o"\ncolumns = ["a"]\n'
            'references = "s.p"\nref_columns = ["id"]',
            "reference",
        ),
    ],
)
def test_a_bad_entry_is_named_in_one_line(tmp_path, toml, names):
    f = tmp_path / "m.toml"
    f.write_text(toml)
    with pytest.raises(InvalidInput) as err:
        dm.load(f)
    assert names in str(err.value) and "\n" not in str(err.value)


def test_not_toml(tmp_path):
    f = tmp_path / "m.toml"
    f.write_text("[columns\n")
    with pytest.raises(InvalidInput, match="not valid TOML"):
        dm.load(f)


def test_require_names_the_command_that_creates_the_map(tmp_path):
    with pytest.raises(Precondition, match="auroractl map propose"):
        dm.require(tmp_path / "none.toml")


def test_where_the_file_is(tmp_path):
    assert dm.path_for({}) == Path("auroractl-map.toml")
    assert dm.path_for({"file": "m.toml"}, None, tmp_path) == tmp_path / "m.toml"
    assert dm.path_for({"file": "/abs/m.toml"}, None, tmp_path) == Path("/abs/m.toml")
    assert dm.path_for({"file": "m.toml"}, "cli.toml", tmp_path) == Path("cli.toml")
    with pytest.raises(InvalidInput):
        dm.path_for({"file": 3})


def test_the_main_tenant_key_is_the_widest():
    narrow = dm.TenantKey("code", "text", "app.code", None, ("a.b",))
    wide = dm.TenantKey("tid", "uuid", "app.tid", None, ("a.b", "a.c"))
    assert dm.DataMap(tenants=(narrow, wide)).tenant == wide
    assert dm.DataMap().tenant is None
