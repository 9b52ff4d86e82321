"""restore-test and backup on Aurora, against moto running as an HTTP server.

The source is a real local PostgreSQL database (the profile's dsn); the "restored
cluster" is reached through ``restored_dsn`` (a testing aid), another real copy of
the demo database, which the drill verifies against the source.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os

import boto3
import psycopg
import pytest
from psycopg import sql

from auroractl.ops.restore_test_aws import teardown
from auroractl.sandbox import ADMIN_ROLE
from tests.conftest import TEMPLATE_DB, superuser

_ids = itertools.count()


@pytest.fixture
def source_id() -> str:
    """A fresh source cluster name per test (moto's state lives for the whole session)."""
    return f"rt{os.getpid()}x{next(_ids)}"


@pytest.fixture
def rds(aws_endpoint, source_id):
    client = boto3.client("rds", endpoint_url=aws_endpoint, region_name="us-east-1")
    groups = client.describe_db_cluster_parameter_groups()["DBClusterParameterGroups"]
    if "escola-params" not in {g["DBClusterParameterGroupName"] for g in groups}:
        client.create_db_cluster_parameter_group(
            DBClusterParameterGroupName="escola-params",
            DBParameterGroupFamily="aurora-postgresql15",
            Description="test",
        )
    client.create_db_cluster(
        DBClusterIdentifier=source_id,
        Engine="aurora-postgresql",
        EngineVersion="15.4",
        MasterUsername="aurora_admin",
        MasterUserPassword="not-used-here",
        DBClusterParameterGroupName="escola-params",
        VpcSecurityGroupIds=["sg-12345"],
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 8},
    )
    client.source_id = source_id
    return client


@pytest.fixture
def restored_db(cluster):
    name = f"restored_{dt.datetime.now():%H%M%S%f}"
    with superuser(cluster) as c:
        c.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(TEMPLATE_DB), sql.Identifier(ADMIN_ROLE)
            )
        )
    yield name
    with superuser(cluster) as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def aurora(cluster, dbname, restored_db, tmp_path, monkeypatch, aws_endpoint, source_id):
    path = tmp_path / "auroractl.toml"
    path.write_text(
        f"""
[auroractl]
default_profile = "aws"

[profiles.aws]
dsn = "{cluster.conninfo(dbname)}"
cluster_id = "{source_id}"
region = "us-east-1"

[restore_test]
waiter_delay = 1
restored_dsn = "{cluster.conninfo(restored_db)}"
critical_tables = ["usuarios"]
timestamp_columns = {{ "usuarios" = "criado_em" }}
freshness_columns = ["usuarios.criado_em"]

[backup]
waiter_delay = 1
"""
    )
    monkeypatch.setenv("AURORACTL_CONFIG", str(path))
    return cluster.conninfo(dbname)


def drill_clusters(rds) -> list[str]:
    prefix = f"auroractl-drill-{rds.source_id}"
    return [
        c["DBClusterIdentifier"]
        for c in rds.describe_db_clusters()["DBClusters"]
        if c["DBClusterIdentifier"].startswith(prefix)
    ]


def nothing_left(rds) -> bool:
    prefix = f"auroractl-drill-{rds.source_id}"
    instances = [
        i
        for i in rds.describe_db_instances()["DBInstances"]
        if i.get("DBClusterIdentifier", "").startswith(prefix)
    ]
    return drill_clusters(rds) == [] and instances == []


def test_drill_restores_latest_snapshot_verifies_and_tears_down(cli, rds, aurora):
    rds.create_db_cluster_snapshot(
        DBClusterSnapshotIdentifier="manual-latest", DBClusterIdentifier=rds.source_id
    )
    result = cli("restore-test", "--format", "json")
    assert result.exit_code == 0, result.stderr + result.stdout
    data = json.loads(result.stdout)
    assert data["backend"] == "aurora"
    assert data["restore_from"] == "snapshot manual-latest"
    assert data["restored"].startswith(f"auroractl-drill-{rds.source_id}-")
    assert data["torn_down"] is True
    status = {c["name"]: c["status"] for c in data["checks"]}
    assert status["checksum: public.usuarios"] == "pass"
    assert status["rows: public.usuarios"] == "pass"
    assert nothing_left(rds)
    with psycopg.connect(aurora) as conn:
        assert conn.execute("SELECT backend, outcome FROM auroractl.restore_tests").fetchall() == [
            ("aurora", "passed")
        ]


