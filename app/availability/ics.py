"""Import an .ics file of personal busy times: the half-days it overlaps become unavailable.

Recurring events are expanded with ``recurring-ical-events``; times are read in their own time
zone (all-day events cover both half-days). Only a window of dates is read, and nothing is saved
here: the page shows the half-days found and the clinician confirms.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import icalendar
import recurring_ical_events

from app.rota.times import PARIS, bounds, days

MAX_BYTES = 2_000_000


class IcsError(ValueError):
    """The file is not a calendar we can read (message in French)."""


@dataclass(frozen=True, order=True)
class BusyHalfDay:
    date: dt.date
    period: str
    summary_count: int = 1


def _aware(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=PARIS)
    return dt.datetime.combine(value, dt.time.min, PARIS)


def busy_halfdays(data: bytes, start: dt.date, end: dt.date) -> list[tuple[dt.date, str]]:
    """The (date, period) pairs between ``start`` and ``end`` that some busy event overlaps."""
    if len(data) > MAX_BYTES:
        raise IcsError("Le fichier dépasse 2 Mo : exportez seulement les mois à venir.")
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise IcsError("Ce fichier n'est pas un calendrier .ics lisible.") from exc
    if calendar.name != "VCALENDAR":
        raise IcsError("Ce fichier n'est pas un calendrier .ics (VCALENDAR attendu).")
    window_start = dt.datetime.combine(start, dt.time.min, PARIS)
    window_end = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, PARIS)
    try:
        events = recurring_ical_events.of(calendar).between(window_start, window_end)
    except Exception as exc:  # the library raises several types on malformed rules
        raise IcsError("Une règle de répétition du calendrier est illisible.") from exc
    found: set[tuple[dt.date, str]] = set()
    for event in events:
        if event.name != "VEVENT":
            continue
        if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
            continue  # marked "free" in the calendar
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        ev_start = event.get("DTSTART").dt
        ev_end_prop = event.get("DTEND")
        ev_end = ev_end_prop.dt if ev_end_prop is not None else ev_start
        a, b = _aware(ev_start), _aware(ev_end)
        if b <= a:
            b = a + (dt.timedelta(days=1) if not isinstance(ev_start, dt.datetime) else dt.timedelta(minutes=1))
        for day in days(max(a.astimezone(PARIS).date(), start), min(b.astimezone(PARIS).date(), end)):
            for period in ("am", "pm"):
                hd_start, hd_end = bounds(day, period)
                if a < hd_end and b > hd_start:
                    found.add((day, period))
    return sorted(found)
