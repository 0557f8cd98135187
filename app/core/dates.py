"""French dates and numbers as people write them: ``mardi 3 mars 2026``, ``10 000``."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from scheduling.rota.halfdays import FRENCH_DAYS, FRENCH_MONTHS

PARIS = ZoneInfo("Europe/Paris")

# One table of French names for the whole product: the solver's (``app`` may import
# ``scheduling``; the reverse is forbidden).
MONTHS_FR = FRENCH_MONTHS
WEEKDAYS_FR = FRENCH_DAYS


def date_fr(value: dt.date | dt.datetime | None, weekday: bool = True) -> str:
    """``mardi 3 mars 2026`` (datetimes are shown in Europe/Paris)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(PARIS).date() if value.tzinfo else value.date()
    text = f"{value.day} {MONTHS_FR[value.month - 1]} {value.year}"
    return f"{WEEKDAYS_FR[value.weekday()]} {text}" if weekday else text


def datetime_fr(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(PARIS) if value.tzinfo else value
    return f"{date_fr(local)} à {local.hour:02d} h {local.minute:02d}"


def today_paris() -> dt.date:
    """Today's date in France (the server may run in UTC)."""
    return dt.datetime.now(PARIS).date()


def number_fr(value: int | float | None) -> str:
    """``10 000`` with a narrow no-break space, as French typography writes it."""
    if value is None:
        return ""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}".replace(",", "\u202f").replace(".", ",")
    return f"{int(value):,}".replace(",", "\u202f")


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` (the last day of the month when the day does not exist)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")
