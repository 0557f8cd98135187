"""Who can come when: versioned patterns, absences, one-off half-days, holidays, interns, .ics import."""

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from app.availability.ics import IcsError, busy_halfdays
from app.availability.models import AvailabilityPattern
from app.availability.services import AvailabilityService
from app.clinicians.models import Clinician
from app.core.errors import FieldErrors
from app.core.identifiers import luhn_check_digit
from app.sites.models import Site

MONDAY = dt.date(2027, 3, 1)  # a Monday with no public holiday that week


@pytest.fixture
def gp(db, demo):
    laval = db.scalar(select(Site).where(Site.name == "Laval"))
    body = "177" + str(uuid.uuid4().int)[:7]
    c = Clinician(
        role="retired_gp",
        first_name="Test",
        last_name=uuid.uuid4().hex[:6],
        rpps=body + luhn_check_digit(body),
        home_commune_insee="53130",
        max_halfdays_per_week=4,
        target_halfdays_per_week=3,
        active_from=dt.date(2020, 1, 1),
        sites=[laval],
        main_site_id=laval.id,
    )
    db.add(c)
    db.commit()
    return c


def _pattern(service, clinician, valid_from, **levels):
    data = {"valid_from": valid_from.isoformat(), **{f"level_{k}": v for k, v in levels.items()}}
    return service.save_pattern(clinician, data, today=valid_from)


def test_the_pattern_in_force_gives_the_levels_of_each_half_day(db, gp):
    service = AvailabilityService(db)
    _pattern(service, gp, MONDAY, **{"mon-am": "preferred", "wed-pm": "available"})
    offers = service.effective([gp], MONDAY, MONDAY + dt.timedelta(days=6))[gp.id]
    assert offers[(MONDAY, "am")].level == "preferred"
    assert offers[(MONDAY + dt.timedelta(days=2), "pm")].level == "available"
    assert (MONDAY, "pm") not in offers


def test_a_new_pattern_version_never_rewrites_the_weeks_before_it(db, gp):
    service = AvailabilityService(db)
    _pattern(service, gp, MONDAY, **{"mon-am": "available"})
    _pattern(service, gp, MONDAY + dt.timedelta(days=7), **{"tue-am": "available"})
    offers = service.effective([gp], MONDAY, MONDAY + dt.timedelta(days=13))[gp.id]
    assert (MONDAY, "am") in offers and (MONDAY + dt.timedelta(days=1), "am") not in offers
    assert (MONDAY + dt.timedelta(days=7), "am") not in offers and (MONDAY + dt.timedelta(days=8), "am") in offers
    assert len(service.patterns(gp.id)) == 2


def test_a_pattern_cannot_start_in_the_past(db, gp):
    with pytest.raises(FieldErrors) as exc:
        AvailabilityService(db).save_pattern(gp, {"valid_from": "2020-01-01"}, today=MONDAY)
    assert "passé" in exc.value.errors["valid_from"]


def test_an_absence_removes_its_days_and_a_half_day_absence_only_that_half(db, gp):
    service = AvailabilityService(db)
    _pattern(service, gp, MONDAY, **{"mon-am": "available", "mon-pm": "available", "tue-am": "available"})
    service.add_exception(
        gp, {"start_date": MONDAY.isoformat(), "end_date": MONDAY.isoformat(), "period": "pm"}, MONDAY
    )
    service.add_exception(gp, {"start_date": (MONDAY + dt.timedelta(days=8)).isoformat()}, MONDAY)
    offers = service.effective([gp], MONDAY, MONDAY + dt.timedelta(days=13))[gp.id]
    assert (MONDAY, "am") in offers and (MONDAY, "pm") not in offers
    assert (MONDAY + dt.timedelta(days=1), "am") in offers
    assert (MONDAY + dt.timedelta(days=8), "am") not in offers


def test_a_one_off_half_day_is_offered_at_its_named_site(db, gp):
    service = AvailabilityService(db)
    laval = gp.sites[0]
    thursday = MONDAY + dt.timedelta(days=3)
    service.add_extra(gp, {"date": thursday.isoformat(), "period": "pm", "site_id": str(laval.id)}, MONDAY)
    offer = service.effective([gp], MONDAY, MONDAY + dt.timedelta(days=6))[gp.id][(thursday, "pm")]
    assert offer.site_id == laval.id and offer.level == "available"


