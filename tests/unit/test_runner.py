"""Plan grouping and output rendering (pure functions)."""

from __future__ import annotations

import json

from auroractl import output
from auroractl.runner import Plan, Step, groups


def test_groups_split_on_autocommit_and_txn_labels():
    plan = Plan(
        "c",
        "s",
        (
            Step("a1", txn="a"),
            Step("a2", txn="a"),
            Step("x", autocommit=True),
            Step("b1", txn="b"),
            Step("c1", txn="c"),
            Step("c2", txn="c"),
        ),
    )
    shape = [(auto, [s.sql for s in steps]) for auto, steps in groups(plan)]
    assert shape == [(False, ["a1", "a2"]), (True, ["x"]), (False, ["b1"]), (False, ["c1", "c2"])]


def test_plan_hash_is_stable_and_sql_sensitive():
    a = Plan("c", "s", (Step("SELECT 1"),))
    assert a.sql_hash() == Plan("other", "t", (Step("SELECT 1"),)).sql_hash()
    assert a.sql_hash() != Plan("c", "s", (Step("SELECT 2"),)).sql_hash()


def test_json_and_csv_rendering(capsys):
    import datetime as dt
    from decimal import Decimal

    rows = [{"name": "p", "lower": dt.date(2026, 1, 1), "n": Decimal("1.5")}]
    output.render(rows, "json")
    assert json.loads(capsys.readouterr().out) == [{"name": "p", "lower": "2026-01-01", "n": 1.5}]
    output.render(rows, "csv")
    assert capsys.readouterr().out.splitlines() == ["name,lower,n", "p,2026-01-01,1.5"]
