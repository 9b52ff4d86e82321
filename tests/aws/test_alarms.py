"""auroractl alarms against moto: put_metric_alarm, metric filters, status, delete."""

from __future__ import annotations

import json
import math
import uuid

import boto3
import psycopg
import pytest

REGION = "us-east-1"


def client(endpoint, service):
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION)


@pytest.fixture
def setup(aws_endpoint, cluster, dbname, tmp_path):
    """A moto cluster (writer + reader), an SNS topic, and a profile whose database is the
    real test PostgreSQL (max_connections is read from it)."""
    rds = client(aws_endpoint, "rds")
    cid = f"al-{uuid.uuid4().hex[:8]}"
    rds.create_db_cluster(
        DBClusterIdentifier=cid,
        Engine="aurora-postgresql",
        MasterUsername="aurora_admin",
        MasterUserPassword="not-used-here-1",
        EnableCloudwatchLogsExports=["postgresql"],
    )
    for name in (f"{cid}-w", f"{cid}-r"):
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBClusterIdentifier=cid,
            Engine="aurora-postgresql",
            DBInstanceClass="db.serverless",
        )
    topic = client(aws_endpoint, "sns").create_topic(Name=f"dba-{cid}")["TopicArn"]
    (tmp_path / "auroractl.toml").write_text(
        "[auroractl]\ndefault_profile = 'aurora'\n"
        f"[profiles.aurora]\nhost = '127.0.0.1'\nport = {cluster.port}\ndbname = '{dbname}'\n"
        f"user = 'aurora_admin'\ncluster_id = '{cid}'\nregion = '{REGION}'\n"
        f"[alarms]\nsns_topic_arn = '{topic}'\nfree_local_storage_bytes = 1073741824\n"
    )
    with psycopg.connect(cluster.conninfo(dbname)) as conn:
        max_connections = int(conn.execute("SHOW max_connections").fetchone()[0])
    return cid, topic, max_connections


def our_alarms(endpoint, cid):
    alarms = client(endpoint, "cloudwatch").describe_alarms(AlarmNamePrefix=f"auroractl-{cid}-")
    return {a["AlarmName"]: a for a in alarms["MetricAlarms"]}


def filters(endpoint, cid):
    found = client(endpoint, "logs").describe_metric_filters(
        logGroupName=f"/aws/rds/cluster/{cid}/postgresql"
    )
    return {f["filterName"]: f for f in found["metricFilters"]}


