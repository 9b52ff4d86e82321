"""pg_cron expressions are checked before anything connects: malformed ones and ones
that can never fire are input errors (exit 2)."""

from __future__ import annotations

import datetime as dt

import pytest

from auroractl.errors import InvalidInput
from auroractl.ops import schedule

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize("expression", ["0 2 31 2 *", "0 2 30 2 *", "0 0 31 4,6,9,11 *"])
def test_a_cron_that_can_never_fire_is_refused(expression):
    with pytest.raises(InvalidInput, match="never fires"):
        schedule.next_runs(expression, now=NOW)


@pytest.mark.parametrize("expression", ["0 2", "61 * * * *", "* * * * * *", "every day"])
def test_a_malformed_cron_is_refused(expression):
    with pytest.raises(InvalidInput, match="is not a 5-field cron expression"):
        schedule.next_runs(expression, now=NOW)


@pytest.mark.parametrize(
    ("expression", "first"),
    [
        ("0 2 29 2 *", dt.datetime(2028, 2, 29, 2, tzinfo=dt.UTC)),  # leap years only
        ("0 2 31 * *", dt.datetime(2026, 3, 31, 2, tzinfo=dt.UTC)),
        ("0 2 31 2 1", dt.datetime(2027, 2, 1, 2, tzinfo=dt.UTC)),  # or a Monday in February
    ],
)
def test_rare_but_real_dates_are_scheduled(expression, first):
    assert schedule.next_runs(expression, now=NOW)[0] == first
