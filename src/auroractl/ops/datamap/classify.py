"""Which columns hold personal data, and which erasure rule each column's constraints allow.

Pure functions over names, comments, types and sampled values: no database here.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from auroractl.ops.shared.datamap import Rule

# Whole tokens of a column name (split on "_", digits and case changes), Portuguese and
# English with their usual abbreviations. Checked in this order: the first class wins.
TOKENS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "credential",
        frozenset(
            [
                "senha",
                "password",
                "passwd",
                "pwd",
                "passphrase",
                "token",
                "secret",
                "apikey",
                "otp",
                "totp",
                "salt",
                "pin",
                "credential",
                "credentials",
            ]
        ),
    ),
    (
        "network_id",
        frozenset(
            [
                "ip",
                "ipv4",
                "ipv6",
                "ipaddr",
                "ipaddress",
                "mac",
                "macaddr",
                "useragent",
                "device",
                "devices",
                "deviceid",
                "dispositivo",
                "dispositivos",
                "imei",
                "udid",
            ]
        ),
    ),
    ("email", frozenset(["email", "emails", "mail", "e-mail"])),
    (
        "phone",
        frozenset(
            [
                "telefone",
                "tel",
                "fone",
                "phone",
                "phones",
                "celular",
                "mobile",
                "cell",
                "cellphone",
                "whatsapp",
                "fax",
            ]
        ),
    ),
    (
        "national_id",
        frozenset(
            [
                "cpf",
                "cnpj",
                "rg",
                "ssn",
                "documento",
                "passaporte",
                "passport",
                "cnh",
                "nif",
                "nin",
                "taxid",
                "tin",
                "pis",
                "nis",
                "ctps",
                "nationalid",
                "identidade",
            ]
        ),
    ),
    (
        "address",
        frozenset(
            [
                "endereco",
                "enderecos",
                "address",
                "addr",
                "street",
                "logradouro",
                "cep",
                "zip",
                "zipcode",
                "postcode",
                "postal",
                "bairro",
                "complemento",
            ]
        ),
    ),
    (
        "birth_date",
        frozenset(["nascimento", "birth", "birthdate", "birthday", "dob", "aniversario"]),
    ),
    (
        "photo",
        frozenset(["foto", "fotos", "photo", "photos", "avatar", "picture", "selfie", "retrato"]),
    ),
    (
        "name",
        frozenset(
            [
                "firstname",
                "lastname",
                "surname",
                "fullname",
                "givenname",
                "familyname",
                "middlename",
                "nickname",
                "username",
                "sobrenome",
                "apelido",
                "nomecompleto",
                "nomesocial",
            ]
        ),
    ),
    (
        "free_text",
        frozenset(
            [
                "notes",
                "note",
                "observacoes",
                "observacao",
                "obs",
                "bio",
                "biography",
                "mensagem",
                "comentario",
            ]
        ),
    ),
)
# Two-token names that mean one thing (first_name, api_key, e_mail, ip_address ...).
PAIRS = {
    ("first", "name"): "name",
    ("last", "name"): "name",
    ("full", "name"): "name",
    ("given", "name"): "name",
    ("family", "name"): "name",
    ("middle", "name"): "name",
    ("user", "name"): "name",
    ("nome", "completo"): "name",
    ("nome", "social"): "name",
    ("api", "key"): "credential",
    ("private", "key"): "credential",
    ("access", "key"): "credential",
    ("e", "mail"): "email",
    ("ip", "address"): "network_id",
    ("user", "agent"): "network_id",
    ("national", "id"): "national_id",
    ("tax", "id"): "national_id",
    ("driver", "license"): "national_id",
    ("postal", "code"): "address",
    ("data", "nascimento"): "birth_date",
}
# Plain "name"/"nome" is a person's name only in a table about people (escolas.nome is not).
PLAIN_NAME = frozenset({"name", "nome"})
PEOPLE_TABLES = frozenset(
    [
        "people",
        "person",
        "persons",
        "pessoa",
        "pessoas",
        "user",
        "users",
        "usuario",
        "usuarios",
        "account",
        "accounts",
        "customer",
        "customers",
        "client",
        "clients",
        "cliente",
        "clientes",
        "member",
        "members",
        "employee",
        "employees",
        "staff",
        "funcionario",
        "funcionarios",
        "patient",
        "patients",
        "paciente",
        "pacientes",
        "student",
        "students",
        "aluno",
        "alunos",
        "professor",
        "professores",
        "teacher",
        "teachers",
        "contact",
        "contacts",
        "contato",
        "contatos",
        "responsavel",
        "responsaveis",
        "guardian",
        "guardians",
    ]
)
CIPHER_SUFFIXES = ("_encrypted", "_enc", "_cipher", "_ciphertext", "_criptografado")
COMMENT_FLAGS = re.compile(
    r"\b(personal|pessoa(l|is)|pii|lgpd|gdpr|sens[ií]ve(l|is)|sensitive|dado pessoal)\b", re.I
)
NOT_PERSONAL_HINT = re.compile(r"\bnot personal\b|\bnão pessoal\b|\bnao pessoal\b", re.I)
TEXT_TYPES = frozenset({"text", "character varying", "character", "citext", "name"})


def tokens(name: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name)
    return [t for t in re.split(r"[^a-z]+", spaced.lower()) if t]


def by_name(column: str, table: str = "") -> str | None:
    """The class a column's name says, or None."""
    toks = tokens(column)
    for a, b in itertools.pairwise(toks):
        if (a, b) in PAIRS:
            return PAIRS[(a, b)]
    joined = "".join(toks)
    for cls, words in TOKENS:
        if words & set(toks) or joined in words:
            return cls
    if PLAIN_NAME & set(toks) and len(toks) <= 2 and table_is_people(table):
        return "name"
    return None


