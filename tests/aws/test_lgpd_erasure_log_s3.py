"""The erasure log in S3 (moto as an HTTP server, boto3 through endpoint_url): `lgpd
forget` appends one object per erasure that can never be overwritten, `lgpd reapply`
replays it on a database restored from before the erasure, and an Aurora restore test
re-applies it on its copy. The "restored" databases are fresh copies of the demo, as it
was before the erasure; the subject is the data map's default one."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import boto3
import psycopg
import pytest
from psycopg import sql

from auroractl.ops.lgpd.erasure_log import Entry, open_log
from auroractl.ops.shared import datamap as dm
from auroractl.sandbox import ADMIN_ROLE
from tests.conftest import TEMPLATE_DB, superuser
from tests.integration.conftest import write_map

_ids = itertools.count()


@pytest.fixture
def demo_map(dsn: str):
    """The demo database's data map, proposed from its catalog, usuarios the default subject."""
    return write_map(dsn, "public.usuarios")


@pytest.fixture
def bucket(aws_endpoint) -> str:
    name = f"erasures-{os.getpid()}-{next(_ids)}"
    boto3.client("s3", endpoint_url=aws_endpoint, region_name="us-east-1").create_bucket(
        Bucket=name
    )
    return name


@pytest.fixture
def fresh_demo(cluster):
    """A new copy of the demo as it was before any erasure (what a restore brings back)."""
    made = []

    def make() -> str:
        name = f"s3r{os.getpid()}_{next(_ids)}"
        with superuser(cluster) as c:
            c.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {}").format(
                    sql.Identifier(name), sql.Identifier(TEMPLATE_DB), sql.Identifier(ADMIN_ROLE)
                )
            )
        made.append(name)
        return name

    yield make
    with superuser(cluster) as c:
        for name in made:
            c.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def subject(conninfo: str) -> tuple[str, str, str, str]:
    """The map's default subject: table, key column, an id, and that row's email-class value."""
    m = dm.load(Path(dm.DEFAULT_FILE))
    s = m.default_subject()
    assert s is not None
    col = next(c.column for c in m.columns_of(s.table) if c.cls == "email")
    schema, _, name = s.table.partition(".")
    q = sql.SQL("SELECT {}::text, {}::text FROM {} ORDER BY 1 OFFSET 4 LIMIT 1").format(
        sql.Identifier(s.key[0]), sql.Identifier(col), sql.Identifier(schema, name)
    )
    with psycopg.connect(conninfo) as c:
        sid, value = c.execute(q).fetchone()
    return s.table, s.key[0], sid, value


def value_of(conninfo: str, table: str, key: str, sid: str, column: str) -> str | None:
    schema, _, name = table.partition(".")
    q = sql.SQL("SELECT {}::text FROM {} WHERE {}::text = %s").format(
        sql.Identifier(column), sql.Identifier(schema, name), sql.Identifier(key)
    )
    with psycopg.connect(conninfo) as c:
        return c.execute(q, [sid]).fetchone()[0]


def objects(aws_endpoint: str, bucket: str) -> dict[str, bytes]:
    s3 = boto3.client("s3", endpoint_url=aws_endpoint, region_name="us-east-1")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}


def test_forget_appends_to_s3_and_reapply_replays_it(
    cli, cluster, dsn, demo_map, bucket, aws_endpoint, fresh_demo, tmp_path, monkeypatch
):
    uri = f"s3://{bucket}/prod/escola"
    (tmp_path / "auroractl.toml").write_text(f'[lgpd]\nerasure_log = "{uri}"\n')
    table, key, sid, email = subject(dsn)
    email_col = next(c.column for c in dm.load(demo_map).columns_of(table) if c.cls == "email")
    done = cli("lgpd", "forget", sid, "--yes", "--format", "json")
    assert done.exit_code == 0, done.stderr
    receipt = json.loads(done.stdout)["result"]["receipts"][0]["request_id"]
    stored = objects(aws_endpoint, bucket)
    assert set(stored) == {"prod/escola/salt", f"prod/escola/erasures/{receipt}.json"}
    entry = json.loads(stored[f"prod/escola/erasures/{receipt}.json"])
    assert (entry["subject_table"], entry["subject_id"]) == (table, sid)
    assert email_col in entry["identifiers"] and email.encode() not in b"".join(stored.values())
    # append-only: S3 refuses to replace the object (If-None-Match: *)
    log = open_log(uri)
    assert log.append(Entry(table, sid, receipt, "2000-01-01T00:00:00+00:00")) is False
    assert objects(aws_endpoint, bucket) == stored

    restored = cluster.conninfo(fresh_demo())
    monkeypatch.setenv("AURORACTL_DSN", restored)
    assert value_of(restored, table, key, sid, email_col) == email  # back with the restore
    applied = cli("lgpd", "reapply", "--yes", "--format", "json")
    assert applied.exit_code == 0, applied.stderr
    assert json.loads(applied.stdout)["result"]["reapplied"] == 1
    assert value_of(restored, table, key, sid, email_col) == value_of(
        dsn, table, key, sid, email_col
    )  # erased as the source erased it
    again = cli("lgpd", "reapply", "--yes", "--format", "json")
    assert json.loads(again.stdout)["status"] == "nothing-to-do", again.stderr


