"""rls enable planned from facts, without a database."""

from __future__ import annotations

import pglast
import pytest

from auroractl.errors import InvalidInput, Precondition
from auroractl.ops import rls

DEMO = rls.RlsConfig(rls.Tenancy("empresa_id", "app.current_empresa_id"))


def table(**kw) -> rls.TenantTable:
    base = dict(
        schema="public",
        name="alunos",
        relkind="r",
        is_partition=False,
        parent=None,
        owner="aurora_admin",
        column_type="integer",
        base_type="integer",
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
    plan = rls.plan_enable_from(facts, DEMO, "rls enable --table alunos")
    sql = plan.sql_text()
    assert "CREATE ROLE" in sql and "GRANT USAGE ON SCHEMA" in sql
    assert "FORCE ROW LEVEL SECURITY" in sql and rls.TENANT_POLICY in sql
    assert plan.summary == "enable + force RLS on public.alunos"
    assert {s.txn for s in plan.steps} == {"role", "public.alunos"}


def test_a_covered_table_is_nothing_to_do_but_notes_a_missing_index():
    cfg = DEMO
    comments = (
        f"{rls.TENANT_POLICY}={rls._comment(cfg, 'integer')}",
        f"{rls.MAINTENANCE_POLICY}={rls._comment(cfg, 'integer', 'aurora_admin')}",
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


def test_a_bypassing_role_is_refused():
    role = rls.AppRole("application_user", False, True, False, True)
    with pytest.raises(Precondition, match="BYPASSRLS"):
        rls.plan_enable_from(rls.EnableFacts((table(),), role, ()), DEMO, "x")


@pytest.mark.parametrize(
    ("base_type", "kind", "fragment"),
    [
        ("integer", "integer", "::bigint END"),
        ("smallint", "integer", "::bigint END"),
        ("bigint", "bigint", "'9223372036854775807'"),
        ("uuid", "uuid", "::uuid END"),
        ("text", "text", "NULLIF(current_setting('app.current_empresa_id', true), '')"),
        ("character varying", "text", "NULLIF("),
    ],
)
def test_each_key_type_gets_its_own_fail_closed_parse(base_type, kind, fragment):
    facts = rls.EnableFacts((table(column_type=base_type, base_type=base_type),), None, ())
    plan = rls.plan_enable_from(facts, DEMO, "x")
    steps = [s.sql for s in plan.steps]
    policy = next(s for s in steps if s.startswith(f'CREATE POLICY "{rls.TENANT_POLICY}"'))
    assert policy.count(fragment) == 2  # USING and WITH CHECK
    comment = next(s for s in steps if s.startswith(f'COMMENT ON POLICY "{rls.TENANT_POLICY}"'))
    assert f"type={kind}" in comment
    assert len(pglast.parse_sql(policy)) == 1


def test_mixed_key_types_get_a_policy_each_and_other_types_are_refused():
    facts = rls.EnableFacts(
        (table(), table(name="pedidos", column_type="uuid", base_type="uuid")), None, ()
    )
    sql = rls.plan_enable_from(facts, DEMO, "x").sql_text()
    assert "::uuid END" in sql and "::bigint END" in sql
    with pytest.raises(Precondition, match=r"^public.alunos.empresa_id is numeric\(10,0\): "):
        bad = table(column_type="numeric(10,0)", base_type="numeric")
        rls.plan_enable_from(rls.EnableFacts((bad,), None, ()), DEMO, "x")
    declared = rls.RlsConfig(rls.Tenancy("empresa_id", "app.current_empresa_id", "uuid"))
    with pytest.raises(Precondition, match="not the declared uuid"):
        rls.plan_enable_from(rls.EnableFacts((table(),), None, ()), declared, "x")


@pytest.mark.parametrize(
    ("kind", "value", "key"),
    [
        ("integer", "42", 42),
        ("integer", "", None),
        ("integer", "1 OR true", None),
        ("integer", "-1", None),
        ("integer", "1234567890123456789", None),
        ("bigint", "9223372036854775807", 9223372036854775807),
        ("bigint", "9223372036854775808", None),
        ("uuid", "0e37df36-f698-11e6-8dd4-cb9ced3df976", "0e37df36-f698-11e6-8dd4-cb9ced3df976"),
        ("uuid", "0E37DF36-F698-11E6-8DD4-CB9CED3DF976", "0e37df36-f698-11e6-8dd4-cb9ced3df976"),
        ("uuid", "0e37df36f69811e68dd4cb9ced3df976", None),
        ("uuid", "garbage", None),
        ("text", "acme", "acme"),
        ("text", "", None),
    ],
)
def test_parse_key_mirrors_the_policy(kind, value, key):
    parsed = rls.parse_key(kind, value)
    assert (str(parsed) if kind == "uuid" and parsed else parsed) == key


def test_rls_section_states_a_tenancy_only_with_its_column():
    got = rls.tenancy_from_section({"column": "tenant_id", "type": "uuid", "root": "t.tenants"})
    assert got == rls.Tenancy("tenant_id", "app.current_tenant_id", "uuid", "t.tenants")
    assert rls.tenancy_from_section({"app_role": "web"}) is None  # the data map's, then
    assert rls.app_role({"app_role": "web"}) == "web" and rls.app_role({}) == "application_user"
    with pytest.raises(InvalidInput, match="type must be one of"):
        rls.tenancy_from_section({"column": "t", "type": "numeric"})
    with pytest.raises(InvalidInput, match="root must be a non-empty string"):
        rls.tenancy_from_section({"column": "t", "root": ""})
    with pytest.raises(InvalidInput, match="setting goes with \\[rls\\] column"):
        rls.tenancy_from_section({"setting": "app.x"})
    with pytest.raises(InvalidInput, match="unknown keys: colum"):
        rls.app_role({"colum": "t"})
