"""Partition planning without a database: intervals, naming conventions, retention rules,
the order of a new partition's steps, ensure's per-table outcomes, names for the shell."""

from __future__ import annotations

import datetime as dt
import shlex

import pytest

from auroractl.errors import InvalidInput, Precondition
from auroractl.ops import partition as ops
from auroractl.ops.partition import create, ensure, naming, retention, siblings
from auroractl.ops.partition.model import Parent, partition_info
from auroractl.ops.shared import extras, shape
from auroractl.ops.shared.catalog import shell_table, sql_name
from auroractl.plan import Plan

TODAY = dt.date(2026, 12, 2)


def monthly_bound(d: dt.date, key_type: str = "date") -> str:
    nxt = ops.add_period(d, "month")
    if key_type == "date":
        return f"FOR VALUES FROM ('{d}') TO ('{nxt}')"
    return f"FOR VALUES FROM ('{d} 00:00:00+00') TO ('{nxt} 00:00:00+00')"


def table(
    bounds: list[tuple[str, str]],
    *,
    name: str = "x",
    strategy: str = "range",
    key: str = "dia",
    key_type: str = "date",
    today: dt.date = TODAY,
) -> Parent:
    """A parent with partitions (relname, bound), oids in order."""
    parts = tuple(
        partition_info(("public", rel, bound, 0, 0, False, 100 + i), key_type)
        for i, (rel, bound) in enumerate(bounds)
    )
    return Parent(1, "public", name, strategy, key, key_type, today, parts)


def months(names: list[str], first: dt.date, key_type: str = "date") -> list[tuple[str, str]]:
    out, d = [], first
    for n in names:
        out.append((n, monthly_bound(d, key_type)))
        d = ops.add_period(d, "month")
    return out


# ---------------------------------------------------------------- intervals


def test_interval_of_day_month_year_and_mixed():
    day = table([("d1", "FOR VALUES FROM ('2026-01-01') TO ('2026-01-02')")])
    assert ops.interval_of(day) == "day"
    month = table(months(["m1", "m2"], dt.date(2026, 1, 1), "timestamp with time zone"),
                  key_type="timestamp with time zone")  # fmt: skip
    assert ops.interval_of(month) == "month"
    year = table([("y", "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')")])
    assert ops.interval_of(year) == "year"
    # Unbounded ranges aside, the rest decides.
    low = table([("low", "FOR VALUES FROM (MINVALUE) TO ('2026-01-01')"),
                 ("y", "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')")])  # fmt: skip
    assert ops.interval_of(low) == "year"
    # A month that starts at 06:00 is no whole month.
    shifted = table(
        [("s", "FOR VALUES FROM ('2026-01-01 06:00:00+00') TO ('2026-02-01 06:00:00+00')")],
        key_type="timestamp with time zone",
    )
    assert ops.interval_of(shifted) == "mixed"


def test_bigint_bounds_deparsed_quoted_are_integers():
    p = table([("l0", "FOR VALUES FROM ('0') TO ('1000000')")], key_type="bigint")
    assert p.ranges[0].lower == 0 and p.ranges[0].upper == 1_000_000


# ---------------------------------------------------------------- naming


@pytest.mark.parametrize(
    ("siblings_", "expected"),
    [
        (["x_p2026_10", "x_p2026_11"], "x_p2026_12"),
        (["x_y2026m10", "x_y2026m11"], "x_y2026m12"),
        (["x202610", "x202611"], "x202612"),
        (["hist_2026-10_x", "hist_2026-11_x"], "hist_2026-12_x"),
        (["x_2026_10", "x_2026_11"], "x_2026_12"),  # the default, followed
        (["legacy_a", "legacy_b"], "x_2026_12"),  # no period in the names: the default
        # The newest's reading shared by most siblings.
        (["x_2026_09", "x_p2026_10", "x_p2026_11"], "x_p2026_12"),
    ],
)
def test_monthly_names_follow_the_siblings(siblings_, expected):
    p = table(months(siblings_, dt.date(2026, 12 - len(siblings_), 1)))
    name, _ = naming.name_for(p, "month", None, lower=dt.date(2026, 12, 1))
    assert name == expected


def test_digits_in_the_table_name_are_not_its_period():
    p = table(months(["t2026_2026_10", "t2026_2026_11"], dt.date(2026, 10, 1)), name="t2026")
    assert naming.name_for(p, "month", None, lower=dt.date(2027, 1, 1))[0] == "t2026_2027_01"


