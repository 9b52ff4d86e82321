"""auroractl backup on Aurora (moto): every change is an AwsAction through the runner."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest

from tests.aws.conftest import ledger_rows

REGION = "us-east-1"


@pytest.fixture
def rds(aws_endpoint, tmp_path):
    """A moto cluster and a profile naming it (no database is ever contacted)."""
    client = boto3.client("rds", endpoint_url=aws_endpoint, region_name=REGION)
    cid = f"bk-{uuid.uuid4().hex[:8]}"
    client.create_db_cluster(
        DBClusterIdentifier=cid,
        Engine="aurora-postgresql",
        MasterUsername="aurora_admin",
        MasterUserPassword="not-used-here-1",
    )
    (tmp_path / "auroractl.toml").write_text(
        "[auroractl]\ndefault_profile = 'aurora'\n"
        "[profiles.aurora]\nhost = 'db.invalid'\ndbname = 'escola'\n"
        f"cluster_id = '{cid}'\nregion = '{REGION}'\n[backup]\nwaiter_delay = 1\n"
    )
    client.source_id = cid
    return client


def cluster(rds):
    return rds.describe_db_clusters(DBClusterIdentifier=rds.source_id)["DBClusters"][0]


def snapshot_ids(rds):
    """The manual snapshots of the cluster (moto also makes an automated one)."""
    found = rds.describe_db_cluster_snapshots(
        DBClusterIdentifier=rds.source_id, SnapshotType="manual"
    )
    return {s["DBClusterSnapshotIdentifier"] for s in found["DBClusterSnapshots"]}


def test_policy_apply_dry_run_refusal_apply_and_nothing_to_do(cli, rds, ledger_file):
    before = cluster(rds)["BackupRetentionPeriod"]
    for bad in ("0", "36"):
        result = cli("backup", "policy", "apply", "--retention", bad, "--yes")
        assert result.exit_code == 2 and "outside 1-35 days" in result.stderr
    assert cli("backup", "policy", "apply", "--retention", "30", "--window", "3am").exit_code == 2
    args = ("backup", "policy", "apply", "--retention", "30", "--window", "03:00-04:00")
    dry = cli(*args, "--dry-run", "--format", "json")
    assert dry.exit_code == 0, dry.stderr
    (call,) = json.loads(dry.stdout)["calls"]
    assert call["operation"] == "modify_db_cluster"
    assert call["request"]["BackupRetentionPeriod"] == 30
    assert cli(*args).exit_code == 4  # no TTY, no --yes
    assert cluster(rds)["BackupRetentionPeriod"] == before
    assert not ledger_file.exists()

    ok = cli(*args, "--yes", "--format", "json")
    assert ok.exit_code == 0, ok.stderr
    out = json.loads(ok.stdout)
    assert out["status"] == "applied" and out["result"]["before"]["retention_days"] == before
    c = cluster(rds)
    assert (c["BackupRetentionPeriod"], c["PreferredBackupWindow"]) == (30, "03:00-04:00")
    (row,) = ledger_rows(ledger_file)
    assert (row["command"], row["kind"]) == ("backup policy apply", "aws")
    assert (row["resources"], row["region"]) == ([rds.source_id], REGION)

    again = cli(*args)  # nothing to do: no confirmation needed
    assert again.exit_code == 0 and "nothing to do" in again.stderr
    assert json.loads(cli(*args, "--format", "json").stdout)["status"] == "nothing-to-do"
    assert len(ledger_rows(ledger_file)) == 1
    shown = cli("backup", "policy", "show", "--format", "json")
    assert json.loads(shown.stdout)["retention_days"] == 30


def test_snapshot_is_a_confirmed_change(cli, rds, ledger_file):
    dry = cli("backup", "snapshot", "--tag", "reason=test", "--dry-run", "--format", "json")
    assert dry.exit_code == 0, dry.stderr
    (call,) = json.loads(dry.stdout)["calls"]
    assert call["operation"] == "create_db_cluster_snapshot"
    assert {"Key": "reason", "Value": "test"} in call["request"]["Tags"]
    assert cli("backup", "snapshot").exit_code == 4
    assert snapshot_ids(rds) == set()
    assert cli("backup", "snapshot", "--tag", "novalue", "--yes").exit_code == 2

    made = cli("backup", "snapshot", "--tag", "reason=test", "--yes", "--format", "json")
    assert made.exit_code == 0, made.stderr
    out = json.loads(made.stdout)
    snap = out["result"]
    assert snap["id"].startswith(f"auroractl-{rds.source_id}-")
    assert snap["status"] == "available" and snap["made_by_auroractl"] is True
    (row,) = ledger_rows(ledger_file)
    assert (row["command"], row["resources"], row["region"]) == (
        "backup snapshot",
        [snap["id"]],
        REGION,
    )


def test_list_and_prune_only_auroractl_snapshots(cli, rds, ledger_file):
    rds.create_db_cluster_snapshot(
        DBClusterSnapshotIdentifier=f"hand-{rds.source_id}", DBClusterIdentifier=rds.source_id
    )
    made = json.loads(cli("backup", "snapshot", "--yes", "--format", "json").stdout)["result"]
    listing = json.loads(cli("backup", "list", "--format", "json").stdout)
    types = {s["id"]: s["type"] for s in listing["snapshots"]}
    assert types[made["id"]] == "manual" and types[f"hand-{rds.source_id}"] == "manual"

    assert cli("backup", "prune", "--keep-days", "0").exit_code == 4  # no --yes, no TTY
    dry = cli("backup", "prune", "--keep-days", "0", "--dry-run", "--format", "json")
    assert [c["resource"] for c in json.loads(dry.stdout)["calls"]] == [made["id"]]
    assert made["id"] in snapshot_ids(rds)
    kept = cli("backup", "prune", "--keep-days", "1", "--yes", "--format", "json")
    assert kept.exit_code == 0 and json.loads(kept.stdout)["status"] == "nothing-to-do"

    pruned = cli("backup", "prune", "--keep-days", "0", "--yes", "--format", "json")
    assert pruned.exit_code == 0, pruned.stderr
    assert [p["id"] for p in json.loads(pruned.stdout)["result"]] == [made["id"]]
    assert snapshot_ids(rds) == {f"hand-{rds.source_id}"}
    rows = ledger_rows(ledger_file)
    assert [r["command"] for r in rows] == ["backup snapshot", "backup prune"]
    assert rows[1]["resources"] == [made["id"]]

    history = cli("history", "--local", "--format", "json")
    assert history.exit_code == 0, history.stderr
    assert [r["command"] for r in json.loads(history.stdout)] == ["backup prune", "backup snapshot"]
    only = json.loads(cli("history", "--local", "--command", "backup s", "--format", "json").stdout)
    assert [r["id"] for r in only] == ["local#1"]
    table = cli("history", "--local")
    assert table.exit_code == 0 and "backup prune" in table.stdout


def test_history_local_without_a_ledger_file_is_empty(cli, ledger_file):
    result = cli("history", "--local", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout) == []
    assert cli("history", "--local", "--limit", "0").exit_code == 2
