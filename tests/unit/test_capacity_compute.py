"""The pure part of `auroractl capacity`: statistics, simulated cost, recommendations,
max_connections, the I/O-Optimized break-even, pg_cron intervals. Known answers."""

from __future__ import annotations

import datetime as dt
import inspect

import pytest

from auroractl.errors import InvalidInput
from auroractl.ops.capacity import blockers, compute
from auroractl.ops.capacity.model import Prices, prices
from auroractl.ops.capacity.recommend import Facts, recommend
from auroractl.ops.shared.serverless import Scaling, capacity_warnings, max_connections

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
PRICE = Prices()  # 0.12 USD / ACU-hour


def series(values, scaling, period=60, name="w"):
    times = [T0 + dt.timedelta(seconds=period * i) for i in range(len(values))]
    return compute.stats(name, "WRITER", times, values, period, scaling)


def test_stats_of_a_known_series():
    scale = Scaling(0.5, 4)
    s = series([0.5] * 51 + [2.0] * 29 + [4.0] * 20, scale)
    assert (s.points, s.p50, s.maximum) == (100, 0.5, 4.0)
    assert s.p95 == 4.0
    assert (s.share_at_min, s.share_at_max, s.share_paused) == (0.51, 0.2, 0.0)
    # (51 x 0.5 + 29 x 2 + 20 x 4) ACU-minutes = 163.5 / 60 ACU-hours
    assert s.acu_hours == round(163.5 / 60, 3) and s.hours_observed == round(100 / 60, 3)


def test_percentile_interpolates():
    assert compute.percentile([1, 2, 3, 4], 50) == 2.5
    assert compute.percentile([], 95) is None


def test_paused_points_count_as_paused_not_at_min():
    s = series([0, 0, 0, 0.5], Scaling(0, 4, 300))
    assert (s.share_paused, s.share_at_min) == (0.75, 0.25)


def test_cost_scales_to_a_730_hour_month():
    # one day: 12 h at 0.5 ACU, 12 h at 4 ACU = 54 ACU-hours a day
    scale = Scaling(0.5, 8)
    s = series([0.5] * 720 + [4.0] * 720, scale)
    assert compute.cost([s], PRICE, scale, scale) == round(54 * 730 / 24 * 0.12, 2)


def test_simulated_pause_after_seconds_until_auto_pause():
    cur, new = Scaling(0.5, 8), Scaling(0, 8, 300)
    values = [0.5] * 720 + [4.0] * 720
    out = compute.simulate(values, 60, cur, new)
    assert out[:5] == [0.5] * 5 and set(out[5:720]) == {0.0} and out[720:] == [4.0] * 720
    s = series(values, cur)
    expected = (5 * 0.5 + 720 * 4) / 60 * 730 / 24 * 0.12
    assert compute.cost([s], PRICE, cur, new) == round(expected, 2)


def test_idle_cluster_is_recommended_auto_pause_with_the_saving():
    cur = Scaling(1, 8)
    s = series([1.0] * 1200 + [3.0] * 240, cur)
    rec = recommend([s], cur, PRICE, Facts(supports_pause=True, instances=("w",)))
    assert (rec.min_capacity, rec.max_capacity) == (0, 4.5)  # peak 3 x 1.5
    current = (1200 * 1 + 240 * 3) / 60 * 730 / 24 * 0.12
    paused = (5 * 0.5 + 240 * 3) / 60 * 730 / 24 * 0.12
    assert rec.current_monthly_usd == round(current, 2)
    assert rec.recommended_monthly_usd == round(paused, 2)
    assert rec.monthly_difference_usd == round(round(paused, 2) - round(current, 2), 2)
    text = " ".join(rec.consequences)
    assert "auto-pause" in text and "reboot of w" in text


def test_without_pause_support_the_floor_is_half_an_acu():
    cur = Scaling(2, 8)
    s = series([2.0] * 900 + [6.0] * 100, cur)
    rec = recommend([s], cur, PRICE, Facts(supports_pause=False))
    assert rec.min_capacity == 0.5 and rec.monthly_difference_usd < 0


def test_pinned_cluster_gets_a_doubled_max():
    cur = Scaling(0.5, 4)
    s = series([4.0] * 10 + [1.0] * 90, cur)
    rec = recommend([s], cur, PRICE, Facts())
    assert rec.max_capacity == 8 and "pinned" in rec.reasons[-1]


