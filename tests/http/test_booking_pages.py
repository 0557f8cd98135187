"""The secretary's booking pages and the booking API, including 50 requests racing for one slot."""

import datetime as dt
import re
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.accounts.services import UserService
from app.booking import services
from app.patients.models import Patient
from app.rota.models import Booking
from tests.conftest import csrf_token


def _free_slot(db, offset=0):
    row = db.execute(
        services.free_slots_query(start=dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).offset(offset).limit(1)
    ).first()
    return row[0]


def _patients_without_booking(db, n, skip=0):
    busy = select(Booking.patient_id).where(Booking.status == "booked")
    return list(
        db.scalars(
            select(Patient).where(Patient.id.not_in(busy)).order_by(Patient.reference.desc()).offset(skip).limit(n)
        )
    )


@pytest.fixture
def token(db, demo):
    account = db.scalar(select(User).where(User.username == "secretariat1"))
    return UserService(session=db).issue_token(account, "tests")


def test_typing_part_of_a_name_finds_the_patient_and_two_clicks_book_the_first_proposal(as_user, db):
    patient = _patients_without_booking(db, 1, skip=30)[0]
    client = as_user("secretariat1")
    typed = patient.last_name[:3].lower()
    results = client.get(
        "/bookings", params={"q": typed}, headers={"HX-Request": "true", "HX-Target": "patient-results"}
    )
    assert "<html" not in results.text  # an htmx fragment, not a page
    assert (
        f"/bookings/new?patient={patient.id}"
        in client.get("/bookings", params={"q": f"{typed} {patient.first_name}"}).text
    )
    page = client.get("/bookings/new", params={"patient": str(patient.id)})  # click 1
    first_slot = re.search(r'name="slot" value="([^"]+)"', page.text).group(1)
    booked = client.post(
        "/bookings",
        data={"patient": str(patient.id), "slot": first_slot, "kind": "office", "_csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )  # click 2
    assert booked.status_code in (302, 303)
    detail = client.get(booked.headers["location"])
    assert "Rendez-vous réservé" in detail.text and "Imprimer la convocation" in detail.text
    db.rollback()
    assert (
        db.scalar(
            select(func.count())
            .select_from(Booking)
            .where(Booking.patient_id == patient.id, Booking.status == "booked")
        )
        == 1
    )


def test_a_slot_taken_meanwhile_shows_the_refusal_and_other_slots(as_user, db):
    a, b = _patients_without_booking(db, 2, skip=40)
    slot = _free_slot(db, 3)
    services.book(db, slot.id, a.id, "office", "someone-else")
    client = as_user("secretariat2")
    page = client.get("/bookings/new", params={"patient": str(b.id)})
    refused = client.post(
        "/bookings",
        data={"patient": str(b.id), "slot": str(slot.id), "kind": "office", "_csrf_token": csrf_token(page.text)},
    )
    assert refused.status_code == 409
    assert "vient d&#39;être réservé" in refused.text or "vient d'être réservé" in refused.text
    assert 'name="slot"' in refused.text  # the other proposals are still there


def test_move_cancel_undo_and_the_day_list(as_user, db):
    patient = _patients_without_booking(db, 1, skip=50)[0]
    booking = services.book(db, _free_slot(db, 5).id, patient.id, "office", "tests")
    client = as_user("secretariat1")
    move_page = client.get(f"/bookings/{booking.id}/move")
    target = re.search(r'name="slot" value="([^"]+)"', move_page.text).group(1)
    moved = client.post(
        f"/bookings/{booking.id}/move",
        data={"slot": target, "_csrf_token": csrf_token(move_page.text)},
        follow_redirects=True,
    )
    assert "Rendez-vous déplacé" in moved.text
    cancel = client.post(
        f"/bookings/{booking.id}/cancel",
        data={"reason": "patient", "_csrf_token": csrf_token(moved.text)},
        follow_redirects=True,
    )
    assert "Rendez-vous annulé" in cancel.text and "Annuler l'annulation" in cancel.text.replace("&#39;", "'")
    undone = client.post(
        f"/bookings/{booking.id}/undo", data={"_csrf_token": csrf_token(cancel.text)}, follow_redirects=True
    )
    assert "rétabli" in undone.text
    db.rollback()
    db.expire_all()
    booking = db.get(Booking, booking.id)
    assert booking.status == "booked" and str(booking.slot_id) == target
    assert (
        patient.last_name.upper()
        in client.get(
            "/bookings/day",
            params={
                "date": booking.starts_at.astimezone(services.PARIS).date().isoformat(),
                "clinician": str(_clinician_of(db, booking)),
            },
        ).text
    )


def _clinician_of(db, booking):
    from app.rota.models import RotaSession, Slot

    return db.get(RotaSession, db.get(Slot, booking.slot_id).session_id).clinician_id


def test_a_cancellation_needs_a_reason(as_user, db):
    patient = _patients_without_booking(db, 1, skip=60)[0]
    booking = services.book(db, _free_slot(db, 7).id, patient.id, "office", "tests")
    client = as_user("secretariat1")
    page = client.get(f"/bookings/{booking.id}")
    response = client.post(f"/bookings/{booking.id}/cancel", data={"reason": "", "_csrf_token": csrf_token(page.text)})
    assert response.status_code == 400 and "motif" in response.text


def test_the_week_view_and_the_printable_note(as_user, db):
    patient = _patients_without_booking(db, 1, skip=70)[0]
    booking = services.book(db, _free_slot(db, 9).id, patient.id, "teleconsultation", "tests")
    client = as_user("secretariat1")
    assert "réservés / créneaux" in client.get("/bookings/week").text
    note = client.get(f"/bookings/{booking.id}/note").text
    assert patient.last_name in note and "carte Vitale" in note
    assert "ALD" not in note and (patient.nir or "NIR") not in note


@pytest.mark.parametrize("username", ["medecin", "comite", "pharmacie"])
def test_booking_pages_are_for_the_secretariat_and_coordination_only(as_user, username):
    assert as_user(username).get("/bookings").status_code == 403


def test_the_api_lists_free_slots_books_with_201_refuses_with_409_and_cancels(client, db, token):
    headers = {"Authorization": f"Bearer {token}"}
    day = (dt.date.today() + dt.timedelta(days=4)).isoformat()
    slots = client.get("/api/slots", params={"date_from": day, "date_to": day, "free": "true"}, headers=headers).json()
    assert slots and all(s["free"] for s in slots)
    a, b = _patients_without_booking(db, 2, skip=80)
    created = client.post(
        "/api/bookings", json={"slot": slots[0]["id"], "patient": str(a.id), "kind": "office"}, headers=headers
    )
    assert created.status_code == 201 and created.json()["status"] == "booked"
    taken = client.post("/api/bookings", json={"slot": slots[0]["id"], "patient": str(b.id)}, headers=headers)
    assert taken.status_code == 409 and "réservé" in taken.json()["detail"]
    cancelled = client.delete(f"/api/bookings/{created.json()['id']}", params={"reason": "patient"}, headers=headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = client.post("/api/bookings", json={"slot": slots[0]["id"], "patient": str(b.id)}, headers=headers)
    assert again.status_code == 201


def test_a_booking_through_the_api_audits_the_patient_read_once_even_when_it_is_refused(client, db, token):
    """The read of the patient goes with the booking's own commit (not in a second transaction);
    a refused booking read the patient too, and says so."""
    from app.audit.models import AuditEntry

    def reads(patient_id):
        db.rollback()
        return db.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.object_id == str(patient_id), AuditEntry.action == "read")
        )

    headers = {"Authorization": f"Bearer {token}"}
    slot = _free_slot(db, 13)
    a, b = _patients_without_booking(db, 2, skip=150)
    before_a, before_b = reads(a.id), reads(b.id)
    created = client.post("/api/bookings", json={"slot": str(slot.id), "patient": str(a.id)}, headers=headers)
    assert created.status_code == 201
    assert reads(a.id) == before_a + 1
    taken = client.post("/api/bookings", json={"slot": str(slot.id), "patient": str(b.id)}, headers=headers)
    assert taken.status_code == 409
    assert reads(b.id) == before_b + 1


def test_fifty_concurrent_requests_for_one_slot_give_one_201_and_49_clear_409s(live_server, db, token):
    slot = _free_slot(db, 11)
    patients = _patients_without_booking(db, 50, skip=100)
    assert len(patients) == 50

    def attempt(patient):
        with httpx.Client(base_url=live_server, timeout=60) as http:
            r = http.post(
                "/api/bookings",
                json={"slot": str(slot.id), "patient": str(patient.id)},
                headers={"Authorization": f"Bearer {token}"},
            )
            return r.status_code, r.json()

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(attempt, patients))
    codes = [code for code, _ in results]
    assert codes.count(201) == 1, codes
    assert codes.count(409) == 49, codes
    assert all("réservé" in body["detail"] for code, body in results if code == 409)
    db.rollback()
    assert (
        db.scalar(
            select(func.count()).select_from(Booking).where(Booking.slot_id == slot.id, Booking.status == "booked")
        )
        == 1
    )