DATE_TYPES = ("date", "timestamp without time zone", "timestamp with time zone")


def plausible(cls: str, type_: str) -> bool:
    """A name's class holds only for a type that can carry it (email_verified boolean,
    token_expires_at timestamptz are not personal values)."""
    if type_ == "boolean":
        return False
    if type_ in DATE_TYPES or type_.startswith(("time", "interval")):
        return cls == "birth_date"
    return True


def table_is_people(table: str) -> bool:
    return "".join(tokens(table.rsplit(".", 1)[-1])) in PEOPLE_TABLES or bool(
        set(tokens(table.rsplit(".", 1)[-1])) & PEOPLE_TABLES
    )


def by_comment(comment: str | None) -> str | None:
    """A comment that names the class ("customer e-mail") or just flags personal data."""
    if not comment or NOT_PERSONAL_HINT.search(comment):
        return None
    for word in re.findall(r"[\w-]+", comment):
        cls = by_name(word.replace("-", "_"))
        if cls and cls != "free_text":
            return cls
    return "free_text" if COMMENT_FLAGS.search(comment) else None


def cipher_base(column: str, columns: Iterable[str]) -> str | None:
    """The plaintext column a ``*_encrypted`` column is the ciphertext of (None: unknown)."""
    for suffix in CIPHER_SUFFIXES:
        if column.endswith(suffix) and len(column) > len(suffix):
            base = column[: -len(suffix)]
            # The registered base, or the column's name without the suffix when the
            # plaintext is gone (encrypt finalize drops it).
            return next((c for c in columns if c == base), base)
    return None


# -- sampled values --------------------------------------------------------------------------

EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$")
PHONE = re.compile(r"^(\+\d{1,3}[\s.-]?)?(\(?\d{2,3}\)?[\s.-]?)?9?\d{3,4}[\s.-]?\d{4}$")
CEP = re.compile(r"^\d{5}-\d{3}$")
ZIP = re.compile(r"^\d{5}-\d{4}$")
SSN = re.compile(r"^\d{3}-\d{2}-\d{4}$")
CPF = re.compile(r"^\d{3}\.?\d{3}\.?\d{3}-?\d{2}$")
CNPJ = re.compile(r"^\d{2}\.?\d{3}\.?\d{3}/?\d{4}-?\d{2}$")
VALUE_CLASSES = {"email": "email", "cpf": "national_id", "cnpj": "national_id",
                 "ssn": "national_id", "phone": "phone", "cep": "address", "zip": "address",
                 "ip": "network_id"}  # fmt: skip


def _digits(value: str) -> list[int]:
    return [int(c) for c in value if c.isdigit()]


def cpf_valid(value: str) -> bool:
    d = _digits(value)
    if len(d) != 11 or len(set(d)) == 1:
        return False
    for n in (9, 10):
        check = sum(d[i] * (n + 1 - i) for i in range(n)) * 10 % 11 % 10
        if check != d[n]:
            return False
    return True


def cnpj_valid(value: str) -> bool:
    d = _digits(value)
    if len(d) != 14 or len(set(d)) == 1:
        return False
    for n in (12, 13):
        weights = list(range(n - 7, 1, -1)) + list(range(9, 1, -1))
        s = sum(a * b for a, b in zip(d[:n], weights, strict=True)) % 11
        if (0 if s < 2 else 11 - s) != d[n]:
            return False
    return True


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return "." in value or ":" in value