def test_keep_leaves_a_tagged_serverless_cluster_that_cleanup_deletes_once_expired(
    cli, rds, aurora
):
    snaps = rds.describe_db_cluster_snapshots(DBClusterIdentifier=rds.source_id)
    first = snaps["DBClusterSnapshots"][0]["DBClusterSnapshotIdentifier"]
    result = cli("restore-test", "--keep", "--snapshot", first, "--format", "json")
    assert result.exit_code == 0, result.stderr
    drill_id = json.loads(result.stdout)["restored"]
    c = rds.describe_db_clusters(DBClusterIdentifier=drill_id)["DBClusters"][0]
    tag_list = rds.list_tags_for_resource(ResourceName=c["DBClusterArn"])["TagList"]
    tags = {t["Key"]: t["Value"] for t in tag_list}
    assert tags["auroractl:drill"] == drill_id
    expires = dt.datetime.fromisoformat(tags["auroractl:expires-at"])
    assert dt.timedelta(hours=5) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=6)
    assert c["ServerlessV2ScalingConfiguration"]["MaxCapacity"] == 4
    assert c["DBClusterParameterGroup"] == "escola-params"
    assert [g["VpcSecurityGroupId"] for g in c["VpcSecurityGroups"]] == ["sg-12345"]
    (member,) = c["DBClusterMembers"]
    inst = rds.describe_db_instances(DBInstanceIdentifier=member["DBInstanceIdentifier"])
    assert inst["DBInstances"][0]["DBInstanceClass"] == "db.serverless"
    # Not expired: cleanup keeps it.
    out = cli("restore-test", "cleanup", "--yes", "--format", "json")
    assert out.exit_code == 0, out.stderr
    assert [r["action"] for r in json.loads(out.stdout)] == ["kept (not expired)"]
    assert drill_clusters(rds) == [drill_id]
    assert teardown(rds, drill_id, None, 1) == ()
    assert nothing_left(rds)


def test_cleanup_deletes_expired_drill_clusters_only(cli, rds, aurora):
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(timespec="seconds")
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat(timespec="seconds")
    old, new, foreign = (f"auroractl-drill-{rds.source_id}-{x}" for x in ("old", "new", "foreign"))
    for ident, tags in (
        (old, [("auroractl:drill", old), ("auroractl:expires-at", past)]),
        (new, [("auroractl:drill", new), ("auroractl:expires-at", future)]),
        (foreign, [("owner", "someone-else")]),
    ):
        rds.create_db_cluster(
            DBClusterIdentifier=ident,
            Engine="aurora-postgresql",
            MasterUsername="u",
            MasterUserPassword="not-used-here",
            Tags=[{"Key": k, "Value": v} for k, v in tags],
        )
        rds.create_db_instance(
            DBInstanceIdentifier=f"{ident}-w",
            DBClusterIdentifier=ident,
            Engine="aurora-postgresql",
            DBInstanceClass="db.serverless",
        )

    def mine(result) -> dict[str, str]:
        return {
            r["name"]: r["action"] for r in json.loads(result.stdout) if rds.source_id in r["name"]
        }

    preview = cli("restore-test", "cleanup", "--dry-run", "--format", "json")
    assert mine(preview) == {old: "would delete", new: "kept (not expired)"}
    result = cli("restore-test", "cleanup", "--yes", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert mine(result) == {old: "deleted", new: "kept (not expired)"}
    assert sorted(drill_clusters(rds)) == sorted([new, foreign])
    left = {i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]}
    assert f"{old}-w" not in left and f"{new}-w" in left


