"""Half-days: the time grid of the rota.

A *half-day key* names a weekly half-day, the way sites declare their opening hours:
``"mon-am"`` … ``"sun-pm"``. A concrete half-day is a date and a period (``"am"``/``"pm"``).
Dates are shown to users in French (``mardi 5 janvier 2027 matin``) from the small tables
below, so the output never depends on the machine's locale.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

PERIODS: tuple[str, ...] = ("am", "pm")
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HALF_DAY_KEYS: tuple[str, ...] = tuple(f"{d}-{p}" for d in WEEKDAYS for p in PERIODS)

FRENCH_DAYS: tuple[str, ...] = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
FRENCH_MONTHS: tuple[str, ...] = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
FRENCH_PERIODS: dict[str, str] = {"am": "matin", "pm": "après-midi"}


def is_half_day_key(key: object) -> bool:
    return isinstance(key, str) and key in HALF_DAY_KEYS


def parse_half_day_key(key: str) -> tuple[int, str]:
    """``"tue-pm"`` -> ``(1, "pm")`` (weekday as in ``date.weekday()``: Monday is 0)."""
    if not is_half_day_key(key):
        raise ValueError(f"not a half-day key: {key!r} (expected one of mon-am … sun-pm)")
    day, period = key.split("-")
    return WEEKDAYS.index(day), period


def half_day_key(date: dt.date, period: str) -> str:
    """The weekly key of a concrete half-day: Tuesday 5 January 2027, ``"am"`` -> ``"tue-am"``."""
    check_period(period)
    return f"{WEEKDAYS[date.weekday()]}-{period}"


def check_period(period: object) -> str:
    if period not in PERIODS:
        raise ValueError(f"not a period: {period!r} (expected 'am' or 'pm')")
    return period  # type: ignore[return-value]


def days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    """Every date from ``start`` to ``end`` inclusive."""
    current = start
    while current <= end:
        yield current
        current += dt.timedelta(days=1)


def half_days(start: dt.date, end: dt.date) -> Iterator[tuple[dt.date, str]]:
    """Every (date, period) from ``start`` morning to ``end`` afternoon, in time order."""
    for day in days(start, end):
        for period in PERIODS:
            yield day, period


IsoWeek = tuple[int, int]
"""(ISO year, ISO week number): the week a weekly maximum applies to."""


def iso_week(date: dt.date) -> IsoWeek:
    iso = date.isocalendar()
    return iso.year, iso.week


def week_monday(date: dt.date) -> dt.date:
    return date - dt.timedelta(days=date.weekday())


def format_date_fr(date: dt.date) -> str:
    """``mardi 5 janvier 2027``; the first of the month is written ``1er`` as in French."""
    day = "1er" if date.day == 1 else str(date.day)
    return f"{FRENCH_DAYS[date.weekday()]} {day} {FRENCH_MONTHS[date.month - 1]} {date.year}"


def format_half_day_fr(date: dt.date, period: str) -> str:
    """``mardi 5 janvier 2027 matin``."""
    return f"{format_date_fr(date)} {FRENCH_PERIODS[check_period(period)]}"


def format_half_day_key_fr(key: str) -> str:
    """``tue-pm`` -> ``mardi après-midi``."""
    weekday, period = parse_half_day_key(key)
    return f"{FRENCH_DAYS[weekday]} {FRENCH_PERIODS[period]}"


def format_week_fr(week: IsoWeek) -> str:
    """``semaine 2 (du lundi 11 janvier 2027)``."""
    year, number = week
    return f"semaine {number} (du {format_date_fr(dt.date.fromisocalendar(year, number, 1))})"
