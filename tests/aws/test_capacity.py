"""Serverless v2 against moto: paused / active / pinned clusters from put_metric_data,
health without a connection on a paused cluster, capacity show / pause / apply."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import uuid
from pathlib import Path

import boto3
import pytest

REGION = "us-east-1"
NOW = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)


def client(endpoint, service):
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION)


def make_cluster(endpoint, *, min_acu=0.0, max_acu=4.0, pause=600, readers=1):
    rds = client(endpoint, "rds")
    cid = f"sv2-{uuid.uuid4().hex[:8]}"
    config = {"MinCapacity": min_acu, "MaxCapacity": max_acu}
    if min_acu == 0:
        config["SecondsUntilAutoPause"] = pause
    rds.create_db_cluster(
        DBClusterIdentifier=cid,
        Engine="aurora-postgresql",
        EngineVersion="16.4",
        MasterUsername="aurora_admin",
        MasterUserPassword="not-used-here-1",
        ServerlessV2ScalingConfiguration=config,
    )
    names = [f"{cid}-w"] + [f"{cid}-r{i}" for i in range(readers)]
    for name in names:
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBClusterIdentifier=cid,
            Engine="aurora-postgresql",
            DBInstanceClass="db.serverless",
        )
    return cid, names


def put(endpoint, metric, dim, value_of, values, end=NOW):
    """``values`` one a minute, the last one at ``end``."""
    cw = client(endpoint, "cloudwatch")
    data = [
        {
            "MetricName": metric,
            "Dimensions": [{"Name": dim, "Value": value_of}],
            "Timestamp": end - dt.timedelta(minutes=len(values) - 1 - i),
            "Value": float(v),
        }
        for i, v in enumerate(values)
    ]
    for first in range(0, len(data), 1000):
        cw.put_metric_data(Namespace="AWS/RDS", MetricData=data[first : first + 1000])


def capacity(endpoint, instance, values):
    put(endpoint, "ServerlessDatabaseCapacity", "DBInstanceIdentifier", instance, values)


class Listener:
    """A TCP port that counts connection attempts (and closes each at once)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.attempts = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.attempts += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener():
    lst = Listener()
    yield lst
    lst.close()


def profile(cid, endpoint, dsn):
    Path("auroractl.toml").write_text(
        "[auroractl]\ndefault_profile = 'aurora'\n"
        f"[profiles.aurora]\ndsn = {json.dumps(dsn)}\ncluster_id = '{cid}'\n"
        f"region = '{REGION}'\nendpoint_url = '{endpoint}'\n",
        encoding="utf-8",
    )


def listener_dsn(lst):
    return f"host=127.0.0.1 port={lst.port} dbname=app user=app connect_timeout=2"


# --- health ---------------------------------------------------------------------------


