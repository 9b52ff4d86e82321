"""rls enable planned from facts, without a database."""

from __future__ import annotations

import pytest

from auroractl.errors import Precondition
from auroractl.ops import rls


def table(**kw) -> rls.TenantTable:
    base = dict(
        schema="public",
        name="alunos",
        relkind="r",
        is_partition=False,
        parent=None,
        owner="aurora_admin",
        column_type="integer",
        rls_enabled=False,
        rls_forced=False,
        policies=(),
        policy_comments=(),
        has_tenant_index=True,
        app_role_has_access=False,
    )
    return rls.TenantTable(**{**base, **kw})


def test_a_fresh_table_gets_role_grants_policies_enable_and_force():
    facts = rls.EnableFacts((table(),), None, ("public",))
    plan = rls.plan_enable_from(facts, rls.RlsConfig(), "rls enable --table alunos")
    sql = plan.sql_text()
    assert "CREATE ROLE" in sql and "GRANT USAGE ON SCHEMA" in sql
    assert "FORCE ROW LEVEL SECURITY" in sql and rls.TENANT_POLICY in sql
    assert plan.summary == "enable + force RLS on public.alunos"
    assert {s.txn for s in plan.steps} == {"role", "public.alunos"}


def test_a_covered_table_is_nothing_to_do_but_notes_a_missing_index():
    cfg = rls.RlsConfig()
    comments = (
        f"{rls.TENANT_POLICY}={rls._comment(cfg)}",
        f"{rls.MAINTENANCE_POLICY}={rls._comment(cfg, 'aurora_admin')}",
    )
    done = table(
        rls_enabled=True,
        rls_forced=True,
        policy_comments=comments,
        app_role_has_access=True,
        has_tenant_index=False,
    )
    role = rls.AppRole("application_user", False, False, False, True)
    plan = rls.plan_enable_from(rls.EnableFacts((done,), role, ()), cfg, "rls enable --all")
    assert plan.empty and "nothing to do" in plan.summary
    assert plan.notes and "no index on public.alunos" in plan.notes[0]


def test_a_bypassing_role_or_a_text_tenant_key_is_refused():
    role = rls.AppRole("application_user", False, True, False, True)
    with pytest.raises(Precondition, match="BYPASSRLS"):
        rls.plan_enable_from(rls.EnableFacts((table(),), role, ()), rls.RlsConfig(), "x")
    with pytest.raises(Precondition, match="integer"):
        facts = rls.EnableFacts((table(column_type="text"),), None, ())
        rls.plan_enable_from(facts, rls.RlsConfig(), "x")