def test_a_one_off_half_day_on_a_closed_half_day_or_a_holiday_is_refused(db, gp):
    service = AvailabilityService(db)
    laval = gp.sites[0]
    with pytest.raises(FieldErrors) as exc:
        service.add_extra(gp, {"date": "2027-03-06", "period": "pm", "site_id": str(laval.id)}, MONDAY)
    assert "n'ouvre pas" in exc.value.errors["date"]
    with pytest.raises(FieldErrors) as exc:
        service.add_extra(gp, {"date": "2027-05-01", "period": "am", "site_id": str(laval.id)}, MONDAY)
    assert "férié" in exc.value.errors["date"]


def test_public_holidays_and_days_outside_the_contract_are_never_offered(db, gp):
    service = AvailabilityService(db)
    every = {f"level_{d}-{p}": "available" for d in ("mon", "tue", "wed", "thu", "fri") for p in ("am", "pm")}
    service.save_pattern(gp, {"valid_from": "2027-04-26", **every}, today=dt.date(2027, 4, 1))
    gp.active_to = dt.date(2027, 5, 5)
    db.commit()
    offers = service.effective([gp], dt.date(2027, 4, 26), dt.date(2027, 5, 14))[gp.id]
    assert (dt.date(2027, 4, 30), "am") in offers
    assert all(d != dt.date(2027, 5, 1) for d, _ in offers)  # 1er mai
    assert all(d <= dt.date(2027, 5, 5) for d, _ in offers)


def test_an_interns_university_half_days_are_never_offered(db, demo):
    intern = db.scalar(select(Clinician).where(Clinician.role == "intern", Clinician.rpps.like("199%")).limit(1))
    service = AvailabilityService(db)
    start = max(intern.semester_start, dt.date.today())
    offers = service.effective([intern], start, start + dt.timedelta(days=13))[intern.id]
    blocked = set(intern.university_halfdays)
    assert offers, "the demo intern has a pattern"
    assert all(
        f"{('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun')[d.weekday()]}-{p}" not in blocked for d, p in offers
    )


ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:1
DTSTART;TZID=Europe/Paris:20270302T100000
DTEND;TZID=Europe/Paris:20270302T110000
SUMMARY:Dentiste
END:VEVENT
BEGIN:VEVENT
UID:2
DTSTART;VALUE=DATE:20270304
DTEND;VALUE=DATE:20270305
SUMMARY:Journée en famille
END:VEVENT
BEGIN:VEVENT
UID:3
DTSTART:20270301T150000Z
DTEND:20270301T153000Z
RRULE:FREQ=WEEKLY;COUNT=3
SUMMARY:Club
END:VEVENT
BEGIN:VEVENT
UID:4
DTSTART;TZID=Europe/Paris:20270305T090000
DTEND;TZID=Europe/Paris:20270305T100000
TRANSP:TRANSPARENT
SUMMARY:Libre
END:VEVENT
END:VCALENDAR
"""


def test_ics_busy_times_become_the_half_days_they_overlap():
    found = busy_halfdays(ICS.replace("\n", "\r\n").encode(), MONDAY, MONDAY + dt.timedelta(days=20))
    assert (dt.date(2027, 3, 2), "am") in found
    assert (dt.date(2027, 3, 4), "am") in found and (dt.date(2027, 3, 4), "pm") in found  # all day
    assert [(d, p) for d, p in found if d.weekday() == 0] == [
        (dt.date(2027, 3, 1), "pm"),
        (dt.date(2027, 3, 8), "pm"),
        (dt.date(2027, 3, 15), "pm"),
    ]  # weekly rule
    assert (dt.date(2027, 3, 5), "am") not in found  # marked free


def test_a_file_that_is_not_a_calendar_is_refused_in_french():
    with pytest.raises(IcsError, match="calendrier"):
        busy_halfdays(b"hello world", MONDAY, MONDAY)


def test_site_targets_default_to_rooms_and_never_exceed_them(db, demo):
    laval = db.scalar(select(Site).where(Site.name == "Laval"))
    assert laval.target_for("mon-am") == 2 and laval.target_for("sun-pm") == 0
    laval.session_targets = {**laval.session_targets, "mon-am": 9}
    assert laval.target_for("mon-am") == laval.rooms
    db.rollback()


def test_patterns_are_versions_kept_as_rows(db, gp):
    service = AvailabilityService(db)
    _pattern(service, gp, MONDAY, **{"mon-am": "available"})
    _pattern(service, gp, MONDAY, **{"mon-pm": "available"})  # same date: that version is replaced
    rows = db.scalars(select(AvailabilityPattern).where(AvailabilityPattern.clinician_id == gp.id)).all()
    assert len(rows) == 1 and rows[0].levels == {"mon-pm": "available"}
