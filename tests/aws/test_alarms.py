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
    assert planned["status"] == "dry-run" and planned["kind"] == "aws"
    operations = [c["operation"] for c in planned["calls"]]
    assert operations.count("put_metric_alarm") == 10
    assert "put_metric_filter" in operations
    put = {c["resource"]: c["request"] for c in planned["calls"]}
    assert put[f"{p}slow-queries"]["Namespace"] == f"auroractl/{cid}"
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
    actions = {c["name"]: c["action"] for c in json.loads(result.stdout)["result"]}
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
    calls = json.loads(dry.stdout)["calls"]
    assert [c["operation"] for c in calls] == ["delete_alarms", "delete_metric_filter"]
    assert len(calls[0]["request"]["AlarmNames"]) == 10
    assert f"auroractl-{cid}-by-hand" not in calls[0]["request"]["AlarmNames"]
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


def test_apply_refuses_without_a_terminal_and_changes_nothing(cli, aws_endpoint, setup):
    cid, _, _ = setup
    refused = cli("alarms", "apply")
    assert refused.exit_code == 4 and "--yes" in refused.stderr
    assert our_alarms(aws_endpoint, cid) == {}
    assert filters(aws_endpoint, cid) == {}


def test_apply_writes_one_ledger_row_in_the_database(cli, aws_endpoint, setup, cluster, dbname):
    cid, _, _ = setup
    result = cli("alarms", "apply", "--yes", "--format", "json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["status"] == "applied" and out["region"] == REGION
    with psycopg.connect(cluster.conninfo(dbname)) as conn:
        rows = conn.execute(
            "SELECT kind, resources, region, outcome FROM auroractl.operations"
            " WHERE command = 'alarms apply'"
        ).fetchall()
    assert len(rows) == 1
    kind, resources, region, outcome = rows[0]
    assert (kind, region, outcome) == ("aws", REGION, "applied")
    assert f"auroractl-{cid}-slow-queries" in resources
    assert cli("alarms", "apply", "--yes").exit_code == 0  # nothing to do: no second row
    with psycopg.connect(cluster.conninfo(dbname)) as conn:
        n = conn.execute(
            "SELECT count(*) FROM auroractl.operations WHERE command = 'alarms apply'"
        ).fetchone()[0]
    assert n == 1


def test_delete_without_a_connection_records_in_the_local_ledger(
    cli, aws_endpoint, setup, ledger_file
):
    from tests.aws.conftest import ledger_rows

    cid, _, _ = setup
    assert cli("alarms", "apply", "--yes").exit_code == 0
    result = cli("alarms", "delete", "--yes", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["ledger_id"] == "local#1"
    (row,) = ledger_rows(ledger_file)
    assert (row["command"], row["kind"], row["region"]) == ("alarms delete", "aws", REGION)
    assert row["outcome"] == "applied"
    assert any(f"auroractl-{cid}-deadlocks-{cid}-w" in r for r in row["resources"])
    assert f"auroractl-{cid}-slow-queries" in row["resources"]
    assert "not-used-here-1" not in ledger_file.read_text()
    assert "request" not in row and "params" not in row  # ids and region, never requests


def test_a_bug_inside_the_aws_helpers_stays_a_bug(cli, aws_endpoint, setup, monkeypatch):
    """A TypeError while building the calls is not reported as an AWS error."""
    from auroractl.ops import alarms

    def broken(self):
        raise TypeError("bug in the request")

    monkeypatch.setenv("AURORACTL_DEBUG", "1")
    monkeypatch.setattr(alarms.AlarmSpec, "request", broken)
    with pytest.raises(TypeError, match="bug in the request"):
        cli("alarms", "apply", "--yes")
