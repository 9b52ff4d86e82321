"""restore-test / backup logic that needs neither a database nor AWS."""

from __future__ import annotations

import datetime as dt

import pytest

from auroractl.errors import InvalidInput
from auroractl.ops import backup
from auroractl.ops import restore_test as rt
from auroractl.ops.restore_test import aurora, local, model
from auroractl.ops.restore_test.verify import Canary, Facts, Spec, compare


def test_durations():
    assert rt.parse_duration("6h", "ttl") == dt.timedelta(hours=6)
    assert rt.parse_duration("15min", "ttl") == dt.timedelta(minutes=15)
    assert rt.parse_duration("0s", "ttl") == dt.timedelta(0)
    assert rt.parse_duration(90, "ttl") == dt.timedelta(seconds=90)
    with pytest.raises(InvalidInput):
        rt.parse_duration("soon", "ttl")


def test_expiry_round_trips_through_the_database_comment():
    when = dt.datetime(2026, 3, 1, 4, 5, 6, tzinfo=dt.UTC)
    assert model.parse_expiry(model.expiry_comment("escola", when)) == when
    assert model.parse_expiry("someone else's database") is None
    assert model.parse_expiry("expires-at=garbage") is None


def test_restore_test_identifier_fits_rds_limits():
    when = dt.datetime(2026, 3, 1, 4, 5, 6, tzinfo=dt.UTC)
    ident = aurora.restore_test_identifier("prod", when)
    assert ident == "auroractl-restore-test-prod-20260301040506"
    long = aurora.restore_test_identifier("x" * 80, when)
    assert len(long) <= 63 and long.endswith("-20260301040506")


@pytest.mark.parametrize("days", [0, 36, -1, 100])
def test_retention_outside_bounds_is_refused(days):
    with pytest.raises(InvalidInput, match="outside 1-35"):
        backup.check_retention(days)


def test_retention_bounds_accepted():
    assert backup.check_retention(1) == 1 and backup.check_retention(35) == 35


@pytest.mark.parametrize("window", ["3am", "03:00-03:15", "25:00-26:00", "03:00"])
def test_bad_windows(window):
    with pytest.raises(InvalidInput):
        backup.check_window(window)


def test_window_across_midnight_is_fine():
    assert backup.check_window("23:45-00:30") == "23:45-00:30"


def test_tags():
    assert backup.parse_tags(["a=b", "k=v=w"]) == [
        {"Key": "a", "Value": "b"},
        {"Key": "k", "Value": "v=w"},
    ]
    for bad in ("novalue", "=x", "aws:x=y"):
        with pytest.raises(InvalidInput):
            backup.parse_tags([bad])


def test_toc_filter_drops_uncreatable_extensions_and_extension_comments():
    listing = (
        ";\n; Archive created at ...\n"
        "3; 3079 16385 EXTENSION - pg_stat_statements \n"
        "4; 0 0 COMMENT - EXTENSION pg_stat_statements \n"
        "5; 3079 16420 EXTENSION - pgcrypto \n"
        "6; 0 0 COMMENT - EXTENSION pgcrypto \n"
        "215; 1259 16440 TABLE public alunos aurora_admin\n"
    )
    out = local.filter_toc(listing, frozenset({"pg_stat_statements"}))
    assert "EXTENSION - pg_stat_statements" not in out
    assert "COMMENT - EXTENSION" not in out
    assert "EXTENSION - pgcrypto" in out and "TABLE public alunos" in out


def facts(**counts: int) -> Facts:
    return Facts(structure={}, counts=counts, checksums={}, canaries={}, newest={})


def test_counts_must_match_for_exact_tables_only():
    spec = Spec(exact_tables=("public.a",))
    src, copy = facts(**{"public.a": 1, "public.b": 5}), facts(**{"public.a": 2, "public.b": 4})
    checks = {c.name: c.status for c in compare(src, copy, spec)}
    assert checks["rows: public.a"] == "fail"
    assert checks["rows: public.b"] == "warn"
    everything = {c.name: c.status for c in compare(facts(**{"public.b": 5}), facts(), Spec())}
    assert everything["rows: public.b"] == "fail"


def test_canary_expectation():
    spec = Spec(canaries=(Canary("n", "select 1", expect="1"), Canary("same", "select 2")))
    src = Facts({}, {}, {}, {"n": "1", "same": "7"}, {})
    ok = Facts({}, {}, {}, {"n": "1", "same": "7"}, {})
    bad = Facts({}, {}, {}, {"n": "error: boom", "same": "8"}, {})
    assert {c.status for c in compare(src, ok, spec) if c.name.startswith("canary")} == {"pass"}
    assert {c.status for c in compare(src, bad, spec) if c.name.startswith("canary")} == {"fail"}


