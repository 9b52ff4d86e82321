"""encrypt keygen / --key-secret / rotate --new-key-secret with Secrets Manager on moto."""

from __future__ import annotations

import base64
import json
import uuid

import boto3

NAMES = ("usuarios", "--column", "documento_identidade")  # the demo's, named


def sm(endpoint: str):
    return boto3.client("secretsmanager", endpoint_url=endpoint, region_name="us-east-1")


def test_keygen_creates_a_random_256_bit_key_never_printed(cli, aws_endpoint):
    name = f"auroractl/test/{uuid.uuid4()}"
    refused = cli("encrypt", "keygen", "--secret-name", name)
    assert refused.exit_code == 4  # a change: --yes or a terminal
    preview = cli("encrypt", "keygen", "--secret-name", name, "--dry-run", "--format", "json")
    assert json.loads(preview.stdout)["calls"][0]["request"]["SecretString"] == "(generated)"
    result = cli("encrypt", "keygen", "--secret-name", name, "--yes", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)["result"]
    value = sm(aws_endpoint).get_secret_value(SecretId=data["arn"])["SecretString"]
    assert len(base64.b64decode(value)) == 32
    assert value not in result.stdout + result.stderr
    again = cli("encrypt", "keygen", "--secret-name", name, "--yes")
    assert again.exit_code == 3  # never overwrites a key
    assert sm(aws_endpoint).get_secret_value(SecretId=name)["SecretString"] == value


def test_backfill_and_rotate_with_keys_from_secrets_manager(cli, aws_endpoint, dsn, conn):
    old = json.loads(
        cli(
            "encrypt", "keygen", "--secret-name", f"old-{uuid.uuid4()}", "--yes", "-f", "json"
        ).stdout
    )["result"]["arn"]
    new = json.loads(
        cli(
            "encrypt", "keygen", "--secret-name", f"new-{uuid.uuid4()}", "--yes", "-f", "json"
        ).stdout
    )["result"]["arn"]
    result = cli("encrypt", "backfill", *NAMES, "--key-secret", old, "--yes", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["result"]["encrypted"] == 5000
    key = sm(aws_endpoint).get_secret_value(SecretId=old)["SecretString"]
    new_key = sm(aws_endpoint).get_secret_value(SecretId=new)["SecretString"]
    ok = conn.execute(
        "SELECT count(*) FROM usuarios "
        "WHERE pgp_sym_decrypt(documento_identidade_encrypted, %s) = documento_identidade",
        [key],
    ).fetchone()[0]
    assert ok == 5000
    rot = cli(
        "encrypt",
        "rotate",
        *NAMES,
        "--key-secret",
        old,
        "--new-key-secret",
        new,
        "--yes",
        "--format",
        "json",
    )
    assert rot.exit_code == 0, rot.stderr
    assert json.loads(rot.stdout)["result"]["rotated"] == 5000
    st = cli("encrypt", "status", *NAMES, "--key-secret", new, "--format", "json")
    assert st.exit_code == 0 and json.loads(st.stdout)["both"] == 5000
    assert key not in st.stdout + st.stderr and new_key not in rot.stdout + rot.stderr


def test_missing_secret_is_an_aws_error(cli, aws_endpoint, dsn):
    result = cli("encrypt", "backfill", *NAMES, "--key-secret", "does-not-exist", "--yes")
    assert result.exit_code == 8
    assert "does-not-exist" in result.stderr
