"""Property tests (hypothesis) for the half-day and week arithmetic every rota rule rests on."""

import datetime as dt
import itertools

from hypothesis import given
from hypothesis import strategies as st

from app.core.dates import add_months
from scheduling.rota.halfdays import (
    HALF_DAY_KEYS,
    half_day_key,
    half_days,
    iso_week,
    parse_half_day_key,
    week_monday,
)

DATES = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31))
PERIODS = st.sampled_from(["am", "pm"])


@given(DATES, PERIODS)
def test_a_half_day_key_names_the_weekday_and_period_it_came_from(day, period):
    key = half_day_key(day, period)
    assert key in HALF_DAY_KEYS
    assert parse_half_day_key(key) == (day.weekday(), period)


@given(DATES, st.integers(min_value=0, max_value=60))
def test_half_days_are_two_a_day_in_time_order_without_gaps(start, length):
    end = start + dt.timedelta(days=length)
    seq = list(half_days(start, end))
    assert len(seq) == 2 * (length + 1)
    assert seq[0] == (start, "am") and seq[-1] == (end, "pm")
    for (d1, p1), (d2, p2) in itertools.pairwise(seq):
        assert (d2, p2) == ((d1, "pm") if p1 == "am" else (d1 + dt.timedelta(days=1), "am"))


@given(DATES)
def test_a_day_and_its_weeks_monday_share_the_iso_week(day):
    monday = week_monday(day)
    assert monday.weekday() == 0 and 0 <= (day - monday).days < 7
    assert iso_week(monday) == iso_week(day)
    assert iso_week(monday + dt.timedelta(days=7)) != iso_week(day)


@given(DATES, st.integers(min_value=-240, max_value=240))
def test_adding_months_lands_in_the_right_month_on_the_nearest_existing_day(day, months):
    moved = add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    assert moved.day == day.day or (moved.day < day.day and (moved + dt.timedelta(days=1)).day == 1)
