"""schedule add/remove under --format json against a real pg_cron."""

from __future__ import annotations

import json


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