def test_performance_insights_and_pinning_params_hold_the_minimum():
    cur = Scaling(0.5, 8)
    s = series([0.5] * 100, cur)
    facts = Facts(performance_insights=True, pinning={"max_locks_per_transaction": "256"})
    rec = recommend([s], cur, PRICE, facts)
    assert rec.min_capacity == 2 and rec.max_capacity == 2
    # every point moves from the 0.5 floor to 2 ACU: four times the bill
    assert rec.recommended_monthly_usd == round(4 * rec.current_monthly_usd, 2)
    assert any("Performance Insights" in r for r in rec.reasons)
    assert any("max_locks_per_transaction = 256" in c for c in rec.consequences)


def test_max_connections_table_and_cap():
    assert max_connections(1, 1) == 189
    assert max_connections(4, 1) == 823
    assert max_connections(16, 1) == 3360
    assert max_connections(64, 2) == 5000
    assert max_connections(16, 0.5) == 2000  # capped with a low minimum
    assert max_connections(8, 0) == 1669  # under the cap: the table's value


def test_pause_support_by_engine_version():
    assert compute.supports_pause("16.3") and compute.supports_pause("15.7")
    assert not compute.supports_pause("15.6") and not compute.supports_pause("12.20")
    assert compute.supports_pause("17.1") and compute.supports_pause("") is None


def test_io_optimized_break_even_figures():
    # a 30-day window: 2 billion I/Os, 100 GiB, 1,440 ACU-hours
    hours = 30 * 24
    io = compute.io_break_even(1.5e9, 0.5e9, 100 * 1024**3, 1440, hours, PRICE, "aurora")
    scale = 730 / hours
    standard = 1440 * scale * 0.12 + 100 * 0.10 + 2e9 * scale / 1e6 * 0.20
    optimized = 1440 * scale * 0.156 + 100 * 0.225
    assert io.standard_usd == round(standard, 2) and io.io_optimized_usd == round(optimized, 2)
    assert io.io_share == round(2e9 * scale / 1e6 * 0.20 / standard, 4)
    assert io.io_share > 0.25 and "I/O-Optimized is cheaper" in io.advice


def test_little_io_stays_standard():
    io = compute.io_break_even(1e6, 1e6, 10 * 1024**3, 1000, 720, PRICE, "aurora")
    assert io.io_share < 0.25 and "Aurora Standard is cheaper" in io.advice


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0.25, 4, None), "steps of 0.5"),
        ((4, 2, None), "at least --min"),
        ((0, 512, None), "0 to 256"),
        ((0, 4, 100), "300 to 86400"),
        ((0.5, 4, 600), "needs --min 0"),
    ],
)
def test_validate_rejects(args, message):
    with pytest.raises(InvalidInput, match=message):
        compute.validate(*args)


def test_prices_from_config():
    p = prices({"acu_hour": 0.2, "region": "sa-east-1"})
    assert p.acu_hour == 0.2 and p.region == "sa-east-1" and p.io_million == 0.20
    with pytest.raises(InvalidInput, match="unknown"):
        prices({"acu": 1})
    with pytest.raises(InvalidInput, match="must be a number"):
        prices({"acu_hour": "cheap"})


@pytest.mark.parametrize(
    ("schedule", "seconds"),
    [("*/5 * * * *", 300), ("* * * * *", 60), ("30 seconds", 30), ("0 2 * * *", 86400)],
)
def test_cron_intervals(schedule, seconds):
    assert blockers.interval_seconds(schedule) == seconds


def test_cron_interval_of_nonsense_is_unknown():
    assert blockers.interval_seconds("not a schedule") is None


def test_webhooks_poll_interval_is_the_dispatchers():
    from auroractl.ops import webhooks

    default = inspect.signature(webhooks.dispatch).parameters["idle_sleep_s"].default
    assert default == blockers.WEBHOOKS_POLL_S


def test_capacity_warnings():
    found = capacity_warnings({"max_locks_per_transaction": "64", "rds.logical_replication": "1"})
    assert found == ["rds.logical_replication = 1 keeps a Serverless v2 cluster from pausing"]
    assert (
        "max_locks_per_transaction = 128"
        in capacity_warnings({"max_locks_per_transaction": "128"})[0]
    )
