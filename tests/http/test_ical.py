"""iCal feeds: valid for real clients, stable UIDs, SEQUENCE on change, revocable, no patient data."""

import datetime as dt
import re
import uuid
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
import vobject
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.security import hash_password
from app.calendars import services
from app.clinicians.models import Clinician
from app.core.identifiers import luhn_check_digit
from app.patients.models import Patient
from app.rota.models import Booking, RotaSession, Slot
from app.rota.times import bounds
from app.sites.models import Site
from tests.conftest import csrf_token

PARIS = ZoneInfo("Europe/Paris")
BEFORE_DST = dt.date(2027, 3, 26)  # Friday, winter time (UTC+1)
AFTER_DST = dt.date(2027, 3, 29)  # Monday, summer time (UTC+2)


@pytest.fixture
def gp_with_sessions(db, demo):
    """A GP with an account and three sessions around the 2027 daylight-saving change."""
    laval = db.scalar(select(Site).where(Site.name == "Laval"))
    body = "166" + str(uuid.uuid4().int)[:7]
    gp = Clinician(
        role="retired_gp",
        first_name="Agenda",
        last_name=f"Test{uuid.uuid4().hex[:5]}",
        rpps=body + luhn_check_digit(body),
        home_commune_insee="53130",
        active_from=dt.date(2020, 1, 1),
        sites=[laval],
        main_site_id=laval.id,
    )
    db.add(gp)
    db.flush()
    account = User(
        username=f"agenda.{uuid.uuid4().hex[:6]}",
        role="clinician",
        password_hash=hash_password("x" * 12),
        clinician_id=gp.id,
        full_name=gp.display_name,
    )
    db.add(account)
    sessions = []
    now = dt.datetime.now(dt.UTC)
    for day, period in ((BEFORE_DST, "am"), (AFTER_DST, "am"), (AFTER_DST, "pm")):
        starts, ends = bounds(day, period)
        rs = RotaSession(
            site_id=laval.id,
            clinician_id=gp.id,
            date=day,
            period=period,
            starts_at=starts,
            ends_at=ends,
            published_at=now,
        )
        db.add(rs)
        db.flush()
        db.add(Slot(session_id=rs.id, starts_at=starts, ends_at=starts + dt.timedelta(minutes=20)))
        sessions.append(rs)
    db.commit()
    feed = services.create_feed(db, account, "clinician")
    return {
        "gp": gp,
        "account": account,
        "sessions": sessions,
        "feed": feed,
        "site": laval,
        "url": f"/ical/{services.feed_token(feed.id)}.ics",
    }


