"""schedule add/remove under --format json against a real pg_cron."""

from __future__ import annotations

import json

import pytest

from auroractl.ops import sandbox as sandbox_ops
from tests.conftest import superuser


@pytest.fixture
def cron(cluster, dsn):
    """pg_cron's own database, as on Aurora's `postgres`."""
    with superuser(cluster) as su:
        name = su.execute("SELECT current_setting('cron.database_name', true)").fetchone()[0]
    if not name:
        pytest.skip("pg_cron is not installed (Debian package postgresql-15-cron)")
    sandbox_ops.bootstrap(cluster, name)
    with superuser(cluster, name) as su:
        su.execute("DELETE FROM cron.job")
        yield su


def test_add_and_remove_print_one_json_document(cli, dsn, cron):
    args = ("schedule", "add", "nightly-analyze", "--cron", "0 3 * * *", "--sql", "ANALYZE")
    dry = cli(*args, "--dry-run", "--format", "json")
    assert dry.exit_code == 0, dry.stderr
    assert json.loads(dry.stdout)["status"] == "dry-run"
    added = cli(*args, "--yes", "--format", "json")
    assert added.exit_code == 0, added.stderr
    outcome = json.loads(added.stdout)
    assert outcome["status"] == "applied" and "UTC" in outcome["summary"]
    assert cron.execute("SELECT count(*) FROM cron.job").fetchone()[0] == 1
    removed = cli("schedule", "remove", "nightly-analyze", "--yes", "--format", "json")
    assert removed.exit_code == 0, removed.stderr
    assert json.loads(removed.stdout)["status"] == "applied"
    assert cron.execute("SELECT count(*) FROM cron.job").fetchone()[0] == 0
    missing = cli("schedule", "remove", "nightly-analyze", "--yes", "--format", "json")
    assert missing.exit_code == 2
