"""alarms: config validation and the desired alarm set (no AWS needed)."""

from __future__ import annotations

import pytest

from auroractl.errors import InvalidInput, Precondition
from auroractl.ops import alarms as ops
from auroractl.ops.shared.cloudwatch import Member


def test_defaults_name_everything_after_the_cluster():
    cfg = ops.config({}, "prod")
    assert cfg.prefix == "auroractl-prod-"
    assert cfg.log_group == "/aws/rds/cluster/prod/postgresql"
    assert cfg.filter_name == "auroractl-prod-slow-queries"


@pytest.mark.parametrize(
    "section",
    [
        {"connections_pct": 0},
        {"acu_pct": 101},
        {"free_local_storage_bytes": -1},
        {"max_used_xids": 2**31},
        {"sns_topic_arn": "my-topic"},
        {"slow_query_ms": "5s"},
        {"unknown_key": 1},
    ],
)
def test_bad_config_is_invalid_input(section):
    with pytest.raises(InvalidInput):
        ops.config(section, "prod")


def test_desired_alarms_per_instance_and_cluster():
    cfg = ops.config({"sns_topic_arn": "arn:aws:sns:us-east-1:1:t"}, "prod")
    members = [Member("prod-1", "WRITER"), Member("prod-2", "READER")]
    specs, flt = ops.desired("prod", members, 189, cfg)
    by_name = {s.name: s for s in specs}
    assert len(specs) == 10
    assert by_name["auroractl-prod-connections-prod-2"].threshold == 151  # 80% of 189
    assert "auroractl-prod-max-used-xids-prod-1" in by_name
    assert "auroractl-prod-max-used-xids-prod-2" not in by_name  # writer only
    assert all(s.description.startswith("[auroractl cluster=prod]") for s in specs)
    assert all(s.actions == ("arn:aws:sns:us-east-1:1:t",) for s in specs)
    assert "duration_ms>5000" in flt.pattern and flt.namespace == "auroractl/prod"


def test_alarms_without_a_cluster_are_a_precondition():
    with pytest.raises(Precondition):
        ops.require_cluster(None)


def _clients():
    """Real boto3 clients: building calls sends nothing (no endpoint is ever reached)."""
    import boto3

    return (
        boto3.client("cloudwatch", region_name="eu-west-1"),
        boto3.client("logs", region_name="eu-west-1"),
    )


def test_apply_action_calls_only_what_changed():
    cw, logs = _clients()
    cfg = ops.config({}, "prod")
    specs, flt = ops.desired("prod", [Member("prod-1", "WRITER")], 100, cfg)
    changes = (
        ops.Change("alarm", specs[0].name, "create"),
        ops.Change("alarm", specs[1].name, "unchanged"),
        ops.Change("alarm", "auroractl-prod-connections-gone", "delete"),
        ops.Change("metric-filter", flt.name, "unchanged"),
    )
    p = ops.AlarmsPlan("prod", cfg.prefix, tuple(specs), flt, changes, ("a note",), True)
    action = ops.apply_action(cw, logs, p)
    assert [(c.service, c.operation, c.resource) for c in action.calls] == [
        ("logs", "create_log_group", flt.log_group),
        ("cloudwatch", "put_metric_alarm", specs[0].name),
        ("cloudwatch", "delete_alarms", "auroractl-prod-connections-gone"),
    ]
    assert action.calls[1].request == specs[0].request()  # what is previewed is what is sent
    assert action.region == "eu-west-1" and action.notes == ("a note",)
    assert action.summary == "converge the CloudWatch alarms of prod: 1 create, 1 delete"


def test_nothing_pending_is_an_empty_action_and_deletes_are_batched():
    cw, logs = _clients()
    cfg = ops.config({}, "prod")
    specs, flt = ops.desired("prod", [], 100, cfg)
    same = tuple(ops.Change("alarm", s.name, "unchanged") for s in specs)
    p = ops.AlarmsPlan("prod", cfg.prefix, tuple(specs), flt, same)
    assert ops.apply_action(cw, logs, p).empty
    doomed = [ops.Change("alarm", f"auroractl-prod-a{i}", "delete") for i in range(150)]
    action = ops.delete_action(cw, logs, "prod", cfg, doomed)
    assert [len(c.request["AlarmNames"]) for c in action.calls] == [100, 50]
    assert ops.delete_action(cw, logs, "prod", cfg, []).empty
