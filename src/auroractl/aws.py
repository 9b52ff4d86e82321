"""boto3 clients, created lazily. Tests point them at a moto server via endpoint_url."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import TYPE_CHECKING, Any

from auroractl.errors import AwsError, InvalidInput, NotFound

if TYPE_CHECKING:
    from auroractl.config import Target
    from auroractl.plan import AwsCall

# Error codes meaning "the thing named does not exist" (a NotFound, exit 2, not exit 8).
NOT_FOUND_CODES = frozenset(
    {
        "DBClusterNotFoundFault",
        "DBClusterSnapshotNotFoundFault",
        "DBInstanceNotFound",
        "DBInstanceNotFoundFault",
        "DBParameterGroupNotFound",
        "DBClusterParameterGroupNotFound",
        "ResourceNotFound",
        "ResourceNotFoundException",
    }
)


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
        if not is_aws_error(exc):
            raise
        raise AwsError(f"cannot read secret {secret_arn}: {_one_line(exc)}") from None
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
        if not is_aws_error(exc):
            raise
        raise AwsError(
            f"cannot generate an IAM auth token for {user}@{host}: {_one_line(exc)}"
        ) from None


def for_target(target: Target, service: str) -> Any:
    """A client in the region / endpoint of the target's profile."""
    p = target.profile
    return client(service, p.region if p else None, p.endpoint_url if p else None)


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError ("" for anything else)."""
    # A read timeout carries ``response = None``.
    return (getattr(exc, "response", None) or {}).get("Error", {}).get("Code", "")


def is_aws_error(exc: BaseException) -> bool:
    """botocore's own errors (API errors, connection and credential failures), not bugs."""
    return type(exc).__module__.startswith(("botocore", "boto3"))


def aws_error(exc: BaseException, what: str) -> Exception:
    """An AWS failure as a one-line auroractl error naming ``what``; other exceptions
    (bugs) are returned unchanged so that they are never relabelled as AWS errors."""
    if not is_aws_error(exc):
        return exc  # type: ignore[return-value]
    if error_code(exc) in NOT_FOUND_CODES:
        return NotFound(f"{what} does not exist")
    return AwsError(f"{what}: {_one_line(exc)}")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def call(client: Any, operation: str, resource: str, what: str = "", **request: Any) -> AwsCall:
    """``AwsCall.of`` whose failure is one line naming ``what`` (bugs stay bugs)."""
    from auroractl.plan import AwsCall

    plain = AwsCall.of(client, operation, resource, **request)

    def invoke() -> Any:
        try:
            return plain.invoke()
        except Exception as exc:
            raise aws_error(exc, what or f"{operation} {resource}") from None

    return dataclasses.replace(plain, invoke=invoke)


def paginate(client: Any, operation: str, key: str, what: str, **request: Any) -> list[Any]:
    """Every page's ``key`` items of a paginated read."""
    out: list[Any] = []
    try:
        for page in client.get_paginator(operation).paginate(**request):
            out += page.get(key, [])
    except Exception as exc:
        raise aws_error(exc, what) from None
    return out


def describe_cluster(rds: Any, cluster_id: str) -> dict[str, Any]:
    """The cluster's ``describe_db_clusters`` entry; NotFound when there is none."""
    try:
        clusters = rds.describe_db_clusters(DBClusterIdentifier=cluster_id)["DBClusters"]
    except Exception as exc:
        raise aws_error(exc, f"DB cluster {cluster_id!r}") from None
    if not clusters:
        raise NotFound(f"DB cluster {cluster_id!r} does not exist")
    return clusters[0]


def cluster_snapshots(rds: Any, cluster_id: str) -> list[dict[str, Any]]:
    return paginate(
        rds,
        "describe_db_cluster_snapshots",
        "DBClusterSnapshots",
        f"snapshots of {cluster_id}",
        DBClusterIdentifier=cluster_id,
    )
