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
    assert outdated[0].comment == "function audit.log_change()"