def test_health_on_a_paused_cluster_opens_no_connection(cli, aws_endpoint, listener):
    cid, (writer, reader) = make_cluster(aws_endpoint)
    for name in (writer, reader):
        capacity(aws_endpoint, name, [0.5, 0.5, 0, 0, 0, 0])
    put(aws_endpoint, "ACUUtilization", "DBInstanceIdentifier", writer, [12, 12, 0, 0, 0, 0])
    profile(cid, aws_endpoint, listener_dsn(listener))
    result = cli("health", "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert listener.attempts == 0
    sections = {s["name"]: s for s in report["sections"]}
    assert set(sections) == {"serverless", "cloudwatch"}
    assert sections["serverless"]["status"] == "OK"
    assert sections["serverless"]["summary"].startswith("paused")
    assert sections["serverless"]["data"]["paused"] is True
    assert report["meta"]["round_trips"] == 0 and report["meta"]["paused"] is True
    skipped = report["meta"]["skipped"]
    assert any(s.startswith("connections: the cluster is paused") for s in skipped)


def test_health_on_an_active_cluster_connects(cli, aws_endpoint, listener):
    """The same listener sees the connection when the cluster is not paused: the
    count above can fail."""
    cid, (writer, reader) = make_cluster(aws_endpoint)
    for name in (writer, reader):
        capacity(aws_endpoint, name, [0, 0, 1.5, 2])
    profile(cid, aws_endpoint, listener_dsn(listener))
    result = cli("health", "--format", "json")
    assert result.exit_code == 3  # the listener is no PostgreSQL: could not check
    assert listener.attempts >= 1


def test_health_wake_connects_to_a_paused_cluster(cli, aws_endpoint, listener):
    cid, (writer,) = make_cluster(aws_endpoint, readers=0)
    capacity(aws_endpoint, writer, [0, 0, 0])
    profile(cid, aws_endpoint, listener_dsn(listener))
    result = cli("health", "--wake", "--format", "json")
    assert result.exit_code == 3
    assert listener.attempts >= 1


def test_health_unknown_pause_state_connects(cli, aws_endpoint, listener):
    """No recent ServerlessDatabaseCapacity: unknown is never taken for paused."""
    cid, _ = make_cluster(aws_endpoint, readers=0)
    profile(cid, aws_endpoint, listener_dsn(listener))
    result = cli("health", "--only", "serverless,connections", "--format", "json")
    assert result.exit_code == 3 and listener.attempts >= 1


def test_health_serverless_section_on_a_real_database(cli, cluster, dbname, aws_endpoint):
    cid, _ = make_cluster(aws_endpoint, min_acu=0.5)
    profile(cid, aws_endpoint, cluster.conninfo(dbname))
    result = cli("health", "--only", "serverless,indexes", "--format", "json")
    assert result.exit_code == 0, result.stdout
    sections = {s["name"]: s for s in json.loads(result.stdout)["sections"]}
    assert sections["serverless"]["summary"].startswith("not paused: 0.5-4 ACU")
    assert sections["indexes"]["status"] == "OK"


# --- capacity show ------------------------------------------------------------------


def test_capacity_show_pinned_cluster_recommends_a_higher_max(cli, aws_endpoint, tmp_path):
    cid, (writer, reader) = make_cluster(aws_endpoint, min_acu=0.5, max_acu=4)
    capacity(aws_endpoint, writer, [4.0] * 30 + [2.0] * 30)  # at the max half the hour
    capacity(aws_endpoint, reader, [0.5] * 60)
    put(aws_endpoint, "VolumeReadIOPs", "DBClusterIdentifier", cid, [1_000_000] * 60)
    put(aws_endpoint, "VolumeWriteIOPs", "DBClusterIdentifier", cid, [500_000] * 60)
    put(aws_endpoint, "VolumeBytesUsed", "DBClusterIdentifier", cid, [10 * 1024**3] * 60)
    profile(cid, aws_endpoint, "host=127.0.0.1 port=1 dbname=x user=x")
    html = tmp_path / "capacity.html"
    result = cli("capacity", "show", "--days", "1", "--format", "json", "--report", str(html))
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    stats = {s["instance"]: s for s in data["instances"]}
    assert stats[writer]["share_at_max"] == 0.5 and stats[writer]["maximum"] == 4
    assert stats[writer]["p50"] == 3.0 and stats[writer]["points"] == 60
    assert stats[reader]["share_at_min"] == 1.0
    rec = data["recommendation"]
    assert rec["max_capacity"] == 8  # pinned >= 5% of the time: doubled
    assert any("max_connections" in c and "reboot" in c for c in rec["consequences"])
    io = data["io_optimized"]
    assert io["storage_gb"] == 10 and io["io_share"] > 0.25
    assert "I/O-Optimized is cheaper" in io["advice"]
    page = html.read_text(encoding="utf-8")
    assert page.count("<polyline") == 2 and "max 4" in page


def test_capacity_show_idle_cluster_recommends_pausing(cli, aws_endpoint):
    cid, (writer,) = make_cluster(aws_endpoint, min_acu=1, max_acu=4, readers=0)
    capacity(aws_endpoint, writer, [1.0] * 100 + [3.0] * 20)
    profile(cid, aws_endpoint, "host=127.0.0.1 port=1 dbname=x user=x")
    result = cli("capacity", "show", "--days", "1", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rec = json.loads(result.stdout)["recommendation"]
    assert rec["min_capacity"] == 0  # 16.4 supports auto-pause
    assert rec["monthly_difference_usd"] < 0
    assert any("auto-pause" in c for c in rec["consequences"])


def test_capacity_show_refuses_a_provisioned_cluster(cli, aws_endpoint):
    rds = client(aws_endpoint, "rds")
    cid = f"prov-{uuid.uuid4().hex[:8]}"
    rds.create_db_cluster(
        DBClusterIdentifier=cid,
        Engine="aurora-postgresql",
        MasterUsername="aurora_admin",
        MasterUserPassword="not-used-here-1",
    )
    profile(cid, aws_endpoint, "host=127.0.0.1 port=1 dbname=x user=x")
    result = cli("capacity", "show", "--format", "json")
    assert result.exit_code == 3
    assert "not Aurora Serverless v2" in result.stderr


# --- capacity pause -----------------------------------------------------------------


def test_capacity_pause_on_a_paused_cluster_checks_aws_only(cli, aws_endpoint, listener):
    cid, (writer, _) = make_cluster(aws_endpoint, readers=1, pause=900)
    capacity(aws_endpoint, writer, [0, 0, 0])
    profile(cid, aws_endpoint, listener_dsn(listener))
    result = cli("capacity", "pause", "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert listener.attempts == 0
    data = json.loads(result.stdout)
    checks = {b["check"]: b for b in data["blockers"]}
    assert checks["rds.logical_replication"]["status"] == "ok"
    assert checks["rds-proxy"]["status"] == "ok"
    assert checks["sessions (last hour)"]["status"] == "skipped"
    # writer + a tier-1 reader resume together: 2 x 0.5 ACU x (15 + 900) s
    assert data["wake_cost_acu_seconds"] == 915


def test_capacity_pause_names_what_blocks(cli, aws_endpoint, cluster, dbname, conn_to):
    cid, (writer,) = make_cluster(aws_endpoint, readers=0, pause=300)
    rds = client(aws_endpoint, "rds")
    group = f"{cid}-params"
    rds.create_db_cluster_parameter_group(
        DBClusterParameterGroupName=group,
        DBParameterGroupFamily="aurora-postgresql16",
        Description="test",
    )
    rds.modify_db_cluster_parameter_group(
        DBClusterParameterGroupName=group,
        Parameters=[
            {"ParameterName": "rds.logical_replication", "ParameterValue": "1",
             "ApplyMethod": "pending-reboot"},
        ],
    )  # fmt: skip
    rds.modify_db_cluster(DBClusterIdentifier=cid, DBClusterParameterGroupName=group)
    capacity(aws_endpoint, writer, [0.5, 0.5])
    put(aws_endpoint, "DatabaseConnections", "DBInstanceIdentifier", writer, [3, 2])
    profile(cid, aws_endpoint, cluster.conninfo(dbname))
    with conn_to(application_name="poller"):
        result = cli("capacity", "pause", "--format", "json")
    assert result.exit_code == 1, result.stdout + result.stderr
    checks = {b["check"]: b for b in json.loads(result.stdout)["blockers"]}
    assert checks["rds.logical_replication"]["status"] == "blocks"
    assert checks["connections (CloudWatch)"]["status"] == "blocks"
    assert checks["sessions (last hour)"]["status"] == "blocks"
    assert "poller" in checks["sessions (last hour)"]["detail"]
    assert checks["zero-etl"]["status"] in ("ok", "unknown")  # moto lacks the API


@pytest.fixture
def conn_to(cluster, dbname):
    import contextlib

    import psycopg

    @contextlib.contextmanager
    def open_(application_name):
        with psycopg.connect(cluster.conninfo(dbname), application_name=application_name) as c:
            c.execute("SELECT 1")
            yield c

    return open_


# --- capacity apply -----------------------------------------------------------------


def test_capacity_apply_modifies_the_cluster_and_states_the_reboot(cli, aws_endpoint, ledger_file):
    cid, names = make_cluster(aws_endpoint, min_acu=0.5, max_acu=4)
    profile(cid, aws_endpoint, "host=127.0.0.1 port=1 dbname=x user=x")
    dry = cli("capacity", "apply", "--min", "1", "--max", "16", "--dry-run", "--format", "json")
    assert dry.exit_code == 0, dry.stderr
    plan = json.loads(dry.stdout)
    assert [c["operation"] for c in plan["calls"]] == ["modify_db_cluster"]
    assert plan["calls"][0]["request"]["ServerlessV2ScalingConfiguration"] == {
        "MinCapacity": 1.0,
        "MaxCapacity": 16.0,
    }
    note = next(n for n in plan["notes"] if n.startswith("max_connections"))
    assert "about 823 -> about 3,360" in note and all(n in note for n in names)
    rds = client(aws_endpoint, "rds")
    before = rds.describe_db_clusters(DBClusterIdentifier=cid)["DBClusters"][0]
    assert before["ServerlessV2ScalingConfiguration"]["MaxCapacity"] == 4

    done = cli("capacity", "apply", "--min", "1", "--max", "16", "--yes")
    assert done.exit_code == 0, done.stderr
    after = rds.describe_db_clusters(DBClusterIdentifier=cid)["DBClusters"][0]
    assert after["ServerlessV2ScalingConfiguration"]["MinCapacity"] == 1
    assert after["ServerlessV2ScalingConfiguration"]["MaxCapacity"] == 16
    rows = [json.loads(line) for line in ledger_file.read_text().splitlines()]
    assert [r["command"] for r in rows] == ["capacity apply"]

    again = cli("capacity", "apply", "--min", "1", "--max", "16", "--yes", "--format", "json")
    assert json.loads(again.stdout)["status"] == "nothing-to-do"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--min", "0.3", "--max", "4"), "steps of 0.5"),
        (("--min", "8", "--max", "4"), "at least --min"),
        (("--min", "0", "--max", "300"), "0 to 256"),
        (("--min", "1", "--max", "4", "--seconds-until-auto-pause", "600"), "needs --min 0"),
        (("--min", "0", "--max", "4", "--seconds-until-auto-pause", "60"), "300 to 86400"),
    ],
)
def test_capacity_apply_rejects_a_bad_range_before_any_call(cli, aws_endpoint, args, message):
    profile("no-such-cluster", aws_endpoint, "host=127.0.0.1 port=1 dbname=x user=x")
    result = cli("capacity", "apply", *args, "--dry-run")
    assert result.exit_code == 2 and message in result.stderr


# --- alarms -------------------------------------------------------------------------


def test_alarms_of_a_pausable_cluster_are_quiet_when_paused(cli, aws_endpoint, listener):
    cid, (writer, reader) = make_cluster(aws_endpoint, min_acu=0, max_acu=8)
    capacity(aws_endpoint, writer, [0, 0, 0])
    profile(cid, aws_endpoint, listener_dsn(listener))
    result = cli("alarms", "apply", "--yes", "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert listener.attempts == 0  # paused: max_connections estimated, not read
    cw = client(aws_endpoint, "cloudwatch")
    alarms = {
        a["AlarmName"]: a
        for a in cw.describe_alarms(AlarmNamePrefix=f"auroractl-{cid}-")["MetricAlarms"]
    }
    instance_alarms = [a for a in alarms.values() if a["Namespace"] == "AWS/RDS"]
    assert instance_alarms and all(a["TreatMissingData"] == "notBreaching" for a in instance_alarms)
    pinned = alarms[f"auroractl-{cid}-acu-pinned-{writer}"]
    assert pinned["MetricName"] == "ServerlessDatabaseCapacity"
    assert pinned["Statistic"] == "Minimum" and pinned["Threshold"] == 8
    assert pinned["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert f"auroractl-{cid}-acu-pinned-{reader}" in alarms
    # max_connections with a 0-8 ACU range: about 1,669 -> 80% = 1,335
    connections = alarms[f"auroractl-{cid}-connections-{writer}"]
    assert connections["Threshold"] == 1335


def test_alarms_of_a_cluster_that_cannot_pause_keep_missing(cli, aws_endpoint, cluster, dbname):
    cid, (writer, _) = make_cluster(aws_endpoint, min_acu=0.5, max_acu=4)
    profile(cid, aws_endpoint, cluster.conninfo(dbname))
    result = cli("alarms", "apply", "--dry-run", "--format", "json")
    assert result.exit_code == 0, result.stderr
    put = {c["resource"]: c["request"] for c in json.loads(result.stdout)["calls"]}
    assert put[f"auroractl-{cid}-connections-{writer}"]["TreatMissingData"] == "missing"
    assert put[f"auroractl-{cid}-acu-pinned-{writer}"]["TreatMissingData"] == "notBreaching"


# --- params -------------------------------------------------------------------------


def test_params_diff_warns_about_parameters_that_pin_capacity(cli, aws_endpoint):
    cid, _ = make_cluster(aws_endpoint, min_acu=0.5, max_acu=4, readers=0)
    rds = client(aws_endpoint, "rds")
    group = f"{cid}-params"
    rds.create_db_cluster_parameter_group(
        DBClusterParameterGroupName=group,
        DBParameterGroupFamily="aurora-postgresql16",
        Description="test",
    )
    rds.modify_db_cluster_parameter_group(
        DBClusterParameterGroupName=group,
        Parameters=[
            {"ParameterName": "max_locks_per_transaction", "ParameterValue": "256",
             "ApplyMethod": "pending-reboot"},
        ],
    )  # fmt: skip
    rds.modify_db_cluster(DBClusterIdentifier=cid, DBClusterParameterGroupName=group)
    profile(cid, aws_endpoint, "host=127.0.0.1 port=1 dbname=x user=x")
    result = cli("params", "diff", "--format", "json")
    data = json.loads(result.stdout)
    assert any(w.startswith("max_locks_per_transaction = 256") for w in data["warnings"])
    assert "max_locks_per_transaction = 256" in result.stderr
    assert data["pending_reboot"] == []  # moto keeps members in-sync
