"""auroractl params on Aurora: the DB cluster parameter group in moto."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest

from auroractl.errors import Precondition
from auroractl.ops import params as ops

REGION = "us-east-1"


def rds_client(endpoint):
    return boto3.client("rds", endpoint_url=endpoint, region_name=REGION)


def make_cluster(endpoint, *, group: str | None, seed: list[dict] | None = None):
    """A cluster with one writer and one reader; ``group`` is created and seeded first
    (moto returns only parameters that were set, so the test seeds what AWS would show)."""
    rds = rds_client(endpoint)
    cid = f"pc-{uuid.uuid4().hex[:8]}"
    kwargs = {}
    if group:
        rds.create_db_cluster_parameter_group(
            DBClusterParameterGroupName=group,
            DBParameterGroupFamily="aurora-postgresql15",
            Description="test",
        )
        if seed:
            rds.modify_db_cluster_parameter_group(
                DBClusterParameterGroupName=group, Parameters=seed
            )
        kwargs["DBClusterParameterGroupName"] = group
    rds.create_db_cluster(
        DBClusterIdentifier=cid,
        Engine="aurora-postgresql",
        MasterUsername="aurora_admin",
        MasterUserPassword="not-used-here-1",
        **kwargs,
    )
    for name in (f"{cid}-w", f"{cid}-r"):
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            DBClusterIdentifier=cid,
            Engine="aurora-postgresql",
            DBInstanceClass="db.serverless",
        )
    return cid


def seeded(**values):
    """Parameters as AWS describes them: value, ApplyType, Source."""
    types = {"log_min_duration_statement": "dynamic"}
    return [
        {
            "ParameterName": k,
            "ParameterValue": v,
            "ApplyType": types.get(k, "static"),
            "ApplyMethod": "pending-reboot",
        }
        for k, v in values.items()
    ]


def write_config(tmp_path, cluster_id, extra=""):
    (tmp_path / "auroractl.toml").write_text(
        "[auroractl]\ndefault_profile = 'aurora'\n"
        "[profiles.aurora]\nhost = 'db.invalid'\ndbname = 'escola'\n"
        f"cluster_id = '{cluster_id}'\nregion = '{REGION}'\n{extra}"
    )


def params_of(endpoint, group):
    pages = rds_client(endpoint).describe_db_cluster_parameters(DBClusterParameterGroupName=group)
    return {p["ParameterName"]: p for p in pages["Parameters"]}


@pytest.fixture
def aurora(aws_endpoint, tmp_path):
    group = f"g-{uuid.uuid4().hex[:8]}"
    cid = make_cluster(
        aws_endpoint,
        group=group,
        seed=seeded(
            shared_preload_libraries="pg_stat_statements,pg_cron",
            track_activity_query_size="1024",
            log_min_duration_statement="-1",
        ),
    )
    write_config(tmp_path, cid)
    return cid, group


def test_show_reads_the_cluster_parameter_group(cli, aurora):
    cid, group = aurora
    result = cli("params", "show", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["where"], data["target"], data["parameter_group"]) == ("aurora", cid, group)
    by_name = {p["name"]: p for p in data["params"]}
    assert by_name["shared_preload_libraries"]["in_sync"] is True  # includes pg_stat_statements
    assert by_name["track_activity_query_size"]["actual"] == "1024"
    assert by_name["track_activity_query_size"]["apply_type"] == "static"
    assert by_name["log_min_duration_statement"]["apply_type"] == "dynamic"
    assert not by_name["log_min_duration_statement"]["in_sync"]
    diff = cli("params", "diff", "--format", "json")
    assert diff.exit_code == 1
    assert {p["name"] for p in json.loads(diff.stdout)["params"]} == {
        "track_activity_query_size",
        "log_min_duration_statement",
    }


def test_apply_modifies_the_group_with_the_right_apply_methods(cli, aws_endpoint, aurora):
    cid, group = aurora
    dry = cli("params", "apply", "--dry-run")
    assert dry.exit_code == 0 and "track_activity_query_size" in dry.stdout
    assert params_of(aws_endpoint, group)["track_activity_query_size"]["ParameterValue"] == "1024"

    refused = cli("params", "apply")
    assert refused.exit_code == 4

    result = cli("params", "apply", "--yes", "--format", "json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["status"] == "applied" and out["statements"] == 1  # one call
    assert (out["kind"], out["resources"], out["region"]) == ("aws", [group], REGION)
    assert out["result"]["reboot_needed"] is True
    assert out["result"]["instances_to_reboot"] == [f"{cid}-w", f"{cid}-r"]
    after = params_of(aws_endpoint, group)
    assert after["track_activity_query_size"]["ParameterValue"] == "4096"
    assert after["track_activity_query_size"]["ApplyMethod"] == "pending-reboot"
    assert after["log_min_duration_statement"]["ParameterValue"] == "1000"
    assert after["log_min_duration_statement"]["ApplyMethod"] == "immediate"
    # pg_cron stays preloaded: nothing was written for shared_preload_libraries.
    assert after["shared_preload_libraries"]["ParameterValue"] == "pg_stat_statements,pg_cron"

    again = cli("params", "apply", "--yes", "--format", "json")
    assert again.exit_code == 0 and json.loads(again.stdout)["status"] == "nothing-to-do"


def test_text_output_names_the_instances_to_reboot(cli, aurora):
    cid, _ = aurora
    result = cli("params", "apply", "--yes")
    assert result.exit_code == 0, result.stderr
    assert f"{cid}-w" in result.stderr and "reboot" in result.stderr


def test_missing_library_is_appended_not_replaced(cli, aws_endpoint, tmp_path):
    group = f"g-{uuid.uuid4().hex[:8]}"
    cid = make_cluster(
        aws_endpoint,
        group=group,
        seed=seeded(shared_preload_libraries="pg_cron", track_activity_query_size="4096"),
    )
    write_config(tmp_path, cid, "[params]\nlog_min_duration_statement = 1000\n")
    result = cli("params", "apply", "--yes")
    assert result.exit_code == 0, result.stderr
    after = params_of(aws_endpoint, group)
    assert after["shared_preload_libraries"]["ParameterValue"] == "pg_cron,pg_stat_statements"


def test_default_group_is_refused_with_how_to_create_one(cli, aws_endpoint, tmp_path):
    cid = make_cluster(aws_endpoint, group=None)
    write_config(tmp_path, cid)
    result = cli("params", "apply", "--yes")
    assert result.exit_code == 3
    assert "default parameter group" in result.stderr
    assert "create-db-cluster-parameter-group" in result.stderr
    assert f"--db-cluster-identifier {cid}" in result.stderr


def test_more_than_20_changes_are_batched(aws_endpoint, ledger_file):
    from auroractl import runner
    from tests.aws.conftest import ledger_rows

    group = f"g-{uuid.uuid4().hex[:8]}"
    cid = make_cluster(aws_endpoint, group=group, seed=seeded(track_activity_query_size="4096"))
    want = ops.desired({f"auroractl_test_{i}": str(i) for i in range(25)})
    calls: list[str] = []
    rds = rds_client(aws_endpoint)
    rds.meta.events.register("before-call", lambda model, **_: calls.append(model.name))
    report = ops.aurora_status(rds, cid, want)
    action, result = ops.aurora_plan(rds, report)
    assert [len(c.request["Parameters"]) for c in action.calls] == [20, 7]
    assert "ModifyDBClusterParameterGroup" not in calls  # planning only reads
    outcome = runner.apply(None, action, runner.Options(yes=True))
    assert calls.count("ModifyDBClusterParameterGroup") == 2 == outcome.statements
    after = params_of(aws_endpoint, group)
    # Unknown apply type (moto gives none; a parameter never set): pending-reboot is safe.
    assert after["auroractl_test_24"]["ParameterValue"] == "24"
    assert after["auroractl_test_24"]["ApplyMethod"] == "pending-reboot"
    assert len(result.changes) == 27  # 25 + log_min_duration_statement + the libraries
    (row,) = ledger_rows(ledger_file)
    assert row["resources"] == [group] and row["statements"] == 2


def test_default_group_check_is_in_the_ops_layer():
    with pytest.raises(Precondition):
        ops.check_modifiable_group("default.aurora-postgresql15", "prod")
    ops.check_modifiable_group("prod-params", "prod")


def test_dry_run_is_one_json_document_and_changes_nothing(cli, aws_endpoint, aurora, ledger_file):
    cid, group = aurora
    dry = cli("params", "apply", "--dry-run", "--format", "json")
    assert dry.exit_code == 0, dry.stderr
    doc = json.loads(dry.stdout)  # exactly one document
    assert doc["status"] == "dry-run" and doc["region"] == REGION
    (call,) = doc["calls"]
    assert call["operation"] == "modify_db_cluster_parameter_group"
    names = {p["ParameterName"]: p["ApplyMethod"] for p in call["request"]["Parameters"]}
    assert names == {
        "track_activity_query_size": "pending-reboot",
        "log_min_duration_statement": "immediate",
    }
    assert any(f"{cid}-w" in n for n in doc["notes"])  # the instances to reboot
    assert params_of(aws_endpoint, group)["track_activity_query_size"]["ParameterValue"] == "1024"
    assert not ledger_file.exists()


def test_refusal_changes_nothing_and_applied_writes_one_local_ledger_row(
    cli, aws_endpoint, aurora, ledger_file
):
    from tests.aws.conftest import ledger_rows

    _, group = aurora
    refused = cli("params", "apply")
    assert refused.exit_code == 4 and "--yes" in refused.stderr
    assert params_of(aws_endpoint, group)["track_activity_query_size"]["ParameterValue"] == "1024"
    assert not ledger_file.exists()
    assert cli("params", "apply", "--yes").exit_code == 0
    (row,) = ledger_rows(ledger_file)
    assert (row["command"], row["kind"], row["outcome"]) == ("params apply", "aws", "applied")
    assert (row["resources"], row["region"]) == ([group], REGION)
    assert "not-used-here-1" not in ledger_file.read_text()
