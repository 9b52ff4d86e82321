"""health section 12 against moto: AWS/RDS series put with put_metric_data, read back."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import boto3

REGION = "us-east-1"


def make_cluster(endpoint: str) -> tuple[str, str, str]:
    rds = boto3.client("rds", endpoint_url=endpoint, region_name=REGION)
    cid = f"health-{uuid.uuid4().hex[:8]}"
    rds.create_db_cluster(
        DBClusterIdentifier=cid,
        Engine="aurora-postgresql",
        MasterUsername="aurora_admin",
        MasterUserPassword="not-used-here-1",
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 4},
    )
    writer, reader = f"{cid}-w", f"{cid}-r"
    for name in (writer, reader):
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBClusterIdentifier=cid,
            Engine="aurora-postgresql",
            DBInstanceClass="db.serverless",
        )
    return cid, writer, reader


def put(endpoint: str, metric: str, instance: str, values: list[float]) -> None:
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    cw = boto3.client("cloudwatch", endpoint_url=endpoint, region_name=REGION)
    cw.put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": instance}],
                "Timestamp": now - dt.timedelta(minutes=len(values) - i),
                "Value": v,
            }
            for i, v in enumerate(values)
        ],
    )


def profile(cluster, dbname: str, cluster_id: str, endpoint: str) -> None:
    Path("auroractl.toml").write_text(
        "[profiles.aurora]\n"
        f"dsn = {json.dumps(cluster.conninfo(dbname))}\n"
        f'cluster_id = "{cluster_id}"\n'
        f'region = "{REGION}"\n'
        f'endpoint_url = "{endpoint}"\n',
        encoding="utf-8",
    )


def test_acu_pinned_at_max_is_warn_with_sparklines(cli, cluster, dbname, aws_endpoint, tmp_path):
    cid, writer, reader = make_cluster(aws_endpoint)
    put(aws_endpoint, "ACUUtilization", writer, [60, 97, 99, 100, 100, 98])
    put(aws_endpoint, "ACUUtilization", reader, [10, 12, 11, 9])
    put(aws_endpoint, "CPUUtilization", writer, [20, 35, 50])
    profile(cluster, dbname, cid, aws_endpoint)
    html = tmp_path / "health.html"
    result = cli(
        "--profile",
        "aurora",
        "health",
        "--only",
        "cloudwatch",
        "--format",
        "json",
        "--report",
        str(html),
    )
    report = json.loads(result.stdout)
    assert result.exit_code == 1, result.stderr
    sec = report["sections"][0]
    assert sec["name"] == "cloudwatch" and sec["status"] == "WARN"
    assert [f["object"] for f in sec["findings"]] == [writer]
    series = {(s["metric"], s["instance"]): s for s in sec["data"]["series"]}
    acu = series[("ACUUtilization", writer)]
    assert acu["role"] == "WRITER" and acu["maximum"] == 100 and acu["minimum"] == 60
    assert series[("ACUUtilization", reader)]["role"] == "READER"
    text = html.read_text(encoding="utf-8")
    assert text.count("<polyline") >= 3  # one sparkline per series with data


def test_quiet_cluster_is_ok(cli, cluster, dbname, aws_endpoint):
    cid, writer, _ = make_cluster(aws_endpoint)
    put(aws_endpoint, "ACUUtilization", writer, [20, 30, 97, 25])
    profile(cluster, dbname, cid, aws_endpoint)
    result = cli("--profile", "aurora", "health", "--only", "cloudwatch", "--format", "json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["sections"][0]["status"] == "OK"


def test_unknown_cluster_is_could_not_check_and_other_sections_run(
    cli, cluster, dbname, aws_endpoint
):
    profile(cluster, dbname, "no-such-cluster", aws_endpoint)
    result = cli(
        "--profile", "aurora", "health", "--only", "cloudwatch,indexes", "--format", "json"
    )
    report = json.loads(result.stdout)
    assert result.exit_code == 3
    statuses = {s["name"]: s["status"] for s in report["sections"]}
    assert statuses == {"indexes": "OK", "cloudwatch": "UNKNOWN"}
    cw = next(s for s in report["sections"] if s["name"] == "cloudwatch")
    assert "no-such-cluster" in cw["summary"]