def test_pitr_latest_and_window_bounds(cli, rds, aurora):
    result = cli("restore-test", "--pitr", "latest", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["restore_from"] == "pitr latest"
    assert nothing_left(rds)
    old = cli("restore-test", "--pitr", "2001-01-01T00:00:00Z")
    assert old.exit_code == 2
    assert "outside the restorable window" in old.stderr
    bad = cli("restore-test", "--pitr", "yesterday")
    assert bad.exit_code == 2
    assert nothing_left(rds)


def test_unknown_snapshot_could_not_run(cli, rds, aurora):
    result = cli("restore-test", "--snapshot", "nope")
    assert result.exit_code == 2
    assert "snapshot nope does not exist" in result.stderr
    assert nothing_left(rds)


def test_verification_failure_still_tears_down(cli, rds, aurora, monkeypatch):
    monkeypatch.setenv("AURORACTL_DRILL_HOOK_SQL", "UPDATE usuarios SET nome = 'x' WHERE id = 3")
    result = cli("restore-test", "--format", "json")
    assert result.exit_code == 1, result.stderr
    status = {c["name"]: c["status"] for c in json.loads(result.stdout)["checks"]}
    assert status["checksum: public.usuarios"] == "fail"
    assert nothing_left(rds)


def test_exception_mid_way_still_tears_down(cli, rds, aurora, monkeypatch):
    monkeypatch.setenv("AURORACTL_DRILL_HOOK_SQL", "SELECT 1/0")
    result = cli("restore-test")
    assert result.exit_code == 2
    assert "division by zero" in result.stderr
    assert nothing_left(rds)
    with psycopg.connect(aurora) as conn:
        assert conn.execute("SELECT outcome FROM auroractl.restore_tests").fetchone()[0] == "error"


def test_unreachable_restored_cluster_times_out_and_tears_down(cli, rds, aurora, monkeypatch):
    monkeypatch.setenv("AURORACTL_DRILL_RESTORED_DSN", "host=127.0.0.1 port=1 dbname=x")
    result = cli("restore-test", "--timeout", "2s")
    assert result.exit_code == 2
    assert "cannot connect to the restored cluster" in result.stderr
    assert nothing_left(rds)


def test_retention_bounds_and_apply(cli, rds, aurora):
    for bad in ("0", "36"):
        result = cli("backup", "policy", "apply", "--retention", bad, "--yes")
        assert result.exit_code == 2
        assert "outside 1-35 days" in result.stderr
    assert cli("backup", "policy", "apply", "--retention", "30", "--window", "3am").exit_code == 2
    refused = cli("backup", "policy", "apply", "--retention", "30")
    assert refused.exit_code == 4
    ok = cli("backup", "policy", "apply", "--retention", "30", "--window", "03:00-04:00", "--yes")
    assert ok.exit_code == 0, ok.stderr
    c = rds.describe_db_clusters(DBClusterIdentifier=rds.source_id)["DBClusters"][0]
    assert c["BackupRetentionPeriod"] == 30
    assert c["PreferredBackupWindow"] == "03:00-04:00"
    again = cli("backup", "policy", "apply", "--retention", "30", "--window", "03:00-04:00")
    assert again.exit_code == 0  # nothing to do: no confirmation needed
    assert "nothing to do" in again.stderr
    shown = cli("backup", "policy", "show", "--format", "json")
    assert json.loads(shown.stdout)["retention_days"] == 30


def test_snapshot_list_and_prune_only_auroractl_snapshots(cli, rds, aurora):
    rds.create_db_cluster_snapshot(
        DBClusterSnapshotIdentifier="hand-made", DBClusterIdentifier=rds.source_id
    )
    made = cli("backup", "snapshot", "--tag", "reason=test", "--format", "json")
    assert made.exit_code == 0, made.stderr
    snap = json.loads(made.stdout)
    assert snap["id"].startswith(f"auroractl-{rds.source_id}-")
    assert snap["status"] == "available" and snap["made_by_auroractl"] is True
    listing = json.loads(cli("backup", "list", "--format", "json").stdout)
    types = {s["id"]: s["type"] for s in listing["snapshots"]}
    assert types[snap["id"]] == "manual" and types["hand-made"] == "manual"
    assert "automated" in types.values()
    assert listing["latest_restorable_time"] is not None
    assert cli("backup", "snapshot", "--tag", "novalue").exit_code == 2
    assert cli("backup", "prune", "--keep-days", "0").exit_code == 4  # no --yes, no TTY
    kept = cli("backup", "prune", "--keep-days", "1", "--yes", "--format", "json")
    assert kept.exit_code == 0 and json.loads(kept.stdout) == []
    pruned = cli("backup", "prune", "--keep-days", "0", "--yes", "--format", "json")
    assert pruned.exit_code == 0, pruned.stderr
    assert [p["id"] for p in json.loads(pruned.stdout)] == [snap["id"]]
    remaining = rds.describe_db_cluster_snapshots(DBClusterIdentifier=rds.source_id)
    ids = {s["DBClusterSnapshotIdentifier"] for s in remaining["DBClusterSnapshots"]}
    assert "hand-made" in ids and snap["id"] not in ids


def test_backup_without_an_aurora_target_is_a_precondition(cli, dsn):
    result = cli("backup", "list")
    assert result.exit_code == 3
    assert "needs an Aurora target" in result.stderr
