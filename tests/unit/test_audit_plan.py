"""audit setup planned from facts, without a database."""

from __future__ import annotations

import datetime as dt

from auroractl.ops import audit


def test_a_fresh_database_gets_log_hstore_function_and_two_months_in_one_transaction():
    facts = audit.LogFacts(False, None, None, dt.date(2026, 12, 15))
    steps = audit.setup_steps(facts) + list(audit.first_months(facts.today).steps)
    sql = "\n".join(s.sql for s in steps)
    assert sql.count("CREATE SCHEMA IF NOT EXISTS") == 1
    assert "CREATE EXTENSION IF NOT EXISTS hstore" in sql
    assert '"audit"."audit_log_2026_12"' in sql and '"audit"."audit_log_2027_01"' in sql
    assert {s.txn for s in steps} == {"setup"}


def test_an_installed_log_with_the_current_function_needs_nothing():
    fresh = audit.setup_steps(audit.LogFacts(False, None, "public", dt.date(2026, 1, 1)))
    tag = next(s.sql for s in fresh if s.sql.startswith("COMMENT ON FUNCTION")).split("'")[1]
    assert audit.setup_steps(audit.LogFacts(True, tag, "public", dt.date(2026, 1, 1))) == []
    outdated = audit.setup_steps(audit.LogFacts(True, "auroractl audit v1", "public", None))
    assert "function audit.log_change()" in [s.comment for s in outdated]
    assert not any("row_pks" in s.sql for s in outdated if "ADD COLUMN" in s.sql)


def test_a_log_from_before_grouped_entries_gets_its_keys_column_and_an_online_index():
    fresh = audit.setup_steps(audit.LogFacts(False, None, "public", dt.date(2026, 1, 1)))
    tag = next(s.sql for s in fresh if s.sql.startswith("COMMENT ON FUNCTION")).split("'")[1]
    parts = (("audit_log_2026_12", None), ("audit_log_default", "invalid"))
    steps = audit.setup_steps(
        audit.LogFacts(True, tag, "public", dt.date(2026, 12, 1), False, None, parts)
    )
    sql = [s.sql for s in steps]
    assert sql[0] == 'ALTER TABLE "audit"."audit_log" ADD COLUMN IF NOT EXISTS row_pks text[]'
    assert steps[0].txn == "setup" and not steps[0].autocommit
    online = [s for s in steps if "CONCURRENTLY" in s.sql]
    assert [s.sql.split()[0] for s in online] == ["CREATE", "DROP", "CREATE"]
    assert all(s.autocommit for s in online)
    assert 'ON ONLY "audit"."audit_log" USING gin (row_pks)' in sql[-3]
    assert sql[-2:] == [
        'ALTER INDEX "audit"."audit_log_rows_idx" ATTACH PARTITION '
        '"audit"."audit_log_2026_12_row_pks_idx"',
        'ALTER INDEX "audit"."audit_log_rows_idx" ATTACH PARTITION '
        '"audit"."audit_log_default_row_pks_idx"',
    ]
    # once built, nothing more
    done = (("audit_log_2026_12", "valid"), ("audit_log_default", "valid"))
    facts = audit.LogFacts(True, tag, "public", dt.date(2026, 12, 1), True, True, done)
    assert audit.setup_steps(facts) == []