def test_daily_yearly_and_list_conventions():
    days = table([
        ("ev_20261130", "FOR VALUES FROM ('2026-11-30') TO ('2026-12-01')"),
        ("ev_20261201", "FOR VALUES FROM ('2026-12-01') TO ('2026-12-02')"),
    ])  # fmt: skip
    assert naming.name_for(days, "day", None, lower=dt.date(2026, 12, 2))[0] == "ev_20261202"
    years = table([("contratos_y2025", "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')")])
    assert naming.name_for(years, "year", None, lower=dt.date(2026, 1, 1))[0] == "contratos_y2026"
    lists = table(
        [("notas_t1", "FOR VALUES IN (1)"), ("notas_t2", "FOR VALUES IN (2)")],
        strategy="list",
        key="empresa_id",
        key_type="integer",
        name="notas",
    )
    assert naming.name_for(lists, "list", None, value=17) == (
        "notas_t17",
        "named like public.notas_t2",
    )
    bare = table([], strategy="list", key="empresa_id", key_type="integer", name="notas")
    assert naming.name_for(bare, "list", None, value=3) == ("notas_empresa_3", None)


def test_configured_templates_and_their_precedence():
    p = table(months(["x_p2026_10", "x_p2026_11"], dt.date(2026, 10, 1)))
    common = naming.naming_from_config({"names": {"month": "{table}_m{year}{month}"}})
    # The siblings' convention wins over a template for every table ...
    assert naming.name_for(p, "month", common, lower=dt.date(2026, 12, 1))[0] == "x_p2026_12"
    # ... the table's own template wins over both.
    own = naming.naming_from_config(
        {
            "names": {
                "month": "{table}_m{year}{month}",
                "public.x": {"month": "{table}__{year}{month}"},
            }
        }
    )
    assert naming.name_for(p, "month", own, lower=dt.date(2026, 12, 1)) == (
        "x__202612",
        "named by the template in auroractl.toml [partition.names]",
    )
    empty = table([])
    assert naming.name_for(empty, "month", common, lower=dt.date(2026, 12, 1))[0] == "x_m202612"


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ({"month": "{table}_{year}"}, "lacks {month}"),
        ({"week": "{table}_{year}"}, "not one of year, month, day, list"),
        ({"month": "{table}_{year}_{month}_{hour}"}, "{hour} is not one of"),
        ({"month": "{table}_{year:04}_{month}"}, "is not one of"),
        ({"month": "{table}_{year"}, "month = '{table}_{year'"),
        ({"month": 12}, "must be a string"),
        ({"public.x": {"year": "{table}"}}, 'partition.names."public.x"] year'),
    ],
)
def test_bad_templates_are_invalid_input(names, message):
    with pytest.raises(InvalidInput) as err:
        naming.naming_from_config({"names": names})
    assert message in str(err.value)


def test_a_name_longer_than_postgres_keeps_is_refused():
    p = table([], name="t" * 60)
    with pytest.raises(Precondition, match="longer than 63 bytes"):
        naming.name_for(p, "month", None, lower=dt.date(2026, 12, 1))


# ---------------------------------------------------------------- retention


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (retention.Retention(before="2022-02"), ["x_2022_01"]),
        (retention.Retention(before="2022-02-15"), ["x_2022_01"]),
        (retention.Retention(before="2022-03-01"), ["x_2022_01", "x_2022_02"]),
        (retention.Retention(before="2022"), []),
        (retention.Retention(before="2023"), ["x_2022_01", "x_2022_02", "x_2022_03"]),
        (retention.Retention(older_than=(4, "year")), ["x_2022_01", "x_2022_02", "x_2022_03"]),
        (retention.Retention(older_than=(58, "month")), ["x_2022_01"]),
    ],
)
@pytest.mark.parametrize("key_type", ["date", "timestamp with time zone"])
def test_retention_on_a_monthly_table(rule, expected, key_type):
    p = table(months(["x_2022_01", "x_2022_02", "x_2022_03"], dt.date(2022, 1, 1), key_type),
              key_type=key_type)  # fmt: skip
    old, _ = retention.selected(p, rule)
    assert [r.relname for r in old] == expected


