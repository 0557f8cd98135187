"""RFC 5545 calendars as real clients need them: one VTIMEZONE for Europe/Paris (with yearly
rules, not a list of dates), TZID on every DTSTART/DTEND, stable UIDs, SEQUENCE, CRLF line ends
and 75-octet folding (icalendar does both), refresh hints for subscribing clients."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vRecur

from app.core.dates import PARIS

PRODID = "-//SMP Planner//Service Medical de Proximite//FR"


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    start: dt.datetime
    end: dt.datetime
    summary: str
    location: str
    description: str
    sequence: int
    cancelled: bool
    last_modified: dt.datetime


def paris_vtimezone() -> Timezone:
    tz = Timezone()
    tz.add("tzid", "Europe/Paris")
    tz.add("x-lic-location", "Europe/Paris")
    summer = TimezoneDaylight()
    summer.add("tzname", "CEST")
    summer.add("tzoffsetfrom", dt.timedelta(hours=1))
    summer.add("tzoffsetto", dt.timedelta(hours=2))
    summer.add("dtstart", dt.datetime(1970, 3, 29, 2, 0))
    summer.add("rrule", vRecur(freq="YEARLY", bymonth=3, byday="-1SU"))
    winter = TimezoneStandard()
    winter.add("tzname", "CET")
    winter.add("tzoffsetfrom", dt.timedelta(hours=2))
    winter.add("tzoffsetto", dt.timedelta(hours=1))
    winter.add("dtstart", dt.datetime(1970, 10, 25, 3, 0))
    winter.add("rrule", vRecur(freq="YEARLY", bymonth=10, byday="-1SU"))
    tz.add_component(summer)
    tz.add_component(winter)
    return tz


_EVENT_BYTES: OrderedDict[FeedEvent, bytes] = OrderedDict()
_EVENT_CACHE_SIZE = 50_000


def _event_bytes(item: FeedEvent) -> bytes:
    """One VEVENT, encoded once per content (a FeedEvent is its own cache key)."""
    cached = _EVENT_BYTES.get(item)
    if cached is not None:
        _EVENT_BYTES.move_to_end(item)
        return cached
    ev = Event()
    ev.add("uid", item.uid)
    ev.add("dtstamp", item.last_modified.astimezone(dt.UTC))
    ev.add("last-modified", item.last_modified.astimezone(dt.UTC))
    ev.add("dtstart", item.start.astimezone(PARIS))
    ev.add("dtend", item.end.astimezone(PARIS))
    ev.add("summary", item.summary)
    ev.add("location", item.location)
    ev.add("description", item.description)
    ev.add("sequence", item.sequence)
    ev.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
    ev.add("transp", "TRANSPARENT" if item.cancelled else "OPAQUE")
    encoded: bytes = ev.to_ical()
    _EVENT_BYTES[item] = encoded
    while len(_EVENT_BYTES) > _EVENT_CACHE_SIZE:
        _EVENT_BYTES.popitem(last=False)
    return encoded


def build_calendar(name: str, description: str, events: list[FeedEvent]) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-caldesc", description)
    cal.add("x-wr-timezone", "Europe/Paris")
    cal.add("refresh-interval", dt.timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    cal.add_component(paris_vtimezone())
    head = cal.to_ical()
    closing = b"END:VCALENDAR\r\n"
    assert head.endswith(closing)
    return head[: -len(closing)] + b"".join(_event_bytes(item) for item in events) + closing
