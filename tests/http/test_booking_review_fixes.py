"""Defects found in the second review, each pinned by a test."""

import datetime as dt

import pytest
from sqlalchemy import select

from app.booking import services
from app.core.errors import Conflict
from app.db.engine import session_scope
from app.patients.models import Patient
from app.rota.models import Booking, Slot


def _free(db, offset):
    return db.execute(
        services.free_slots_query(start=dt.datetime.now(dt.UTC) + dt.timedelta(days=5)).offset(offset).limit(1)
    ).first()[0]


def _patient(db, skip):
    busy = select(Booking.patient_id).where(Booking.status == "booked")
    return db.scalar(select(Patient).where(Patient.id.not_in(busy)).order_by(Patient.reference).offset(skip).limit(1))


def test_the_day_list_filter_form_with_its_empty_selects_works(as_user):
    client = as_user("secretariat1")
    assert client.get("/bookings/day", params={"date": "", "site": "", "clinician": ""}).status_code == 200
    assert client.get("/bookings/week", params={"site": "", "week": ""}).status_code == 200


def test_a_future_booking_cannot_be_marked_no_show(db, demo):
    booking = services.book(db, _free(db, 60).id, _patient(db, 60).id, "office", "t")
    with pytest.raises(Conflict, match="pas encore commencé"):
        services.mark(db, booking, "no_show")


def test_a_move_after_another_secretary_cancelled_is_refused(engine, db, demo):
    booking = services.book(db, _free(db, 62).id, _patient(db, 62).id, "office", "t")
    with session_scope(engine) as other:
        services.cancel(other, other.get(Booking, booking.id), "patient")
    with pytest.raises(Conflict, match="plus actif"):
        services.move(db, booking, _free(db, 64).id, "t")  # the page loaded it before the cancellation
    db.rollback()
    db.expire_all()
    assert db.get(Booking, booking.id).status == "cancelled"


def test_the_day_list_hides_cancelled_slots(as_user, db, demo):
    from app.db.engine import immediate

    slot = _free(db, 66)
    immediate(db)  # a write after a read: take SQLite's write lock first, as the application does
    slot.status = "cancelled"
    db.commit()
    from app.rota.models import RotaSession

    rs = db.get(RotaSession, slot.session_id)
    day = rs.date.isoformat()
    page = as_user("secretariat1").get("/bookings/day", params={"date": day, "clinician": str(rs.clinician_id)}).text
    shown = page.count("<tr")
    open_slots = db.scalar(
        select(__import__("sqlalchemy").func.count())
        .select_from(Slot)
        .where(
            Slot.session_id.in_(
                select(RotaSession.id).where(
                    RotaSession.date == rs.date,
                    RotaSession.clinician_id == rs.clinician_id,
                    RotaSession.status == "published",
                )
            ),
            Slot.status == "open",
        )
    )
    assert shown == open_slots + page.count("<thead")  # one row per open slot, plus the header rows
    immediate(db)
    slot.status = "open"
    db.commit()


def test_no_note_or_ics_for_an_appointment_that_is_no_longer_planned(as_user, db, demo):
    booking = services.book(db, _free(db, 68).id, _patient(db, 68).id, "office", "t")
    services.cancel(db, booking, "patient")
    client = as_user("secretariat1")
    assert client.get(f"/bookings/{booking.id}/appointment.ics").status_code == 409
    assert client.get(f"/bookings/{booking.id}/note").status_code == 409


def test_extreme_dates_on_the_slots_api_are_not_a_crash(client, db, demo):
    from app.accounts.models import User
    from app.accounts.services import UserService

    account = db.scalar(select(User).where(User.username == "secretariat1"))
    headers = {"Authorization": f"Bearer {UserService(session=db).issue_token(account, 't')}"}
    response = client.get("/api/slots", params={"date_from": "0001-01-01", "date_to": "9999-12-31"}, headers=headers)
    assert response.status_code == 200


def test_a_confirmation_is_not_sent_for_a_booking_sent_to_rebook_since(db, demo):
    from app.notifications.models import OutboxMessage
    from app.notifications.service import _stale_reason

    booking = services.book(db, _free(db, 70).id, _patient(db, 70).id, "office", "t")
    message = db.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.booking_id == booking.id, OutboxMessage.kind == "confirmation")
        .limit(1)
    )
    booking.status = "to_rebook"
    db.commit()
    if message is not None:  # patients without e-mail or mobile get no message at all
        assert _stale_reason(db, message, dt.datetime.now(dt.UTC)) != ""


def test_a_booking_change_changes_the_feed_etag(client, db, demo):
    from app.accounts.models import User
    from app.calendars import services as feeds

    coordinator = db.scalar(select(User).where(User.username == "coordination"))
    feed = feeds.create_feed(db, coordinator, "rota")
    before = feeds.fingerprint(db, feed)
    booking = services.book(db, _free(db, 72).id, _patient(db, 72).id, "office", "t")
    services.cancel(db, booking, "patient")
    assert feeds.fingerprint(db, feed) != before