def test_retention_on_integer_list_and_hash_tables():
    ints = table(
        [("l0", "FOR VALUES FROM ('0') TO ('1000000')"),
         ("l1", "FOR VALUES FROM ('1000000') TO ('2000000')")],
        key_type="bigint",
    )  # fmt: skip
    assert [
        r.relname for r in retention.selected(ints, retention.Retention(before="1000000"))[0]
    ] == ["l0"]
    with pytest.raises(InvalidInput, match="give --before as an integer"):
        retention.selected(ints, retention.Retention(before="2022-02"))
    lists = table(
        [("sp", "FOR VALUES IN ('SP')"), ("sul", "FOR VALUES IN ('RS', 'SC')"), ("d", "DEFAULT")],
        strategy="list",
        key="uf",
        key_type="text",
    )
    old, notes = retention.selected(lists, retention.Retention(values=("SP", "RS", "SC", "AM")))
    assert [r.relname for r in old] == ["sp", "sul"]
    assert notes == ["no partition of public.x holds AM"]
    with pytest.raises(Precondition, match="holds RS and also SC"):
        retention.selected(lists, retention.Retention(values=("RS",)))
    with pytest.raises(InvalidInput, match="retire partitions with --values"):
        retention.selected(lists, retention.Retention(before="2022"))
    tenants = table([("t7", "FOR VALUES IN (7)")], strategy="list", key_type="integer")
    assert retention.selected(tenants, retention.Retention(values=("007",)))[0][0].relname == "t7"
    with pytest.raises(InvalidInput, match="is not an integer"):
        retention.selected(tenants, retention.Retention(values=("seven",)))
    hashed = table([("h0", "FOR VALUES WITH (modulus 2, remainder 0)")], strategy="hash")
    with pytest.raises(InvalidInput, match="HASH"):
        retention.selected(hashed, retention.Retention(before="2022"))


def test_parse_retention_and_ages():
    assert retention.parse_retention(before=2020) == retention.Retention(before="2020")
    assert retention.parse_retention(older_than="18months").older_than == (18, "month")
    assert retention.parse_retention(older_than="2 Y").older_than == (2, "year")
    assert retention.parse_retention(values='a,"b,c", d').values == ("a", "b,c", "d")
    assert retention.Retention(values=("a", "b c")).option == "--values 'a,b c'"
    assert retention.ago(dt.date(2024, 3, 31), 1, "month") == dt.date(2024, 2, 29)
    assert retention.ago(dt.date(2024, 2, 29), 1, "year") == dt.date(2023, 2, 28)
    assert retention.ago(dt.date(2024, 3, 1), 2, "week") == dt.date(2024, 2, 16)


# ---------------------------------------------------------------- a new partition's steps


def model() -> siblings.Model:
    sibling = partition_info(
        ("public", "x_2026_11", monthly_bound(dt.date(2026, 11, 1)), 0, 0, False, 7), "date"
    )
    own = shape.Shape(
        (shape.Index("x_2026_11_c_idx", None, None, False, False, ("c",), "USING btree (c)"),),
        (shape.ForeignKey("x_2026_11_c_fk", "FOREIGN KEY (c) REFERENCES y(id)"),),
    )
    things = extras.Extras(
        row_security=True,
        force_row_security=True,
        policies=(extras.Policy("x_2026_11_p", True, "SELECT", (None,), "(c > 0)", None),),
        grants=(extras.Grant("app", ("SELECT",)),),
        options=(("fillfactor", "70"),),
        comment="rows of x_2026_11",
    )
    return siblings.Model(sibling, own, things)


def test_siblings_keys_come_before_attach_and_row_security_after_the_last_move():
    p = table([*months(["x_2026_10", "x_2026_11"], dt.date(2026, 10, 1)), ("x_d", "DEFAULT")])
    ctx = create.Context(p, ("id", "dia", "c"), shape.Shape(), model())
    new = create.new_period(ctx, "month", dt.date(2026, 12, 1))
    new = create.replace(new, rows_to_move=5)
    sql = [s.sql for s in create.create_steps(ctx, new, txn="t")]

    def at(fragment: str) -> int:
        return next(i for i, s in enumerate(sql) if fragment in s)

    attach, last_move = at("ATTACH PARTITION"), max(i for i, s in enumerate(sql) if "moved" in s)
    assert (
        at('ADD CONSTRAINT "x_2026_12_c_fk"') < at('VALIDATE CONSTRAINT "x_2026_12_c_fk"') < attach
    )
    assert at('ON "public"."x_2026_12" USING btree (c)') < attach
    for fragment in ("ENABLE ROW LEVEL", "FORCE ROW LEVEL", 'CREATE POLICY "x_2026_12_p"',
                     'GRANT SELECT', "fillfactor", "'rows of x_2026_12'"):  # fmt: skip
        assert last_move < attach < at(fragment) < at("ANALYZE"), fragment
    notes = ctx.notes([new])
    assert notes == (
        "copied from the newest partition public.x_2026_11: foreign keys x_2026_11_c_fk; "
        "indexes x_2026_11_c_idx; row level security (forced); policies x_2026_11_p; "
        "grants to app; storage options fillfactor=70; table comment",
    )


