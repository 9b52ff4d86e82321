"""partition migrate prep planned from hand-made catalog facts: no database."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from auroractl.errors import InvalidInput, Precondition
from auroractl.ops.partition_migrate import PrepArgs, plan_prep
from auroractl.ops.partition_migrate import references as refs
from auroractl.ops.partition_migrate.catalog import (
    Column,
    IncomingFk,
    KeyData,
    Migration,
    Policy,
    PrepFacts,
    Publication,
    Source,
    Trigger,
    View,
)
from auroractl.ops.partition_migrate.prep import partitions
from auroractl.ops.shared import shape
from auroractl.ops.shared.session import MAINTENANCE_POLICY

TODAY = dt.date(2026, 3, 15)
YEAR = PrepArgs("year", "data_inicio")
TENANT = PrepArgs("tenant", "empresa_id")
COLUMNS = (
    Column("id", "bigint", True, False, False),
    Column("data_inicio", "date", True, False, False),
    Column("empresa_id", "integer", True, False, False),
    Column("numero", "text", False, False, False),
)


def source(**kw) -> Source:
    base = dict(
        oid=1,
        schema="public",
        name="contratos",
        relkind="r",
        rls_enabled=False,
        rls_forced=False,
        owner="app",
        pk=("id",),
        comment=None,
        columns=COLUMNS,
    )
    return Source(**{**base, **kw})


def facts(**kw) -> PrepFacts:
    base = dict(
        source=source(),
        shape=shape.Shape(
            indexes=(
                shape.Index(
                    "contratos_pkey",
                    "contratos_pkey",
                    "PRIMARY KEY (id)",
                    True,
                    True,
                    ("id",),
                    "USING btree (id)",
                ),
                shape.Index(
                    "contratos_numero_key",
                    "contratos_numero_key",
                    "UNIQUE (numero)",
                    True,
                    False,
                    ("numero",),
                    "USING btree (numero)",
                    "one per contract",
                ),
            ),
            foreign_keys=(
                shape.ForeignKey(
                    "contratos_empresa_fk", "FOREIGN KEY (empresa_id) REFERENCES empresas(id)"
                ),
            ),
        ),
        data=KeyData(dt.date(2024, 5, 1), dt.date(2026, 1, 10), 0, TODAY, ()),
    )
    return PrepFacts(**{**base, **kw})


def sql(plan) -> str:
    return plan.sql_text()


def test_year_plan_widens_the_key_and_covers_through_next_year():
    plan, report = plan_prep(facts(), YEAR)
    assert report.twin_primary_key == ("id", "data_inicio")
    assert [p.split()[0] for p in report.partitions] == [
        "contratos_2024",
        "contratos_2025",
        "contratos_2026",
        "contratos_2027",
        "contratos_default",
    ]
    text = sql(plan)
    assert 'PARTITION BY RANGE ("data_inicio")' in text
    assert 'ADD CONSTRAINT "contratos_pkey_pm" PRIMARY KEY ("id", "data_inicio")' in text
    # a unique index without the key is carried as a plain index, and said so
    assert 'CREATE INDEX "contratos_numero_key_pm" ON' in text
    assert any("contratos_numero_key" in n for n in plan.notes)
    assert "COMMENT ON INDEX" in text and "one per contract" in text
    assert 'ADD CONSTRAINT "contratos_empresa_fk" FOREIGN KEY' in text
    assert "NOT VALID" not in text  # not supported on partitioned tables
    assert plan.steps[-2].locks == ("public.contratos",)  # only the trigger locks the original


def test_quoted_names_are_identifiers_everywhere():
    src = source(schema="Vendas", name='Contratos "2"', comment="it's")
    plan, report = plan_prep(facts(source=src), YEAR)
    text = sql(plan)
    assert '"Vendas"."Contratos ""2""_partitioned"' in text
    assert "'it''s'" in text
    assert report.twin == 'Vendas.Contratos "2"_partitioned'


def test_long_names_stay_within_63_bytes():
    src = source(name="x" * 63)
    _, report = plan_prep(facts(source=src), YEAR)
    assert all(len(p.split()[0].encode()) <= 63 for p in report.partitions)
    assert report.twin.endswith("_partitioned") and len(report.twin.split(".")[1]) == 63


def test_identity_key_is_noted():
    cols = (replace(COLUMNS[0], identity=True), *COLUMNS[1:])
    plan, _ = plan_prep(facts(source=source(columns=cols)), YEAR)
    assert any("identity column id" in n for n in plan.notes)


def test_forced_rls_needs_the_maintenance_policy():
    forced = source(rls_enabled=True, rls_forced=True)
    with pytest.raises(Precondition, match="forces row-level security"):
        plan_prep(facts(source=forced), YEAR)
    policy = Policy(MAINTENANCE_POLICY, True, "ALL", ("app",), "true", None)
    plan, _ = plan_prep(facts(source=forced, policies=(policy,)), YEAR)
    text = sql(plan)
    assert f'CREATE POLICY "{MAINTENANCE_POLICY}"' in text
    assert "ENABLE ROW LEVEL SECURITY" in text and "FORCE" not in text  # FORCE at swap


def _fk(table: str, name: str, ref: tuple[str, ...], **kw) -> IncomingFk:
    base = dict(
        schema="public",
        table=table,
        name=name,
        definition="FOREIGN KEY (c) REFERENCES x",
        columns=tuple(f"c{i}" for i in range(len(ref))),
        ref_columns=ref,
        on_update="a",
        on_delete="a",
        match="s",
        deferrable=False,
        deferred=False,
        validated=True,
        partitioned=False,
    )
    return IncomingFk(**{**base, **kw})


def test_incoming_foreign_keys_and_dependents_are_explained():
    f = facts(
        referencing=(
            _fk("contrato_eventos", "ev_fk", ("id",)),
            _fk("parcelas", "parcelas_fk", ("id", "data_inicio"), on_delete="c"),
        ),
        dependents=(
            View(9, "public", "v_c", "v", "SELECT 1"),
            View(10, "public", "mv_c", "m", "SELECT 1"),
        ),
        triggers=(Trigger("audit", "CREATE TRIGGER audit ...", "O", None, False, "f"),),
        publications=(Publication("pub"),),
        others=("function public.conta()",),
    )
    plan, report = plan_prep(f, YEAR)
    trigger_fk, real_fk = report.foreign_keys_in
    assert "contrato_eventos" in trigger_fk and "constraint triggers" in trigger_fk
    assert "contratos_retired" in trigger_fk  # kept enforced on the original until cleanup
    assert "ON DELETE CASCADE" in real_fk and "NOT VALID" in real_fk
    kinds = [d.split(" ", 1)[0] for d in report.dependents]
    assert kinds == ["view", "materialized", "trigger", "publication", "function"]
    assert "cleanup refuses" in report.dependents[-1]
    assert set(report.foreign_keys_in + report.dependents) <= set(plan.notes)


def test_what_cannot_follow_is_refused():
    row_transition = Trigger("t", "CREATE TRIGGER t ...", "O", None, True, "f")
    with pytest.raises(Precondition, match="transition tables"):
        plan_prep(facts(triggers=(row_transition,)), YEAR)
    filtered = Publication("pub", ("id",), None, False)
    with pytest.raises(Precondition, match="via the partition root"):
        plan_prep(facts(publications=(filtered,)), YEAR)
    plan_prep(facts(publications=(replace(filtered, via_root=True),)), YEAR)
    with pytest.raises(Precondition, match="onto itself"):
        plan_prep(facts(self_references=("parent_fk",)), YEAR)


def test_moves_onto_the_new_table():
    real = refs.plan_move(_fk("parcelas", "p_fk", ("id", "data_inicio")), "data_inicio")
    steps = [s for s, _ in refs.move_steps(real, ("public", "contratos"))]
    assert steps[0].startswith('ALTER TABLE "public"."parcelas" DROP CONSTRAINT "p_fk"')
    assert steps[1].endswith("NOT VALID") and len(steps) == 2
    assert "VALIDATE CONSTRAINT" in refs.validation(real, ("public", "contratos"))[0][0]
    leaves = (("public", "parcelas_2025", "p_fk"), ("public", "parcelas_2026", "p_fk"))
    parted = refs.plan_move(
        _fk("parcelas", "p_fk", ("id", "data_inicio"), partitioned=True, leaves=leaves),
        "data_inicio",
    )
    steps = [s for s, _ in refs.move_steps(parted, ("public", "contratos"))]
    assert [s.split('"')[3] for s in steps[1:]] == ["parcelas_2025", "parcelas_2026"]
    checks = [s for s, _ in refs.validation(parted, ("public", "contratos"))]
    assert len(checks) == 3 and "NOT VALID" not in checks[-1]  # attaches the validated ones
    trig = refs.plan_move(_fk("eventos", "ev_fk", ("id",), deferrable=True, deferred=True), "d")
    sql = "\n".join(s for s, _ in refs.move_steps(trig, ("public", "contratos")))
    assert sql.count("CREATE CONSTRAINT TRIGGER") == 3
    assert 'AFTER INSERT OR UPDATE ON "public"."eventos"\n    DEFERRABLE INITIALLY DEFERRED' in sql
    assert "SECURITY DEFINER SET search_path = pg_catalog, pg_temp" in sql
    back = refs.Move.from_record(trig.record())
    assert back == trig


def test_tenant_list_and_hash():
    data = KeyData(1, 3, 0, TODAY, (1, 2, 3))
    plan, report = plan_prep(facts(data=data), TENANT)
    assert report.strategy == "list" and len(report.partitions) == 4
    assert 'contratos_empresa_1" PARTITION OF' in sql(plan) and "FOR VALUES IN (1)" in sql(plan)
    _, report = plan_prep(facts(data=data), PrepArgs("tenant", "empresa_id", 4))
    assert report.strategy == "hash"
    assert report.partitions[-1] == "contratos_h3 WITH (MODULUS 4, REMAINDER 3)"
    too_many = replace(data, values=tuple(range(401)))
    with pytest.raises(Precondition, match="use --hash-partitions"):
        partitions("contratos", TENANT, too_many)


@pytest.mark.parametrize(
    ("change", "args", "error", "match"),
    [
        ({"source": source(relkind="p")}, YEAR, Precondition, "already partitioned"),
        ({"source": source(relkind="v")}, YEAR, Precondition, "not a table"),
        ({"source": source(pk=())}, YEAR, Precondition, "no primary key"),
        ({}, PrepArgs("year", "nope"), InvalidInput, "does not exist"),
        ({}, PrepArgs("year", "numero"), InvalidInput, "date/timestamp"),
        ({}, PrepArgs("tenant", "data_inicio"), InvalidInput, "integer or text"),
        ({"taken": frozenset({"contratos_retired"})}, YEAR, Precondition, "exists"),
        ({"taken": frozenset({"contratos_2025"})}, YEAR, Precondition, "taken"),
        ({"data": KeyData(None, None, 3, TODAY)}, YEAR, Precondition, "NULL"),
        ({}, PrepArgs("week", "data_inicio"), InvalidInput, "--by"),
    ],
)
def test_refusals(change, args, error, match):
    with pytest.raises(error, match=match):
        plan_prep(facts(**change), args)


def test_a_migration_in_progress_is_nothing_to_do():
    m = Migration(
        "public", "contratos", "contratos_partitioned", "contratos_retired", "range", "year",
        "data_inicio", ("id",), ("id", "data_inicio"), ("id",), "prepped", False, False, 0,
        None, None, None,
    )  # fmt: skip
    plan, report = plan_prep(PrepFacts(source(), existing=m), YEAR)
    assert plan.empty and report.already_prepared


def test_shape_as_a_partition_lets_postgres_name_and_validates_apart():
    copied = shape.copy(facts().shape, ("public", "contratos_2026"), validate_apart=True)
    text = [s.sql for s in copied.statements]
    assert text[0] == 'ALTER TABLE "public"."contratos_2026" ADD PRIMARY KEY (id)'
    assert text[1] == 'ALTER TABLE "public"."contratos_2026" ADD UNIQUE (numero)'
    assert text[2].endswith("REFERENCES empresas(id) NOT VALID")
    assert text[3].startswith('ALTER TABLE "public"."contratos_2026" VALIDATE CONSTRAINT')
    assert not copied.cannot_carry


def test_grants_and_policies_are_synced_both_ways():
    from auroractl.ops.partition_migrate import follow

    src = frozenset({("app", "SELECT", False), ("app", "UPDATE", True), ("", "SELECT", False)})
    dst = frozenset({("app", "SELECT", True), ("old", "DELETE", False), ("app", "UPDATE", False)})
    sql = follow.grant_steps(src, dst, ("public", "t"))
    assert sql == [
        'REVOKE GRANT OPTION FOR SELECT ON TABLE "public"."t" FROM "app"',
        'REVOKE DELETE ON TABLE "public"."t" FROM "old"',
        'GRANT SELECT ON TABLE "public"."t" TO PUBLIC',
        'GRANT UPDATE ON TABLE "public"."t" TO "app" WITH GRANT OPTION',
    ]
    assert follow.grant_steps(src, src, ("public", "t")) == []
    p = Policy("p", True, "ALL", ("app",), "true", None)
    changed = replace(p, using="false")
    sql = follow.policy_steps((changed,), (p, replace(p, policy="gone")), ("public", "t"))
    assert [s.split()[0] for s in sql] == ["DROP", "DROP", "--"]  # the CREATE's comment
    assert "CREATE POLICY" in sql[2] and "USING (false)" in sql[2]
    assert follow.policy_steps((p,), (p,), ("public", "t")) == []


def test_triggers_move_in_their_state_and_come_back():
    from auroractl.ops.partition_migrate import follow

    on = Trigger("log", "CREATE TRIGGER log AFTER INSERT ON public.t ...", "O", "audit")
    off = Trigger("off", "CREATE TRIGGER off AFTER UPDATE ON public.t ...", "D")
    replica = Trigger("rep", "CREATE TRIGGER rep AFTER UPDATE ON public.t ...", "R")
    moved = [
        s for s, _ in follow.moved_triggers([on, off, replica], ("public", "t"), ("public", "r"))
    ]
    assert moved == [
        on.definition,
        'COMMENT ON TRIGGER "log" ON "public"."t" IS \'audit\'',
        'ALTER TABLE "public"."r" DISABLE TRIGGER "log"',
        off.definition,
        'ALTER TABLE "public"."t" DISABLE TRIGGER "off"',
        replica.definition,
        'ALTER TABLE "public"."t" ENABLE REPLICA TRIGGER "rep"',
        'ALTER TABLE "public"."r" DISABLE TRIGGER "rep"',
    ]
    # unswap: the original's copies were disabled at swap; a trigger added since comes too,
    # one dropped since goes
    on_original = [
        replace(on, enabled="D"),
        off,
        replace(replica, enabled="D"),
        Trigger("x", "", "D"),
    ]
    added = Trigger("new", "CREATE TRIGGER new ...", "O")
    back = [
        s
        for s, _ in follow.returned_triggers(
            [on, off, replica, added], on_original, ("public", "t")
        )
    ]
    assert back == [
        'ALTER TABLE "public"."t" ENABLE TRIGGER "log"',
        'ALTER TABLE "public"."t" ENABLE REPLICA TRIGGER "rep"',
        added.definition,
        'DROP TRIGGER IF EXISTS "x" ON "public"."t"',
    ]
    with pytest.raises(Precondition, match="transition tables"):
        follow.moved_triggers([replace(on, row_transition=True)], ("public", "t"), ("public", "r"))


def test_identity_sequences_continue_and_exchange_names():
    from auroractl.ops.partition_migrate.follow import Sequence, sequence_moves

    mine = [Sequence("public", "t_id_seq", "id", "i"), Sequence("public", "t_n_seq", "n", "a")]
    theirs = [Sequence("public", "t_partitioned_id_seq", "id", "i")]
    grants = {("public", "t_id_seq"): frozenset({("app", "USAGE", False)})}
    sql = [s for s, _ in sequence_moves(mine, theirs, ("public", "t"), conn_grants=grants)]
    assert sql == [
        "-- The target sequence continues where the source one is: the same next value.\n"
        'SELECT setval(\'"public"."t_partitioned_id_seq"\'::regclass, s.last_value, s.is_called)\n'
        'FROM "public"."t_id_seq" AS s',
        'ALTER SEQUENCE "public"."t_id_seq" RENAME TO "t_id_seq_retired"',
        'ALTER SEQUENCE "public"."t_partitioned_id_seq" RENAME TO "t_id_seq"',
        'GRANT USAGE ON SEQUENCE "public"."t_id_seq" TO "app"',
        'ALTER SEQUENCE "public"."t_n_seq" OWNED BY "public"."t"."n"',
    ]
    with pytest.raises(Precondition, match="older auroractl"):
        sequence_moves(mine, [], ("public", "t"))