def test_the_secretary_is_told_when_a_booked_patient_cannot_receive_confirmations_or_reminders(as_user, db):
    unreachable, by_sms, by_email = _patients_without_booking(db, 3, skip=60)
    unreachable.email, unreachable.phone = None, "02 43 00 00 00"  # a landline: no SMS
    by_sms.email, by_sms.phone = None, "06 12 34 56 78"
    by_email.email, by_email.phone = "patient@example.org", ""
    db.commit()
    warning = "il ne recevra ni confirmation ni rappel"
    client = as_user("secretariat1")
    for offset, (patient, warned) in enumerate(((unreachable, True), (by_sms, False), (by_email, False))):
        booking = services.book(db, _free_slot(db, 10 + offset).id, patient.id, "office", "secretariat1")
        db.commit()
        assert (warning in client.get(f"/bookings/{booking.id}").text) is warned, patient.phone


def test_a_clinician_sees_the_patients_booked_into_their_own_sessions_and_nobody_elses(as_user, db):
    me = db.scalar(select(User).where(User.username == "medecin"))
    other = db.scalar(select(User).where(User.username == "interne"))
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)

    def a_free_slot_of(clinician_id):
        return db.execute(services.free_slots_query(start=soon, clinician_id=clinician_id).limit(1)).first()[0]

    mine, theirs = _patients_without_booking(db, 2, skip=70)
    my_booking = services.book(db, a_free_slot_of(me.clinician_id).id, mine.id, "office", "secretariat1")
    their_booking = services.book(db, a_free_slot_of(other.clinician_id).id, theirs.id, "office", "secretariat1")
    db.commit()
    day = my_booking.starts_at.astimezone(services.PARIS).date()
    client = as_user("medecin")
    page = client.get("/my/day", params={"date": day.isoformat()})
    assert page.status_code == 200
    assert mine.last_name.upper() in page.text and "Pour déplacer ou annuler, voyez le secrétariat" in page.text
    assert mine.phone in page.text
    their_day = their_booking.starts_at.astimezone(services.PARIS).date()
    # By phone number, not surname: another patient of this clinician may share the surname.
    assert theirs.phone and theirs.phone not in client.get("/my/day", params={"date": their_day.isoformat()}).text
    assert "Vous n'avez pas de séance publiée" in client.get("/my/day", params={"date": "2020-01-06"}).text
    assert f"/bookings/{my_booking.id}" not in page.text  # clinicians read; the secretariat changes bookings
    secretary = as_user("secretariat1")
    assert secretary.get("/my/day").status_code == 403
    staff_list = secretary.get("/bookings/day", params={"date": day.isoformat(), "clinician": str(me.clinician_id)})
    assert f"/bookings/{my_booking.id}" in staff_list.text


def test_a_moved_appointment_downloads_with_the_same_uid_and_a_higher_sequence(as_user, db):
    from icalendar import Calendar

    patient = _patients_without_booking(db, 1, skip=80)[0]
    booking = services.book(db, _free_slot(db, 20).id, patient.id, "office", "secretariat1")
    db.commit()
    client = as_user("secretariat1")

    def event():
        response = client.get(f"/bookings/{booking.id}/appointment.ics")
        assert response.status_code == 200
        return Calendar.from_ical(response.content).walk("VEVENT")[0]

    before = event()
    time.sleep(1.1)  # SEQUENCE counts whole seconds since the booking was made
    services.move(db, booking, _free_slot(db, 30).id, "secretariat1")
    db.commit()
    after = event()
    assert str(after["UID"]) == str(before["UID"])
    assert after.decoded("DTSTART") != before.decoded("DTSTART")
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