def value_kind(value: str) -> str | None:
    """What one sampled value looks like (check digits are checked, not only the shape)."""
    v = value.strip()
    if not v or len(v) > 320:
        return None
    if EMAIL.match(v):
        return "email"
    if CPF.match(v) and cpf_valid(v):
        return "cpf"
    if CNPJ.match(v) and cnpj_valid(v):
        return "cnpj"
    if SSN.match(v):
        return "ssn"
    if CEP.match(v):
        return "cep"
    if ZIP.match(v):
        return "zip"
    if _is_ip(v):
        return "ip"
    if PHONE.match(v) and len(_digits(v)) >= 10 and not v.isdigit():
        return "phone"
    return None


def by_values(values: Iterable[str | None], share: float = 0.5) -> tuple[str, str] | None:
    """(class, what matched) when at least ``share`` of the non-null sampled values match one
    kind, else None."""
    seen = [v for v in values if v]
    if not seen:
        return None
    counts: dict[str, int] = {}
    for v in seen:
        kind = value_kind(v)
        if kind:
            counts[kind] = counts.get(kind, 0) + 1
    if not counts:
        return None
    kind, n = max(counts.items(), key=lambda kv: kv[1])
    if n < share * len(seen):
        return None
    return VALUE_CLASSES[kind], f"{n}/{len(seen)} sampled values look like {kind}"


# -- erasure rules -----------------------------------------------------------------------------

# The value a pseudonym rule writes is "erased-" and 8 hex digits of the subject's hash:
# columns narrower than this cannot take one.
PSEUDONYM_EXAMPLE = "erased-0123abcd"


@dataclass(frozen=True)
class ColumnFacts:
    """What the catalog says about a column, as far as an erasure rule is concerned."""

    type: str  # format_type without modifiers: text, character varying, date, bytea, inet ...
    not_null: bool = False
    has_default: bool = False
    unique: bool = False
    has_check: bool = False
    max_length: int | None = None  # varchar(n) / char(n)

    @property
    def textual(self) -> bool:
        return self.type in TEXT_TYPES


FIXED_BY_TYPE = {
    "date": "1900-01-01",
    "timestamp without time zone": "1900-01-01 00:00:00",
    "timestamp with time zone": "1900-01-01 00:00:00+00",
    "bytea": "",
    "inet": "0.0.0.0",
    "cidr": "0.0.0.0/32",
    "jsonb": "{}",
    "json": "{}",
}


def candidates(cls: str, f: ColumnFacts) -> list[Rule]:
    """The erasure rules this column's NOT NULL, UNIQUE and width allow, best first: never
    null for a NOT NULL column, never one shared fixed value for a unique one. A CHECK is
    tested by the database on these (``map propose`` takes the first it accepts)."""
    if not f.not_null:
        return [Rule("null")]
    fixed = Rule("fixed", "" if f.textual else FIXED_BY_TYPE.get(f.type, "0"))
    pseudo = Rule("pseudonym")
    if f.unique or cls in ("name", "email", "national_id"):
        order = [pseudo, fixed]
    else:
        order = [fixed, pseudo]
    allowed = [r for r in order if rule_problem(r, f, cls) is None]
    return [*allowed, Rule("delete_row")]


def choose_rule(cls: str, f: ColumnFacts) -> Rule:
    return candidates(cls, f)[0]


def pseudonym_example(cls: str) -> str:
    """The shape of what a pseudonym rule writes: e-mail columns get an address in the
    reserved .invalid domain, so that a CHECK on the format still holds."""
    return f"{PSEUDONYM_EXAMPLE}@erased.invalid" if cls == "email" else PSEUDONYM_EXAMPLE


def rule_value(rule: Rule, cls: str) -> str | None:
    """The value a fixed or pseudonym rule writes (what a CHECK is tested against)."""
    return rule.value if rule.kind == "fixed" else pseudonym_example(cls)


def rule_problem(rule: Rule, f: ColumnFacts, cls: str = "") -> str | None:
    """Why the column's own constraints reject this rule (CHECKs are evaluated by the
    database, not here); None when they allow it."""
    if rule.kind == "null" and f.not_null:
        return "rule null on a NOT NULL column"
    if rule.kind in ("pseudonym", "hash"):
        if not f.textual and not (rule.kind == "hash" and f.type == "bytea"):
            return f"rule {rule.kind} needs a text column (this one is {f.type})"
        narrow = f.max_length is not None and f.max_length < len(pseudonym_example(cls))
        if rule.kind == "pseudonym" and narrow:
            return f"a pseudonym does not fit in {f.type}({f.max_length})"
    if rule.kind == "fixed":
        if f.unique:
            return "one fixed value on a UNIQUE column: the second erasure collides"
        if f.max_length is not None and len(rule.value or "") > f.max_length:
            return f"fixed value longer than {f.type}({f.max_length})"
    return None
