"""boto3 clients, created lazily. Tests point them at a moto server via endpoint_url."""

from __future__ import annotations

import json
import os
from typing import Any

from auroractl.errors import AwsError, InvalidInput


def client(service: str, region: str | None = None, endpoint_url: str | None = None) -> Any:
    """A boto3 client; ``AURORACTL_AWS_ENDPOINT_URL`` overrides the endpoint (moto in tests)."""
    import boto3

    endpoint = endpoint_url or os.environ.get("AURORACTL_AWS_ENDPOINT_URL")
    return boto3.session.Session(region_name=region).client(service, endpoint_url=endpoint)


def secret_credentials(
    secret_arn: str, region: str | None, endpoint_url: str | None = None
) -> tuple[str | None, str]:
    """(username, password) from an RDS-style Secrets Manager secret; never logged."""
    sm = client("secretsmanager", region, endpoint_url)
    try:
        value = sm.get_secret_value(SecretId=secret_arn)["SecretString"]
    except Exception as exc:  # botocore errors carry no secret material
        raise AwsError(f"cannot read secret {secret_arn}: {exc}") from None
    try:
        data = json.loads(value)
    except ValueError:
        return None, value
    if not isinstance(data, dict) or "password" not in data:
        raise InvalidInput(f"secret {secret_arn} has no 'password' field")
    return data.get("username"), data["password"]


def iam_token(
    host: str, port: int, user: str, region: str | None, endpoint_url: str | None = None
) -> str:
    """A 15-minute RDS IAM authentication token, used as the password."""
    rds = client("rds", region, endpoint_url)
    try:
        return rds.generate_db_auth_token(
            DBHostname=host, Port=port, DBUsername=user, Region=region
        )
    except Exception as exc:
        raise AwsError(f"cannot generate an IAM auth token for {user}@{host}: {exc}") from None