def test_existing_period_and_overlap():
    p = table(months(["x_2026_11"], dt.date(2026, 11, 1)))
    ctx = create.Context(p, ("id",), shape.Shape(), None)
    assert create.new_period(ctx, "month", dt.date(2026, 11, 1)).exists
    with pytest.raises(InvalidInput, match="monthly partitions: use --month instead of --year"):
        create.new_period(ctx, "year", dt.date(2026, 1, 1))


# ---------------------------------------------------------------- ensure outcomes


def planned(name: str, failure: ensure.Failure | None = None, steps: int = 1) -> ensure.TablePlan:
    from auroractl.plan import Step

    plan = Plan("c", "s", tuple(Step(f"SELECT {i}") for i in range(steps)))
    return ensure.TablePlan(name, plan, failure=failure)


def test_preview_confirms_only_what_runs_and_failures_keep_the_first_exit_code():
    over = ensure.Failure("too many", 4, "raise it", over_limit=True)
    broken = ensure.Failure("does not exist", 2)
    tables = [planned("a"), planned("b", over), planned("c", broken, steps=0)]
    assert len(ensure.preview(tables, "cmd").steps) == 2  # shown: b too, with a note
    assert len(ensure.preview(tables, "cmd", applying=True).steps) == 1
    assert "b: refused when applied: too many" in ensure.preview(tables, "cmd").notes
    outcomes = [ensure.outcome(t, 9) for t in tables]
    assert [o.status for o in outcomes] == ["applied", "failed", "failed"]
    run = ensure.run_report("cmd", outcomes)
    assert run.status == "incomplete" and run.ledger_id == 9
    err = ensure.EnsureFailed(run)
    assert err.exit_code == 4 and str(err) == "partition ensure failed for 2 of 3 table(s): b, c"
    dry = ensure.dry_run_report("cmd", tables)
    assert [t.status for t in dry.tables] == ["dry-run", "dry-run", "failed"]


def test_the_max_new_option_defaults_to_the_documented_limit():
    import inspect

    from auroractl.commands import partition as command

    assert inspect.signature(command.ensure).parameters["max_new"].default == ops.DEFAULT_MAX_NEW


def test_ensure_command_lines_run_as_printed():
    line = ensure.command_line(['public."Eventos"', "shop.payments"], 1, 40)
    assert shlex.split(line) == [
        "partition", "ensure", "--table", 'public."Eventos"', "--table", "shop.payments",
        "--ahead", "1", "--max-new", "40",
    ]  # fmt: skip
    assert ensure.command_line(None, 2) == "partition ensure --all --ahead 2"


# ---------------------------------------------------------------- names for people and shells


@pytest.mark.parametrize(
    ("schema", "name", "as_sql", "as_shell"),
    [
        ("public", "contratos", "public.contratos", "public.contratos"),
        ("public", "Eventos", 'public."Eventos"', """'public."Eventos"'"""),
        ("Vendas", "pedidos", '"Vendas".pedidos', """'"Vendas".pedidos'"""),
        ("public", "ações", "public.ações", "'public.ações'"),
        ("public", "it's", '''public."it's"''', """'public."it'"'"'s"'"""),
        ("public", "2026", 'public."2026"', """'public."2026"'"""),
        ("public", 'a"b', 'public."a""b"', """'public."a""b"'"""),
    ],
)
def test_names_print_as_postgres_and_the_shell_read_them(schema, name, as_sql, as_shell):
    assert sql_name(schema, name) == as_sql
    assert shell_table(schema, name) == as_shell
    assert shlex.split(as_shell) == [as_sql]