def test_apply_puts_every_alarm_and_the_slow_query_filter(cli, aws_endpoint, setup):
    cid, topic, max_connections = setup
    p = f"auroractl-{cid}-"
    dry = cli("alarms", "apply", "--dry-run", "--format", "json")
    assert dry.exit_code == 0, dry.stderr
    planned = json.loads(dry.stdout)
    assert planned["status"] == "dry-run"
    assert {c["action"] for c in planned["changes"]} == {"create"}
    assert our_alarms(aws_endpoint, cid) == {}

    result = cli("alarms", "apply", "--yes")
    assert result.exit_code == 0, result.stderr
    alarms = our_alarms(aws_endpoint, cid)
    w, r = f"{cid}-w", f"{cid}-r"
    assert set(alarms) == {
        *(f"{p}{kind}-{inst}" for kind in ("connections", "deadlocks") for inst in (w, r)),
        *(
            f"{p}{kind}-{inst}"
            for kind in ("free-local-storage", "acu-utilization")
            for inst in (w, r)
        ),
        f"{p}max-used-xids-{w}",
        f"{p}slow-queries",
    }
    conns = alarms[f"{p}connections-{r}"]
    assert conns["MetricName"] == "DatabaseConnections" and conns["Namespace"] == "AWS/RDS"
    assert conns["Threshold"] == math.floor(max_connections * 0.8)
    assert conns["ComparisonOperator"] == "GreaterThanThreshold"
    assert conns["Dimensions"] == [{"Name": "DBInstanceIdentifier", "Value": r}]
    assert all(a["AlarmActions"] == [topic] for a in alarms.values())
    dead = alarms[f"{p}deadlocks-{w}"]
    assert (dead["Statistic"], dead["Period"], dead["Threshold"]) == ("Sum", 300, 0.0)
    storage = alarms[f"{p}free-local-storage-{w}"]
    assert storage["Threshold"] == 1073741824.0
    assert storage["ComparisonOperator"] == "LessThanThreshold"
    acu = alarms[f"{p}acu-utilization-{w}"]
    assert acu["Threshold"] == 90.0
    assert acu["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarms[f"{p}max-used-xids-{w}"]["MetricName"] == "MaximumUsedTransactionIDs"
    slow = alarms[f"{p}slow-queries"]
    assert slow["Namespace"] == f"auroractl/{cid}" and slow["MetricName"] == "SlowQueries"

    flt = filters(aws_endpoint, cid)[f"{p}slow-queries"]
    assert 'label="duration:"' in flt["filterPattern"]
    assert "duration_ms>5000" in flt["filterPattern"]
    t = flt["metricTransformations"][0]
    assert (t["metricNamespace"], t["metricName"]) == (f"auroractl/{cid}", "SlowQueries")

    again = cli("alarms", "apply", "--yes", "--format", "json")
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["status"] == "nothing-to-do"


def test_changed_threshold_updates_and_gone_instance_is_cleaned(cli, aws_endpoint, setup, tmp_path):
    cid, _, _ = setup
    assert cli("alarms", "apply", "--yes").exit_code == 0
    config = tmp_path / "auroractl.toml"
    config.write_text(config.read_text() + "acu_pct = 95\n")
    rds = client(aws_endpoint, "rds")
    rds.delete_db_instance(DBInstanceIdentifier=f"{cid}-r", SkipFinalSnapshot=True)
    result = cli("alarms", "apply", "--yes", "--format", "json")
    assert result.exit_code == 0, result.stderr
    actions = {c["name"]: c["action"] for c in json.loads(result.stdout)["changes"]}
    assert actions[f"auroractl-{cid}-acu-utilization-{cid}-w"] == "update"
    assert actions[f"auroractl-{cid}-connections-{cid}-r"] == "delete"
    alarms = our_alarms(aws_endpoint, cid)
    assert alarms[f"auroractl-{cid}-acu-utilization-{cid}-w"]["Threshold"] == 95.0
    assert not any(name.endswith(f"{cid}-r") for name in alarms)


def test_status_shows_states_and_exits_1_on_alarm(cli, aws_endpoint, setup):
    cid, _, _ = setup
    assert cli("alarms", "apply", "--yes").exit_code == 0
    result = cli("alarms", "status", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) == 10 and {r["state"] for r in rows} == {"OK"}
    client(aws_endpoint, "cloudwatch").set_alarm_state(
        AlarmName=f"auroractl-{cid}-deadlocks-{cid}-w", StateValue="ALARM", StateReason="test"
    )
    result = cli("alarms", "status")
    assert result.exit_code == 1
    assert "ALARM" in result.stdout


def test_delete_removes_only_ours(cli, aws_endpoint, setup):
    cid, _, _ = setup
    cw = client(aws_endpoint, "cloudwatch")
    assert cli("alarms", "apply", "--yes").exit_code == 0
    common = {
        "MetricName": "CPUUtilization",
        "Namespace": "AWS/RDS",
        "Statistic": "Average",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 90.0,
        "ComparisonOperator": "GreaterThanThreshold",
    }
    # Same prefix but created by hand (no auroractl marker), and another prefix.
    cw.put_metric_alarm(AlarmName=f"auroractl-{cid}-by-hand", AlarmDescription="mine", **common)
    cw.put_metric_alarm(AlarmName=f"other-{cid}-cpu", **common)

    refused = cli("alarms", "delete")
    assert refused.exit_code == 4
    dry = cli("alarms", "delete", "--dry-run", "--format", "json")
    assert dry.exit_code == 0
    assert len(json.loads(dry.stdout)["changes"]) == 11  # 10 alarms + the metric filter
    assert len(our_alarms(aws_endpoint, cid)) == 11

    result = cli("alarms", "delete", "--yes")
    assert result.exit_code == 0, result.stderr
    assert set(our_alarms(aws_endpoint, cid)) == {f"auroractl-{cid}-by-hand"}
    names = {a["AlarmName"] for a in cw.describe_alarms()["MetricAlarms"]}
    assert f"other-{cid}-cpu" in names
    assert filters(aws_endpoint, cid) == {}
    assert cli("alarms", "delete", "--yes").exit_code == 0  # nothing left: a no-op


def test_alarms_need_a_cluster(cli, dsn):
    result = cli("alarms", "status")
    assert result.exit_code == 3 and "cluster_id" in result.stderr


def test_bad_config_is_a_usage_error(cli, aws_endpoint, setup, tmp_path):
    config = tmp_path / "auroractl.toml"
    config.write_text(config.read_text() + "connections_pct = 180\n")
    result = cli("alarms", "apply", "--dry-run")
    assert result.exit_code == 2 and "connections_pct" in result.stderr
