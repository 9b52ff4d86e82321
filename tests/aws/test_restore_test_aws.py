"""restore-test and backup on Aurora, against moto running as an HTTP server.

The source is a real local PostgreSQL database (the profile's dsn); the "restored
cluster" is reached through ``restored_dsn`` (a testing aid), another real copy of
the demo database, which the restore test verifies against the source.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os

import boto3
import pytest
from psycopg import sql

from auroractl.ops.restore_test import aurora as ops_aurora
from auroractl.sandbox import ADMIN_ROLE
from tests.conftest import TEMPLATE_DB, superuser

HOOK = "AURORACTL_RESTORE_TEST_HOOK_SQL"

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
    monkeypatch.setenv("AURORACTL_LEDGER_FILE", str(tmp_path / "operations.jsonl"))
    return cluster.conninfo(dbname)


def history(cli) -> list[tuple[str, str]]:
    result = cli("restore-test", "history", "--format", "json")
    assert result.exit_code == 0, result.stderr
    return [(h["backend"], h["outcome"]) for h in json.loads(result.stdout)]


def ledger(tmp_path) -> list[dict]:
    path = tmp_path / "operations.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def teardown(rds, cluster_id: str) -> None:
    ops_aurora.execute(
        ops_aurora.teardown_action(
            rds, cluster_id, ops_aurora.members(rds, cluster_id), 1, "us-east-1"
        )
    )


PREFIXES = ("auroractl-restore-test-", "auroractl-drill-")


def copies(rds) -> list[str]:
    prefixes = tuple(p + rds.source_id for p in PREFIXES)
    return [
        c["DBClusterIdentifier"]
        for c in rds.describe_db_clusters()["DBClusters"]
        if c["DBClusterIdentifier"].startswith(prefixes)
    ]


def nothing_left(rds) -> bool:
    prefixes = tuple(p + rds.source_id for p in PREFIXES)
    instances = [
        i
        for i in rds.describe_db_instances()["DBInstances"]
        if i.get("DBClusterIdentifier", "").startswith(prefixes)
    ]
    return copies(rds) == [] and instances == []


def test_restores_latest_snapshot_verifies_and_tears_down(cli, rds, aurora, tmp_path):
    rds.create_db_cluster_snapshot(
        DBClusterSnapshotIdentifier="manual-latest", DBClusterIdentifier=rds.source_id
    )
    result = cli("restore-test", "--format", "json")
    assert result.exit_code == 0, result.stderr + result.stdout
    data = json.loads(result.stdout)
    assert data["backend"] == "aurora"
    assert data["restore_from"] == "snapshot manual-latest"
    assert data["restored"].startswith(f"auroractl-restore-test-{rds.source_id}-")
    assert data["torn_down"] is True
    status = {c["name"]: c["status"] for c in data["checks"]}
    assert status["checksum: public.usuarios"] == "pass"
    assert status["rows: public.usuarios"] == "pass"
    assert nothing_left(rds)
    assert history(cli) == [("aurora", "passed")]
    # The teardown is one change in the local ledger: the copy's ids and the region.
    (row,) = ledger(tmp_path)
    assert (row["command"], row["kind"], row["outcome"]) == ("restore-test", "aws", "applied")
    assert row["region"] == "us-east-1"
    assert set(row["resources"]) == {data["restored"], data["restored"] + "-w"}


def test_keep_leaves_a_tagged_serverless_cluster_that_cleanup_deletes_once_expired(
    cli, rds, aurora
):
    snaps = rds.describe_db_cluster_snapshots(DBClusterIdentifier=rds.source_id)
    first = snaps["DBClusterSnapshots"][0]["DBClusterSnapshotIdentifier"]
    result = cli("restore-test", "--keep", "--snapshot", first, "--format", "json")
    assert result.exit_code == 0, result.stderr
    copy_id = json.loads(result.stdout)["restored"]
    c = rds.describe_db_clusters(DBClusterIdentifier=copy_id)["DBClusters"][0]
    tag_list = rds.list_tags_for_resource(ResourceName=c["DBClusterArn"])["TagList"]
    tags = {t["Key"]: t["Value"] for t in tag_list}
    assert tags["auroractl:restore-test"] == copy_id
    assert "auroractl:drill" not in tags
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
    mine = [r for r in json.loads(out.stdout)["result"] if r["name"] == copy_id]
    assert [r["action"] for r in mine] == ["kept (not expired)"]
    assert copies(rds) == [copy_id]
    teardown(rds, copy_id)
    assert nothing_left(rds)


def test_cleanup_deletes_expired_copies_only_including_the_earlier_name(cli, rds, aurora, tmp_path):
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(timespec="seconds")
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat(timespec="seconds")
    old, new, foreign = (
        f"auroractl-restore-test-{rds.source_id}-{x}" for x in ("old", "new", "foreign")
    )
    # A copy made under the earlier name and tag is still recognised (never orphaned).
    legacy = f"auroractl-drill-{rds.source_id}-legacy"
    for ident, tags in (
        (old, [("auroractl:restore-test", old), ("auroractl:expires-at", past)]),
        (new, [("auroractl:restore-test", new), ("auroractl:expires-at", future)]),
        (foreign, [("owner", "someone-else")]),
        (legacy, [("auroractl:drill", legacy), ("auroractl:expires-at", past)]),
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

    def mine(rows) -> dict[str, str]:
        return {r["name"]: r["action"] for r in rows if rds.source_id in r["name"]}

    refused = cli("restore-test", "cleanup", "--format", "json")  # no --yes, no terminal
    assert refused.exit_code == 4
    assert sorted(copies(rds)) == sorted([old, new, foreign, legacy])
    assert ledger(tmp_path) == []
    preview = cli("restore-test", "cleanup", "--dry-run", "--format", "json")
    plan = json.loads(preview.stdout)
    deletes = {
        (c["operation"], c["resource"]) for c in plan["calls"] if rds.source_id in c["resource"]
    }
    assert deletes == {
        ("delete_db_instance", f"{old}-w"),
        ("delete_db_cluster", old),
        ("delete_db_instance", f"{legacy}-w"),
        ("delete_db_cluster", legacy),
    }
    result = cli("restore-test", "cleanup", "--yes", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert mine(data["result"]) == {old: "deleted", new: "kept (not expired)", legacy: "deleted"}
    assert sorted(copies(rds)) == sorted([new, foreign])
    left = {i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]}
    assert f"{old}-w" not in left and f"{legacy}-w" not in left and f"{new}-w" in left
    # One ledger row for the whole cleanup, with the resource ids and the region.
    (row,) = ledger(tmp_path)
    assert (row["command"], row["kind"], row["region"]) == (
        "restore-test cleanup",
        "aws",
        "us-east-1",
    )
    assert {old, f"{old}-w", legacy, f"{legacy}-w"} <= set(row["resources"])


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
    monkeypatch.setenv(HOOK, "UPDATE usuarios SET nome = 'x' WHERE id = 3")
    result = cli("restore-test", "--format", "json")
    assert result.exit_code == 1, result.stderr
    status = {c["name"]: c["status"] for c in json.loads(result.stdout)["checks"]}
    assert status["checksum: public.usuarios"] == "fail"
    assert nothing_left(rds)


def test_exception_mid_way_still_tears_down(cli, rds, aurora, monkeypatch):
    monkeypatch.setenv(HOOK, "SELECT 1/0")
    result = cli("restore-test")
    assert result.exit_code == 2
    assert "division by zero" in result.stderr
    assert nothing_left(rds)
    assert history(cli) == [("aurora", "error")]


def test_unreachable_restored_cluster_times_out_and_tears_down(cli, rds, aurora, monkeypatch):
    monkeypatch.setenv("AURORACTL_RESTORE_TEST_RESTORED_DSN", "host=127.0.0.1 port=1 dbname=x")
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


def test_backup_without_an_aurora_target_is_a_precondition(cli, dsn):
    result = cli("backup", "list")
    assert result.exit_code == 3
    assert "needs an Aurora target" in result.stderr
