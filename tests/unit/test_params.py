"""params: desired settings from config, unit-aware comparison, ALTER SYSTEM plans."""

from __future__ import annotations

import pytest

from auroractl.errors import InvalidInput, Precondition
from auroractl.ops import params as ops


def test_defaults_are_the_seed_values_and_config_overrides_them():
    assert ops.desired({}) == {
        "shared_preload_libraries": "pg_stat_statements",
        "track_activity_query_size": "4096",
        "log_min_duration_statement": "1000",
    }
    want = ops.desired({"Log_Min_Duration_Statement": 500, "log_lock_waits": True})
    assert want["log_min_duration_statement"] == "500"
    assert want["log_lock_waits"] == "on"


@pytest.mark.parametrize("bad", [{"x; drop": 1}, {"work_mem": {"a": 1}}])
def test_bad_config_is_invalid_input(bad):
    with pytest.raises(InvalidInput):
        ops.desired(bad)


@pytest.mark.parametrize(
    ("want", "actual", "unit", "same"),
    [
        ("4096", "4096", "B", True),
        ("4kB", "4096", "B", True),
        ("1s", "1000", "ms", True),
        ("1min", "60", "s", True),
        ("64MB", "8192", "8kB", True),  # shared_buffers-style unit
        ("2000", "1000", "ms", False),
        ("on", "true", None, True),
        ("off", "on", None, False),
    ],
)
def test_values_compare_by_unit(want, actual, unit, same):
    assert ops._compare("x", want, actual, unit)[0] is same


def test_libraries_are_included_not_replaced():
    in_sync, to_set = ops._compare(
        "shared_preload_libraries", "pg_stat_statements", "pg_cron", None
    )
    assert (in_sync, to_set) == (False, "pg_cron,pg_stat_statements")
    assert ops._compare("shared_preload_libraries", "a", '"a", b', None) == (True, "a,b")


def status(name, actual, desired, apply_type="dynamic", modifiable=True):
    in_sync, to_set = ops._compare(name, desired, actual, None)
    return ops.ParamStatus(
        name, desired, actual, to_set, apply_type, None, in_sync, False, modifiable
    )


def test_pg_plan_alters_each_change_then_reloads():
    report = ops.ParamsReport(
        "postgresql",
        "db",
        None,
        (
            status("shared_preload_libraries", "pg_cron", "pg_stat_statements", "static"),
            status("log_min_duration_statement", "1000", "1000"),
        ),
    )
    plan = ops.pg_plan(report)
    assert [s.sql for s in plan.steps] == [
        "ALTER SYSTEM SET \"shared_preload_libraries\" = 'pg_cron', 'pg_stat_statements';",
        "SELECT pg_catalog.pg_reload_conf()",
    ]
    assert plan.steps[0].autocommit
    assert "restart" in plan.notes[0]


def test_pg_plan_with_nothing_to_do_is_empty():
    report = ops.ParamsReport("postgresql", "db", None, (status("a", "1", "1"),))
    assert ops.pg_plan(report).empty


def test_internal_parameters_are_refused():
    report = ops.ParamsReport("postgresql", "db", None, (status("x", "1", "2", modifiable=False),))
    with pytest.raises(Precondition):
        ops.pg_plan(report)


def test_nothing_to_do_says_what_waits_for_a_restart():
    from dataclasses import replace

    waiting = replace(status("track_activity_query_size", "1024", "1024"), pending_restart=True)
    report = ops.ParamsReport("postgresql", "db", None, (waiting,))
    plan = ops.pg_plan(report)
    assert plan.empty and "pending a restart: track_activity_query_size" in plan.summary


def test_aurora_plan_is_one_call_per_20_parameters_and_reads_nothing_when_dynamic():
    import boto3

    rds = boto3.client("rds", region_name="eu-west-1")  # no call is made: all dynamic
    changes = tuple(status(f"p{i}", "1", "2") for i in range(21))
    report = ops.ParamsReport("aurora", "prod", "prod-params", changes)
    action, result = ops.aurora_plan(rds, report)
    assert [c.operation for c in action.calls] == ["modify_db_cluster_parameter_group"] * 2
    assert [len(c.request["Parameters"]) for c in action.calls] == [20, 1]
    assert {p["ApplyMethod"] for c in action.calls for p in c.request["Parameters"]} == {
        "immediate"
    }
    assert action.resources == ("prod-params",) and action.region == "eu-west-1"
    assert result.reboot_needed is False and not action.notes
    with pytest.raises(Precondition):
        ops.aurora_plan(rds, replace_group(report, "default.aurora-postgresql15"))


def replace_group(report, group):
    from dataclasses import replace

    return replace(report, parameter_group=group)