def test_an_unreachable_bucket_stops_forget_before_anything_is_erased(
    cli, dsn, demo_map, aws_endpoint, tmp_path
):
    (tmp_path / "auroractl.toml").write_text('[lgpd]\nerasure_log = "s3://no-such-bucket-x/p"\n')
    table, key, sid, email = subject(dsn)
    email_col = next(c.column for c in dm.load(demo_map).columns_of(table) if c.cls == "email")
    dry = cli("lgpd", "forget", sid, "--dry-run")
    assert dry.exit_code == 8 and "erasure log s3://no-such-bucket-x/p" in dry.stderr, dry.stderr
    result = cli("lgpd", "forget", sid, "--yes")
    assert result.exit_code == 8, result.stderr
    assert value_of(dsn, table, key, sid, email_col) == email


def test_an_aurora_restore_test_reapplies_the_log_on_its_copy(
    cli, cluster, dbname, bucket, aws_endpoint, fresh_demo, tmp_path, monkeypatch
):
    """The copy (restored_dsn: the demo as before the erasure) gets the erasure back off;
    counts and checksums are not compared here (the source has the erasure)."""
    source_id = f"lg{os.getpid()}x{next(_ids)}"
    rds = boto3.client("rds", endpoint_url=aws_endpoint, region_name="us-east-1")
    rds.create_db_cluster(
        DBClusterIdentifier=source_id, Engine="aurora-postgresql", EngineVersion="15.4",
        MasterUsername="aurora_admin", MasterUserPassword="not-used-here",
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 8},
    )  # fmt: skip
    rds.create_db_cluster_snapshot(
        DBClusterSnapshotIdentifier=f"{source_id}-snap", DBClusterIdentifier=source_id
    )
    source, copy = cluster.conninfo(dbname), cluster.conninfo(fresh_demo())
    config = tmp_path / "auroractl.toml"
    config.write_text(
        f"""
[auroractl]
default_profile = "aws"

[profiles.aws]
dsn = "{source}"
cluster_id = "{source_id}"
region = "us-east-1"

[restore_test]
waiter_delay = 1
restored_dsn = "{copy}"
critical_tables = []
exact_tables = []

[lgpd]
erasure_log = "s3://{bucket}/aurora"
"""
    )
    monkeypatch.setenv("AURORACTL_CONFIG", str(config))
    monkeypatch.setenv("AURORACTL_LEDGER_FILE", str(tmp_path / "operations.jsonl"))
    write_map(source, "public.usuarios")
    table, key, sid, email = subject(source)
    email_col = next(
        c.column for c in dm.load(Path(dm.DEFAULT_FILE)).columns_of(table) if c.cls == "email"
    )
    assert cli("lgpd", "forget", sid, "--yes").exit_code == 0

    result = cli("restore-test", "--format", "json")
    assert result.exit_code == 0, result.stderr + result.stdout
    report = json.loads(result.stdout)
    assert report["backend"] == "aurora" and report["erasures_reapplied"] == 1
    checks = {c["name"]: c["status"] for c in report["checks"]}
    assert (
        checks["lgpd: erasures re-applied"] == checks["lgpd: no erased subject present"] == "pass"
    )
    assert value_of(copy, table, key, sid, email_col) != email