def test_spec_from_config_validates():
    spec = Spec.from_config(
        {
            "critical_tables": ["usuarios"],
            "freshness_columns": ["usuarios.criado_em"],
            "timestamp_columns": {"usuarios": "criado_em"},
            "canary": [{"name": "x", "sql": "select true", "expect": True}],
        }
    )
    assert spec.critical_tables == ("public.usuarios",)
    assert spec.freshness_columns == ("public.usuarios.criado_em",)
    assert spec.timestamp_columns == {"public.usuarios": "criado_em"}
    assert spec.canaries[0].expect == "true"
    assert spec.exact_tables is None
    with pytest.raises(InvalidInput):
        Spec.from_config({"canary": [{"name": "no sql"}]})
    with pytest.raises(InvalidInput):
        Spec.from_config({"freshness_columns": ["justacolumn"]})
    with pytest.raises(InvalidInput):
        rt.RestoreTestConfig.from_section({"min_acu": 8, "max_acu": 2})


def test_critical_tables_default_to_the_maps_subjects_then_tenant_roots():
    from auroractl.ops.shared.datamap import DataMap, Subject, TenantKey

    m = DataMap(
        tenants=(
            TenantKey("tenant_id", "uuid", "app.current_tenant_id", "shop.tenants"),
            TenantKey("org_id", "bigint", "app.current_org_id", None),  # no root table
            TenantKey("owner_id", "bigint", "app.current_owner_id", "shop.people"),
        ),
        subjects=(Subject("shop.people", ("id",)), Subject("crm.contacts", ("id",))),
    )
    assert Spec.from_config({}, m).critical_tables == (
        "shop.people",
        "crm.contacts",
        "shop.tenants",
    )
    assert rt.RestoreTestConfig.from_section({}, m).spec.critical_tables[0] == "shop.people"
    # Configured (even empty) wins; no map and no config: none, no demo names.
    assert Spec.from_config({"critical_tables": ["x.y"]}, m).critical_tables == ("x.y",)
    assert Spec.from_config({"critical_tables": []}, m).critical_tables == ()
    assert Spec.from_config({}).critical_tables == ()


def test_toc_filter_drops_what_lives_in_an_uncreatable_extension_schema():
    listing = (
        "7; 3079 16500 EXTENSION - pg_cron \n"
        "4400; 0 0 ACL - SCHEMA cron postgres\n"
        "4401; 0 16510 TABLE DATA cron job postgres\n"
        "215; 1259 16440 TABLE public cronograma aurora_admin\n"
    )
    out = local.filter_toc(listing, frozenset({"pg_cron"}), frozenset({"cron"}))
    assert out.strip() == "215; 1259 16440 TABLE public cronograma aurora_admin"


WHEN = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def leftover(name: str, expired: bool, **kw) -> rt.Leftover:
    action = "would drop" if expired else "kept (not expired)"
    return rt.Leftover("database", name, WHEN, expired, action, **kw)


def test_local_cleanup_plan_drops_expired_scratch_databases_outside_a_transaction():
    found = [
        leftover("auroractl_restore_test_20260301000000_1", True),
        leftover("auroractl_drill_20250101000000_7", True),
        leftover("auroractl_restore_test_20260302000000_2", False),
    ]
    plan = local.plan_cleanup(found)
    assert [s.autocommit for s in plan.steps] == [True, True]
    assert 'DROP DATABASE IF EXISTS "auroractl_drill_20250101000000_7"' in plan.sql_text()
    assert "20260302" not in plan.sql_text()
    assert plan.notes == ("auroractl_restore_test_20260302000000_2: kept (not expired)",)
    assert rt.settled(found, "applied")[1].action == "dropped"
    assert rt.settled(found, "dry-run")[1].action == "would drop"


def test_nothing_expired_is_an_empty_plan():
    plan = local.plan_cleanup([leftover("auroractl_restore_test_x", False)])
    assert plan.empty and plan.summary == "no expired restore-test copies (1 kept)"


def test_only_scratch_databases_are_ever_dropped():
    with pytest.raises(InvalidInput):
        local.drop_sql("escola")
    with pytest.raises(InvalidInput):
        local.plan_cleanup([leftover("production", True)])


def test_aurora_copies_are_recognised_under_both_names():
    assert aurora.is_restore_test_copy("auroractl-restore-test-p-1", {aurora.TAG: "x"})
    assert aurora.is_restore_test_copy("auroractl-drill-p-1", {"auroractl:drill": "x"})
    assert not aurora.is_restore_test_copy("auroractl-drill-p-1", {"owner": "someone"})
    assert not aurora.is_restore_test_copy("prod", {aurora.TAG: "x"})


def test_teardown_deletes_instances_then_the_cluster_without_final_snapshot():
    action = aurora.teardown_action(None, "auroractl-restore-test-p-1", {"b", "a"}, 5, "sa-east-1")
    assert [(c.operation, c.resource) for c in action.calls] == [
        ("delete_db_instance", "a"),
        ("delete_db_instance", "b"),
        ("delete_db_cluster", "auroractl-restore-test-p-1"),
    ]
    assert all(c.request["SkipFinalSnapshot"] is True for c in action.calls)
    assert action.region == "sa-east-1"
    assert action.resources == ("a", "b", "auroractl-restore-test-p-1")
