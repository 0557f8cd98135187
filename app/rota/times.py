"""When half-days happen, in the business calendar (Europe/Paris), and the public holidays."""

from __future__ import annotations

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo

import holidays

from scheduling.rota.halfdays import half_day_key

PARIS = ZoneInfo("Europe/Paris")
HOURS: dict[str, tuple[dt.time, dt.time]] = {
    "am": (dt.time(9, 0), dt.time(12, 30)),
    "pm": (dt.time(14, 0), dt.time(18, 0)),
}
"""Consultation hours of a morning and an afternoon session."""
halfday_key = half_day_key
"""``halfday_key(date, "pm")`` -> ``"tue-pm"`` (the solver's own function)."""


def bounds(day: dt.date, period: str) -> tuple[dt.datetime, dt.datetime]:
    """Start and end of the half-day as timezone-aware UTC datetimes."""
    start, end = HOURS[period]
    return (
        dt.datetime.combine(day, start, PARIS).astimezone(dt.UTC),
        dt.datetime.combine(day, end, PARIS).astimezone(dt.UTC),
    )


@cache
def _france(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.France(years=year))


def is_public_holiday(day: dt.date) -> bool:
    return day in _france(day.year)


def public_holidays(start: dt.date, end: dt.date) -> list[dt.date]:
    return sorted(d for y in range(start.year, end.year + 1) for d in _france(y) if start <= d <= end)


def holiday_name(day: dt.date) -> str:
    return str(holidays.France(years=day.year).get(day, ""))


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def sane_date(day: dt.date | None) -> dt.date | None:
    """A date a page can do week arithmetic with (years 2000–2200), else None (meaning today)."""
    return day if day is not None and 2000 <= day.year <= 2200 else None
