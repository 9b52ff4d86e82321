"""CloudWatch series put into moto and read back through cluster_metrics (one call)."""

from __future__ import annotations

import datetime as dt
import uuid

import boto3
import pytest

from auroractl.errors import InvalidInput, NotFound
from auroractl.ops.shared import cloudwatch

REGION = "us-east-1"


def make_cluster(endpoint: str, readers: int = 1) -> tuple[str, str, list[str]]:
    rds = boto3.client("rds", endpoint_url=endpoint, region_name=REGION)
    cid = f"cw-{uuid.uuid4().hex[:8]}"
    rds.create_db_cluster(
        DBClusterIdentifier=cid,
        Engine="aurora-postgresql",
        MasterUsername="aurora_admin",
        MasterUserPassword="not-used-here-1",
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 4},
    )
    writer = f"{cid}-w"
    names = [writer] + [f"{cid}-r{i}" for i in range(readers)]
    for name in names:
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBClusterIdentifier=cid,
            Engine="aurora-postgresql",
            DBInstanceClass="db.serverless",
        )
    return cid, writer, names[1:]


def put_series(endpoint, metric, dim_name, dim_value, values, now):
    cw = boto3.client("cloudwatch", endpoint_url=endpoint, region_name=REGION)
    cw.put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [{"Name": dim_name, "Value": dim_value}],
                "Timestamp": now - dt.timedelta(minutes=len(values) - i),
                "Value": v,
            }
            for i, v in enumerate(values)
        ],
    )


def counting_client(endpoint: str, service: str, calls: list[str]):
    client = boto3.client(service, endpoint_url=endpoint, region_name=REGION)
    client.meta.events.register("before-call", lambda model, **_: calls.append(model.name))
    return client


def test_cluster_metrics_reads_every_instance_in_one_call(aws_endpoint):
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    cid, writer, readers = make_cluster(aws_endpoint, readers=1)
    reader = readers[0]
    put_series(aws_endpoint, "ACUUtilization", "DBInstanceIdentifier", writer, [10, 50, 90], now)
    put_series(aws_endpoint, "ACUUtilization", "DBInstanceIdentifier", reader, [5, 7], now)
    put_series(aws_endpoint, "DatabaseConnections", "DBInstanceIdentifier", writer, [3, 4], now)
    put_series(aws_endpoint, "VolumeBytesUsed", "DBClusterIdentifier", cid, [1e9, 2e9], now)
    # Older than the window: must not show up.
    put_series(
        aws_endpoint,
        "CPUUtilization",
        "DBInstanceIdentifier",
        writer,
        [99.0],
        now - dt.timedelta(hours=5),
    )

    calls: list[str] = []
    cw = counting_client(aws_endpoint, "cloudwatch", calls)
    series = cloudwatch.cluster_metrics(
        cid, REGION, hours=3, now=now + dt.timedelta(minutes=1), cloudwatch_client=cw
    )
    assert calls == ["GetMetricData"]

    by_key = {(s.metric, s.instance): s for s in series}
    # 9 instance metrics x 2 instances + VolumeBytesUsed
    assert len(series) == 19
    assert series[0].instance == writer and series[0].role == "WRITER"
    acu_w = by_key[("ACUUtilization", writer)]
    assert acu_w.values == (10.0, 50.0, 90.0)
    assert acu_w.role == "WRITER" and acu_w.unit == "Percent"
    assert list(acu_w.timestamps) == sorted(acu_w.timestamps)
    assert (acu_w.minimum, acu_w.average, acu_w.maximum) == (10.0, 50.0, 90.0)
    acu_r = by_key[("ACUUtilization", reader)]
    assert acu_r.values == (5.0, 7.0) and acu_r.role == "READER"
    assert by_key[("DatabaseConnections", writer)].values == (3.0, 4.0)
    assert by_key[("DatabaseConnections", reader)].values == ()
    assert by_key[("DatabaseConnections", reader)].average is None
    volume = by_key[("VolumeBytesUsed", None)]
    assert volume.values == (1e9, 2e9) and volume.role is None and volume.unit == "Bytes"
    assert by_key[("CPUUtilization", writer)].values == ()


def test_many_instances_are_batched_under_the_query_limit(aws_endpoint, monkeypatch):
    monkeypatch.setattr(cloudwatch, "MAX_QUERIES_PER_CALL", 10)
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    cid, _, _ = make_cluster(aws_endpoint, readers=1)
    put_series(aws_endpoint, "VolumeBytesUsed", "DBClusterIdentifier", cid, [5.0], now)
    calls: list[str] = []
    cw = counting_client(aws_endpoint, "cloudwatch", calls)
    series = cloudwatch.cluster_metrics(
        cid, REGION, now=now + dt.timedelta(minutes=1), cloudwatch_client=cw
    )
    assert calls == ["GetMetricData"] * 2  # 19 queries, 10 per call
    assert {(s.metric, s.instance): s for s in series}[("VolumeBytesUsed", None)].values == (5.0,)


def test_unknown_cluster_is_not_found(aws_endpoint):
    with pytest.raises(NotFound, match="does not exist"):
        cloudwatch.cluster_metrics("no-such-cluster", REGION)


def test_window_must_be_positive(aws_endpoint):
    with pytest.raises(InvalidInput):
        cloudwatch.cluster_metrics("x", REGION, hours=0)
