"""What the booking confirmation offers the patient: an .ics and a printable note."""

from __future__ import annotations

import datetime as dt

import pytest
from icalendar import Calendar

from app.notifications.appointment import appointment_filename, appointment_ics, appointment_uid, printable_note
from tests.notifications.helpers import SUMMER, WINTER, view


def parse(body: bytes) -> Calendar:
    return Calendar.from_ical(body)


@pytest.mark.parametrize(("starts_at", "offset"), [(WINTER, 1), (SUMMER, 2)], ids=["winter", "summer"])
def test_the_ics_parses_and_shows_the_appointment_at_its_paris_local_time(starts_at, offset):
    v = view(starts_at=starts_at, ends_at=starts_at + dt.timedelta(minutes=20))
    body = appointment_ics(v, stamp=dt.datetime(2026, 2, 1, 8, 0, tzinfo=dt.UTC))
    assert b"\r\n" in body and b"DTSTART;TZID=Europe/Paris:" in body
    cal = parse(body)
    assert str(cal["METHOD"]) == "PUBLISH"
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Paris"]
    events = cal.walk("VEVENT")
    assert len(events) == 1
    ev = events[0]
    start = ev["DTSTART"].dt
    assert (start.hour, start.minute) == (14, 20)
    assert start.utcoffset() == dt.timedelta(hours=offset)
    assert start.astimezone(dt.UTC) == starts_at
    assert ev["DTEND"].dt - start == dt.timedelta(minutes=20)
    assert str(ev["UID"]) == appointment_uid(v)
    assert str(ev["STATUS"]) == "CONFIRMED"
    assert "Dr Anne Roy" in str(ev["SUMMARY"])
    assert str(ev["LOCATION"]) == "SMP Laval, 12 rue de la Paix, 53000 Laval"
    assert "02 43 00 10 00" in str(ev["DESCRIPTION"])


def test_the_ics_carries_no_patient_identity_and_keeps_its_uid_when_the_appointment_moves():
    v = view()
    body = appointment_ics(v)
    assert b"Moreau" not in body and b"SMP-2026-000042" not in body
    moved = view(starts_at=WINTER + dt.timedelta(days=2), ends_at=WINTER + dt.timedelta(days=2, minutes=20))
    again = parse(appointment_ics(moved, sequence=1)).walk("VEVENT")[0]
    assert str(again["UID"]) == appointment_uid(v)
    assert int(again["SEQUENCE"]) == 1


def test_a_cancelled_ics_says_so():
    ev = parse(appointment_ics(view(), cancelled=True)).walk("VEVENT")[0]
    assert str(ev["STATUS"]) == "CANCELLED"


def test_the_printable_note_gives_date_time_place_clinician_and_phone():
    note = printable_note(view())
    assert note["patient_name"] == "Léa Moreau"
    assert note["patient_reference"] == "SMP-2026-000042"
    assert note["date"] == "mardi 3 mars 2026"
    assert note["time"] == "14 h 20"
    assert note["starts_at_local"] == "2026-03-03T14:20:00+01:00"
    assert note["duration_minutes"] == 20
    assert note["clinician"] == "Dr Anne Roy"
    assert note["place"] == "SMP Laval, 12 rue de la Paix, 53000 Laval"
    assert note["site_phone"] == "02 43 00 10 00"
    assert note["is_at_site"] is True
    assert any("02 43 00 10 00" in line for line in note["instructions"])
    assert note["ics_filename"] == appointment_filename(view()) == "rendez-vous-smp-2026-03-03-1420.ics"


def test_the_printable_note_of_a_home_visit_sends_nobody_to_the_site():
    note = printable_note(view(kind="home_visit"))
    assert note["is_at_site"] is False
    assert note["place"] == "à votre domicile"
    assert note["kind_label"] == "Visite à domicile"
    assert not any("arriver" in line for line in note["instructions"])
