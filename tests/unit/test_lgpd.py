"""The [lgpd] section, subject choice and the erasure treatments (no database)."""

from __future__ import annotations

import pytest

from auroractl.errors import InvalidInput, NotFound, Precondition
from auroractl.ops.lgpd import EMAIL_SUFFIX, LgpdConfig, Match, Treatment, choose_subject
from auroractl.ops.shared import datamap as dm


def test_the_section_only_names_the_default_subject():
    assert LgpdConfig.from_section({}) == LgpdConfig(None)
    assert LgpdConfig.from_section({"subject": "usuarios"}).subject == "public.usuarios"
    assert LgpdConfig.from_section({"subject": "shop.people"}).subject == "shop.people"


@pytest.mark.parametrize(
    ("section", "says"),
    [
        ({"tables": {"usuarios": "delete"}}, "data map"),
        ({"retain": ["contratos"]}, "data map"),
        ({"domain": "x.invalid"}, "data map"),
        ({"unknown": 1}, "unknown"),
        ({"subject": ""}, "subject"),
    ],
)
def test_old_or_bad_settings_are_one_clear_error(section, says):
    with pytest.raises(InvalidInput, match=says):
        LgpdConfig.from_section(section)


def _map(*subjects: dm.Subject) -> dm.DataMap:
    return dm.DataMap(subjects=subjects, path="m.toml")


def test_subject_choice():
    people, staff = dm.Subject("shop.people", ("id",)), dm.Subject("shop.staff", ("id",))
    assert choose_subject(_map(people), None) == people
    assert choose_subject(_map(people, staff), "shop.staff") == staff
    marked = dm.Subject("shop.staff", ("id",), default=True)
    assert choose_subject(_map(people, marked), None) == marked
    with pytest.raises(InvalidInput, match="--subject"):
        choose_subject(_map(people, staff), None)
    with pytest.raises(NotFound, match="not a data subject"):
        choose_subject(_map(people), "shop.orders")
    with pytest.raises(Precondition, match="no data subject"):
        choose_subject(_map(), None)


def _column(cls: str, rule: dm.Rule) -> dm.PersonalColumn:
    return dm.PersonalColumn("shop.people", "c", cls, rule)


def test_treatments_from_the_map():
    assert Treatment.of(_column("email", dm.Rule("pseudonym"))).value == EMAIL_SUFFIX
    assert Treatment.of(_column("name", dm.Rule("pseudonym"))).value == ""
    kept = Treatment.of(_column("national_id", dm.Rule("keep", basis="tax law")))
    assert not kept.erases and "tax law" in kept.describe()
    fixed = Treatment.of(_column("address", dm.Rule("fixed", "")))
    assert fixed.erases and fixed.value == ""


def test_a_match_is_direct_only_on_the_subject_key():
    assert Match(("person_id",), ("shop", "people"), ("id",), "id").direct
    multi = Match(("tenant_id", "person_id"), ("shop", "people"), ("tenant_id", "id"), "id")
    assert not multi.direct
    out = Match(("id",), ("shop", "people"), ("home_address_id",), "id", exclusive=True)
    assert not out.direct and "not shared" in out.describe()
