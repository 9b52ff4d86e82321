"""Profiles that take their password from Secrets Manager or an RDS IAM token."""

from __future__ import annotations

import json
import secrets

import boto3
import pytest
from psycopg import sql

from auroractl import aws, config, db
from tests.conftest import superuser


@pytest.fixture
def secret_role(cluster, dbname):
    password = secrets.token_urlsafe(16)
    with superuser(cluster) as conn:
        conn.execute("DROP ROLE IF EXISTS secret_user")
        conn.execute(
            sql.SQL("CREATE ROLE secret_user LOGIN PASSWORD {}").format(sql.Literal(password))
        )
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO secret_user").format(sql.Identifier(dbname))
        )
    yield password
    with superuser(cluster) as conn:
        conn.execute(
            sql.SQL("REVOKE CONNECT ON DATABASE {} FROM secret_user").format(sql.Identifier(dbname))
        )
        conn.execute("DROP ROLE secret_user")


def write_profile(tmp_path, **fields):
    body = "\n".join(f"{k} = {json.dumps(v)}" for k, v in fields.items())
    (tmp_path / "auroractl.toml").write_text(f"[profiles.aurora]\n{body}\n")


def test_secrets_manager_password_connects(
    tmp_path, cluster, dbname, secret_role, aws_endpoint, cli
):
    sm = boto3.client("secretsmanager", endpoint_url=aws_endpoint, region_name="us-east-1")
    arn = sm.create_secret(
        Name=f"db-{dbname}",
        SecretString=json.dumps({"username": "secret_user", "password": secret_role}),
    )["ARN"]
    write_profile(
        tmp_path,
        host="127.0.0.1",
        port=cluster.port,
        dbname=dbname,
        region="us-east-1",
        secret_arn=arn,
        cluster_id="prod",
    )
    s = config.load()
    target = config.resolve_target(s, profile="aurora")
    with db.connect(target, s) as conn:  # scram auth: works only with the real password
        assert conn.execute("SELECT current_user").fetchone()[0] == "secret_user"
    shown = cli("--profile", "aurora", "config", "show", "--format", "json")
    assert shown.exit_code == 0
    assert secret_role not in shown.stdout and secret_role not in shown.stderr
    assert json.loads(shown.stdout)["conn.password"] == f"(Secrets Manager {arn})"


def test_wrong_password_error_does_not_leak_it(
    tmp_path, cluster, dbname, secret_role, aws_endpoint, cli
):
    sm = boto3.client("secretsmanager", endpoint_url=aws_endpoint, region_name="us-east-1")
    arn = sm.create_secret(
        Name=f"bad-{dbname}",
        SecretString=json.dumps({"username": "secret_user", "password": "not-the-password"}),
    )["ARN"]
    write_profile(
        tmp_path,
        host="127.0.0.1",
        port=cluster.port,
        dbname=dbname,
        region="us-east-1",
        secret_arn=arn,
    )
    result = cli("--profile", "aurora", "partition", "status", "contratos")
    assert result.exit_code == 5
    assert "password authentication failed" in result.stderr
    assert "not-the-password" not in result.stderr


def test_missing_secret_is_an_aws_error(tmp_path, cluster, dbname, aws_endpoint, cli):
    write_profile(
        tmp_path,
        host="127.0.0.1",
        port=cluster.port,
        dbname=dbname,
        region="us-east-1",
        secret_arn="arn:aws:secretsmanager:us-east-1:1:secret:no",
    )
    result = cli("--profile", "aurora", "partition", "status", "contratos")
    assert result.exit_code == 8 and "cannot read secret" in result.stderr


def test_iam_token_is_generated_by_boto3(aws_endpoint):
    token = aws.iam_token("db.cluster.example", 5432, "dba", "us-east-1")
    assert token.startswith("db.cluster.example:5432/?Action=connect&DBUser=dba")
    assert "X-Amz-Signature=" in token
