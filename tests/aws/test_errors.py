"""One way of reading AWS errors: botocore failures become one-line auroractl errors,
anything else (a bug) surfaces unchanged."""

from __future__ import annotations

import datetime as dt

import boto3
import pytest

from auroractl import aws
from auroractl.errors import AwsError, NotFound
from auroractl.ops import params
from auroractl.ops.shared import cloudwatch

REGION = "us-east-1"


def test_not_found_codes_are_not_found(aws_endpoint):
    rds = boto3.client("rds", endpoint_url=aws_endpoint, region_name=REGION)
    with pytest.raises(NotFound, match="DB cluster 'nope' does not exist"):
        aws.describe_cluster(rds, "nope")
    with pytest.raises(NotFound, match="parameter group 'nope' does not exist"):
        params.cluster_parameters(rds, "nope")


def test_other_aws_failures_are_aws_errors(aws_endpoint):
    rds = boto3.client("rds", endpoint_url=aws_endpoint, region_name=REGION)
    call = aws.call(rds, "delete_db_cluster", "nope", "cluster nope", DBClusterIdentifier=7)
    with pytest.raises(AwsError, match="cluster nope"):  # botocore's parameter validation
        call.invoke()


def test_bugs_are_never_relabelled():
    bug = TypeError("a bug")
    assert aws.aws_error(bug, "cluster x") is bug
    with pytest.raises(AttributeError):
        aws.describe_cluster(object(), "x")
    with pytest.raises(AttributeError):
        params.cluster_parameters(object(), "g")
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(AttributeError):  # was "cannot read CloudWatch metrics"
        cloudwatch.fetch(None, "c", cloudwatch.build_queries("c", []), now, now)
