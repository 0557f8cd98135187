from __future__ import annotations

import datetime as dt

import pytest

from scheduling.rota.halfdays import (
    HALF_DAY_KEYS,
    format_date_fr,
    format_half_day_fr,
    format_half_day_key_fr,
    half_day_key,
    half_days,
    iso_week,
    parse_half_day_key,
)


def test_half_day_keys_run_from_monday_morning_to_sunday_afternoon():
    assert HALF_DAY_KEYS[0] == "mon-am" and HALF_DAY_KEYS[-1] == "sun-pm" and len(HALF_DAY_KEYS) == 14


def test_a_key_names_the_weekday_and_period_of_a_date():
    assert half_day_key(dt.date(2027, 1, 5), "pm") == "tue-pm"
    assert parse_half_day_key("tue-pm") == (1, "pm")


@pytest.mark.parametrize("bad", ["tuesday-am", "tue-night", "", "TUE-AM"])
def test_an_unknown_half_day_key_is_rejected(bad):
    with pytest.raises(ValueError, match="not a half-day key"):
        parse_half_day_key(bad)


def test_dates_are_written_in_french_without_depending_on_the_locale():
    assert format_half_day_fr(dt.date(2027, 1, 5), "am") == "mardi 5 janvier 2027 matin"
    assert format_half_day_fr(dt.date(2027, 1, 1), "pm") == "vendredi 1er janvier 2027 après-midi"
    assert format_date_fr(dt.date(2027, 8, 15)) == "dimanche 15 août 2027"
    assert format_half_day_key_fr("sat-am") == "samedi matin"


def test_weeks_follow_the_iso_calendar_across_the_new_year():
    assert iso_week(dt.date(2027, 1, 3)) == (2026, 53)
    assert iso_week(dt.date(2027, 1, 4)) == (2027, 1)


def test_half_days_are_listed_in_time_order():
    assert list(half_days(dt.date(2027, 1, 4), dt.date(2027, 1, 5))) == [
        (dt.date(2027, 1, 4), "am"),
        (dt.date(2027, 1, 4), "pm"),
        (dt.date(2027, 1, 5), "am"),
        (dt.date(2027, 1, 5), "pm"),
    ]