def test_a_feed_is_parsed_by_three_independent_libraries_and_every_event_round_trips(client, gp_with_sessions):
    response = client.get(gp_with_sessions["url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    body = response.content
    cal = icalendar.Calendar.from_ical(body)
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    expected = {f"{s.id}@smp-planner": s for s in gp_with_sessions["sessions"]}
    assert set(events) == set(expected)
    for uid, session in expected.items():
        event = events[uid]
        assert event.decoded("DTSTART") == session.starts_at.astimezone(PARIS)
        assert event.decoded("DTSTART").tzinfo is not None
        assert int(event["SEQUENCE"]) == session.sequence
    # recurring-ical-events expands the same calendar to the same three occurrences.
    occurrences = recurring_ical_events.of(cal).between(dt.date(2027, 3, 1), dt.date(2027, 4, 30))
    assert sorted(str(o["UID"]) for o in occurrences) == sorted(expected)
    # vobject, a separate parser, reads the same events at the same instants.
    parsed = vobject.readOne(body.decode("utf-8"))
    starts = sorted(v.dtstart.value.astimezone(dt.UTC) for v in parsed.vevent_list)
    assert starts == sorted(s.starts_at.astimezone(dt.UTC) for s in expected.values())


def test_sessions_keep_their_local_time_across_the_daylight_saving_change(client, gp_with_sessions):
    body = client.get(gp_with_sessions["url"]).text
    assert "DTSTART;TZID=Europe/Paris:20270326T090000" in body
    assert "DTSTART;TZID=Europe/Paris:20270329T090000" in body
    cal = icalendar.Calendar.from_ical(body)
    utc = sorted(e.decoded("DTSTART").astimezone(dt.UTC) for e in cal.walk("VEVENT"))
    assert utc[0].hour == 8 and utc[1].hour == 7  # 09:00 in winter = 08:00 UTC, in summer = 07:00 UTC


def test_the_calendar_has_what_subscribing_clients_need(client, gp_with_sessions):
    body = client.get(gp_with_sessions["url"]).content
    text = body.decode()
    for needed in (
        "PRODID:",
        "VERSION:2.0",
        "BEGIN:VTIMEZONE",
        "TZID:Europe/Paris",
        "RRULE:FREQ=YEARLY",
        "X-WR-CALNAME:SMP",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
        "Dernière publication",
        "DTSTAMP:",
    ):
        assert needed in text, needed
    lines = body.split(b"\r\n")
    assert b"\n" not in b"".join(lines)  # CRLF everywhere
    assert max(len(line) for line in lines) <= 75


def test_a_moved_session_keeps_its_uid_and_its_sequence_goes_up(client, db, gp_with_sessions):
    session = gp_with_sessions["sessions"][1]
    other = db.scalar(select(Site).where(Site.name == "Mayenne"))
    gp = gp_with_sessions["gp"]
    gp.sites = [gp_with_sessions["site"], other]
    db.commit()
    before = icalendar.Calendar.from_ical(client.get(gp_with_sessions["url"]).content)
    uid = f"{session.id}@smp-planner"
    assert int(next(e for e in before.walk("VEVENT") if str(e["UID"]) == uid)["SEQUENCE"]) == 0
    # Move it the way publication does (the publication path itself is tested in test_rota_workflow).
    from app.rota.drafts import _close_slots, _make_slots

    _close_slots(db, session, "Séance déplacée vers Mayenne")
    session.site_id, session.sequence = other.id, session.sequence + 1
    db.flush()
    _make_slots(db, session, other.slot_minutes)
    db.commit()
    after = icalendar.Calendar.from_ical(client.get(gp_with_sessions["url"]).content)
    event = next(e for e in after.walk("VEVENT") if str(e["UID"]) == uid)
    assert int(event["SEQUENCE"]) == 1 and "Mayenne" in str(event["LOCATION"])


def test_a_cancelled_session_stays_30_days_as_cancelled(client, db, gp_with_sessions):
    session = gp_with_sessions["sessions"][2]
    session.status, session.cancelled_at, session.sequence = "cancelled", dt.datetime.now(dt.UTC), 1
    db.commit()
    cal = icalendar.Calendar.from_ical(client.get(gp_with_sessions["url"]).content)
    event = next(e for e in cal.walk("VEVENT") if str(e["UID"]) == f"{session.id}@smp-planner")
    assert str(event["STATUS"]) == "CANCELLED" and str(event["SUMMARY"]).startswith("Annulé")
    session.cancelled_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=31)
    db.commit()
    assert f"{session.id}@smp-planner" not in client.get(gp_with_sessions["url"]).text


def test_a_feed_shows_how_many_consultations_are_booked_but_never_who(client, db, gp_with_sessions):
    session = gp_with_sessions["sessions"][0]
    slot = db.scalar(select(Slot).where(Slot.session_id == session.id))
    patient = db.scalar(select(Patient).where(Patient.nir.is_not(None)).limit(1))
    db.add(Booking.for_slot(slot, patient.id))
    db.commit()
    text = client.get(gp_with_sessions["url"]).text
    unfolded = text.replace("\r\n ", "")
    assert "1 consultation réservée" in unfolded
    for secret in (patient.last_name, patient.first_name, patient.nir, patient.phone, patient.reference):
        assert secret not in unfolded


def test_no_feed_of_the_demo_contains_any_patient_name(client, db, demo):
    from app.accounts.models import User as U

    coordinator = db.scalar(select(U).where(U.username == "coordination"))
    feed = services.create_feed(db, coordinator, "rota")
    text = client.get(f"/ical/{services.feed_token(feed.id)}.ics").text.replace("\r\n ", "")
    assert text.count("BEGIN:VEVENT") > 50
    clinicians = {f"{first} {last}" for first, last in db.execute(select(Clinician.first_name, Clinician.last_name))}
    for first, last, ref, phone, nir in db.execute(
        select(Patient.first_name, Patient.last_name, Patient.reference, Patient.phone, Patient.nir)
    ):
        for identity in (f"{first} {last}", f"{last} {first}", f"{last.upper()} {first}"):
            # Synthetic names can coincide with a clinician's: only a non-clinician identity is a leak.
            assert identity in clinicians or identity not in text
        assert ref not in text and (not phone or phone not in text) and (not nir or nir not in text)


def test_an_intern_feed_names_the_supervisor_on_duty(client, db, demo):
    intern_account = db.scalar(select(User).where(User.username == "interne"))
    published = db.scalar(
        select(RotaSession)
        .where(RotaSession.clinician_id == intern_account.clinician_id, RotaSession.status == "published")
        .limit(1)
    )
    assert published is not None, "the demo rota gives the intern sessions"
    feed = services.create_feed(db, intern_account, "clinician")
    text = client.get(f"/ical/{services.feed_token(feed.id)}.ics").text.replace("\r\n ", "")
    assert "Supervision : Dr" in text


def test_if_none_match_gets_a_304_and_a_change_gets_a_new_etag(client, db, gp_with_sessions):
    first = client.get(gp_with_sessions["url"])
    etag = first.headers["etag"]
    assert "max-age" in first.headers["cache-control"]
    again = client.get(gp_with_sessions["url"], headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    session = gp_with_sessions["sessions"][0]
    session.sequence += 1
    db.commit()
    changed = client.get(gp_with_sessions["url"], headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_a_revoked_or_unknown_token_is_a_404_and_regenerating_gives_a_new_working_url(client, db, gp_with_sessions):
    url = gp_with_sessions["url"]
    account = gp_with_sessions["account"]
    new = services.regenerate(db, account, gp_with_sessions["feed"].id)
    assert client.get(url).status_code == 404
    assert client.get(f"/ical/{services.feed_token(new.id)}.ics").status_code == 200
    services.revoke(db, account, new.id)
    assert client.get(f"/ical/{services.feed_token(new.id)}.ics").status_code == 404
    assert client.get("/ical/not-a-token.ics").status_code == 404
    assert client.get("/ical/whatever").status_code == 404


def test_tokens_are_stored_only_as_digests(db, gp_with_sessions):
    token = services.feed_token(gp_with_sessions["feed"].id)
    db.refresh(gp_with_sessions["feed"])
    assert gp_with_sessions["feed"].token_hash == services.token_hash(token) != token


def test_the_profile_shows_the_url_with_a_copy_button_and_a_qr_code_and_can_revoke(as_user, db):
    client = as_user("medecin")
    page = client.get("/profile")
    created = client.post(
        "/profile/calendars", data={"kind": "clinician", "_csrf_token": csrf_token(page.text)}, follow_redirects=True
    )
    url = re.search(r'class="feed-url" value="([^"]+)"', created.text).group(1)
    assert url.startswith("http://127.0.0.1:8000/ical/") and url.endswith(".ics")
    assert "data-copy=" in created.text and "<svg" in created.text and "QR code" in created.text
    path = url.removeprefix("http://127.0.0.1:8000")
    assert client.get(path).status_code == 200
    feed_id = re.search(r"/profile/calendars/([0-9a-f-]+)/revoke", created.text).group(1)
    client.post(f"/profile/calendars/{feed_id}/revoke", data={"_csrf_token": csrf_token(created.text)})
    assert client.get(path).status_code == 404


def test_a_user_cannot_revoke_someone_elses_feed(client, db, gp_with_sessions, as_user):
    other = as_user("medecin")
    page = other.get("/profile")
    response = other.post(
        f"/profile/calendars/{gp_with_sessions['feed'].id}/revoke", data={"_csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 404
    assert client.get(gp_with_sessions["url"]).status_code == 200


def test_only_staff_get_site_and_whole_rota_feeds(as_user):
    client = as_user("medecin")
    page = client.get("/profile")
    refused = client.post(
        "/profile/calendars", data={"kind": "rota", "_csrf_token": csrf_token(page.text)}, follow_redirects=True
    )
    assert "n'est pas disponible" in refused.text.replace("&#39;", "'")


def test_the_help_page_explains_google_outlook_and_apple_and_googles_delay(client):
    text = client.get("/help/calendars").text
    assert "Google Agenda" in text and "Outlook" in text and "Apple" in text and "24 heures" in text


def test_smp_ical_url_prints_a_working_feed_url(client, gp_with_sessions):
    from tests.app.test_cli import smp

    out = smp("ical", "url", "--clinician", gp_with_sessions["gp"].rpps)
    assert out.returncode == 0, out.stderr
    url = out.stdout.strip()
    assert client.get(url.removeprefix("http://127.0.0.1:8000")).status_code == 200
    unknown = smp("ical", "url", "--clinician", "00000000000")
    assert unknown.returncode != 0


def test_login_is_not_needed_for_a_feed_but_is_for_the_profile(client, gp_with_sessions):
    assert client.get(gp_with_sessions["url"]).status_code == 200
    assert client.get("/profile", follow_redirects=False).status_code in (302, 303)
