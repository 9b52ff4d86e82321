"""The fix of a cross-tenant foreign key, from hand-made facts (no database)."""

from __future__ import annotations

from auroractl.ops.shared.objects import key_name
from auroractl.ops.shared.tenant_refs import CrossRef, Fix, NewKey, Unique, fix_steps


def ref(**kw) -> CrossRef:
    base = dict(
        constraint="alunos_escola_id_fkey",
        table="public.alunos",
        columns=("escola_id",),
        referenced_table="public.escolas",
        referenced_columns=("id",),
        on_delete="SET NULL",
        on_update="CASCADE",
        referenced_partitioned=False,
        description="",
        tenant_column="empresa_id",
        qualified=("public", "alunos"),
        referenced_qualified=("public", "escolas"),
        partitioned=False,
    )
    return CrossRef(**{**base, **kw})


def test_key_names_fit_in_63_bytes_and_skip_taken_ones():
    long = "t" * 70
    name = key_name(long, ("empresa_id", "x"), "fkey")
    assert len(name.encode()) == 63 and name.endswith("_fkey")
    assert key_name("alunos", ("empresa_id", "id"), "key") == "alunos_empresa_id_id_key"
    taken = {"alunos_empresa_id_id_key"}
    assert key_name("alunos", ("empresa_id", "id"), "key", taken) == "alunos_empresa_id_id_key1"
    assert len(key_name("é" * 40, ("c",), "key").encode()) <= 63  # never half a character


def test_plain_tables_build_online_and_drop_the_old_key_last():
    r = ref()
    fix = Fix(
        r,
        (Unique(("public", "escolas"), "escolas_empresa_id_id_key", r.key, False),),
        (NewKey(("public", "alunos"), "alunos_empresa_id_escola_id_fkey", False, False),),
        None,
        0,
    )
    steps, notes = fix_steps(fix)
    assert [s.autocommit for s in steps] == [True, False, False, False, False]
    assert "CREATE UNIQUE INDEX CONCURRENTLY" in steps[0].sql
    assert "UNIQUE USING INDEX" in steps[1].sql
    assert "NOT VALID" in steps[2].sql and 'ON DELETE SET NULL ("escola_id")' in steps[2].sql
    assert "ON UPDATE CASCADE" in steps[2].sql
    assert "VALIDATE CONSTRAINT" in steps[3].sql and "DROP CONSTRAINT" in steps[4].sql
    assert len({s.txn for s in steps[1:]}) == 4  # each in its own transaction
    assert notes == []


def test_a_partitioned_table_gets_its_key_on_each_leaf_then_the_parent():
    r = ref(partitioned=True, on_delete="NO ACTION", tenant_not_null=False)
    leaves = (
        NewKey(("public", "p1"), "p1_empresa_id_escola_id_fkey", False, False),
        NewKey(("public", "p2"), "p2_empresa_id_escola_id_fkey", True, True),
    )
    steps, notes = fix_steps(Fix(r, (), leaves, "alunos_empresa_id_escola_id_fkey", 0))
    sqls = [s.sql for s in steps]
    assert len(sqls) == 3  # p2's is there, validated
    assert '"p1"' in sqls[0] and "NOT VALID" in sqls[0] and "VALIDATE" in sqls[1]
    assert '"alunos"' in sqls[2] and "NOT VALID" not in sqls[2]
    assert notes and "is kept" in notes[0]  # a nullable tenant column keeps the old key
