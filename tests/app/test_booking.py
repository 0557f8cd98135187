"""Booking rules, enforced by the service and, underneath, by the database itself."""

import datetime as dt
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.booking import services
from app.core.errors import Conflict, FieldErrors
from app.patients.models import Patient
from app.rota.models import Booking, RotaSession, Slot


def _free_slot(db, offset=0):
    now = dt.datetime.now(dt.UTC)
    row = db.execute(services.free_slots_query(start=now + dt.timedelta(days=2)).offset(offset).limit(1)).first()
    assert row is not None, "the demo has free slots"
    return row[0]


def _unbooked_patient(db, skip=0):
    busy = select(Booking.patient_id).where(Booking.status == "booked")
    return db.scalar(select(Patient).where(Patient.id.not_in(busy)).order_by(Patient.reference).offset(skip).limit(1))


def test_a_free_slot_is_booked_and_leaves_the_free_list(db, demo):
    slot, patient = _free_slot(db), _unbooked_patient(db)
    booking = services.book(db, slot.id, patient.id, "office", "tests")
    assert booking.status == "booked" and booking.starts_at == slot.starts_at
    free_ids = {s.id for s, _ in db.execute(services.free_slots_query(start=slot.starts_at, end=slot.ends_at))}
    assert slot.id not in free_ids


def test_a_taken_slot_is_refused_with_a_clear_message(db, demo):
    slot = _free_slot(db, 1)
    services.book(db, slot.id, _unbooked_patient(db, 1).id, "office", "tests")
    with pytest.raises(Conflict, match="vient d'être réservé"):
        services.book(db, slot.id, _unbooked_patient(db, 2).id, "office", "tests")


def test_the_database_itself_refuses_two_live_bookings_on_one_slot(db, demo):
    slot = _free_slot(db, 2)
    db.add(Booking.for_slot(slot, _unbooked_patient(db, 3).id))
    db.commit()
    db.add(Booking.for_slot(slot, _unbooked_patient(db, 4).id))
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


def test_the_database_itself_refuses_one_patient_in_two_overlapping_consultations(db, demo):
    now = dt.datetime.now(dt.UTC)
    free = [s for s, _ in db.execute(services.free_slots_query(start=now + dt.timedelta(days=1)))]
    by_start: dict = {}
    for slot in free:
        by_start.setdefault(slot.starts_at, []).append(slot)
    pair = next(v for v in by_start.values() if len({s.session_id for s in v}) >= 2)
    first, other = pair[0], next(s for s in pair if s.session_id != pair[0].session_id)
    patient = _unbooked_patient(db, 5)
    services.book(db, first.id, patient.id, "office", "tests")
    with pytest.raises(Conflict, match="chevauche"):
        services.book(db, other.id, patient.id, "office", "tests")
    # And underneath the service, the database says no too.
    db.add(Booking.for_slot(other, patient.id))
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


def test_the_database_itself_refuses_a_booking_on_a_cancelled_session(db, demo):
    slot = _free_slot(db, 4)
    rs = db.get(RotaSession, slot.session_id)
    rs.status = "cancelled"
    db.commit()
    try:
        with pytest.raises(Conflict, match="plus réservable"):
            services.book(db, slot.id, _unbooked_patient(db, 6).id, "office", "tests")
        db.add(Booking.for_slot(slot, _unbooked_patient(db, 6).id))
        with pytest.raises(IntegrityError):
            db.commit()
        db.rollback()
    finally:
        rs = db.get(RotaSession, slot.session_id)
        rs.status = "published"
        db.commit()


def test_a_past_slot_or_an_unknown_kind_is_refused(db, demo):
    past = db.scalar(select(Slot).where(Slot.starts_at < dt.datetime.now(dt.UTC)).limit(1))
    patient = _unbooked_patient(db, 7)
    if past is not None:
        with pytest.raises(Conflict):
            services.book(db, past.id, patient.id, "office", "tests")
    with pytest.raises(FieldErrors):
        services.book(db, _free_slot(db, 5).id, patient.id, "surgery", "tests")
    with pytest.raises(FieldErrors):
        services.book(db, uuid.uuid4(), patient.id, "office", "tests")


def test_a_booking_moves_in_one_step_and_keeps_its_id(db, demo):
    patient = _unbooked_patient(db, 8)
    booking = services.book(db, _free_slot(db, 6).id, patient.id, "office", "tests")
    target = _free_slot(db, 20)
    moved = services.move(db, booking, target.id, "tests")
    assert moved.id == booking.id and moved.slot_id == target.id and moved.starts_at == target.starts_at


def test_a_cancelled_booking_frees_its_slot_and_can_be_undone(db, demo):
    patient = _unbooked_patient(db, 9)
    slot = _free_slot(db, 7)
    booking = services.book(db, slot.id, patient.id, "office", "tests")
    with pytest.raises(FieldErrors):
        services.cancel(db, booking, "")
    services.cancel(db, booking, "patient", "déménagement")
    assert booking.status == "cancelled" and "demande du patient" in booking.cancel_reason
    assert slot.id in {s.id for s, _ in db.execute(services.free_slots_query(start=slot.starts_at, end=slot.ends_at))}
    services.undo_cancel(db, booking)
    assert booking.status == "booked"


def test_the_referring_doctors_slots_come_first(db, demo):
    patient = db.scalar(select(Patient).where(Patient.referring_clinician_id.is_not(None)).limit(1))
    found = services.proposals(db, patient, dt.datetime.now(dt.UTC))
    assert found
    doctors = [p.rota_session.clinician_id for p in found]
    if patient.referring_clinician_id in doctors:
        first_other = next((i for i, d in enumerate(doctors) if d != patient.referring_clinician_id), len(doctors))
        assert all(d == patient.referring_clinician_id for d in doctors[:first_other])
        assert found[0].why == "son médecin traitant"
    rest = [p.slot.starts_at for p in found if p.why != "son médecin traitant"]
    assert rest == sorted(rest)


def test_patients_are_found_by_part_of_the_name_without_accents_birth_date_or_nir(db, demo):
    patient = db.scalar(select(Patient).where(Patient.nir.is_not(None)).limit(1))
    part = patient.last_name[:4].upper().replace("É", "E")
    assert patient in services.search_patients(db, f"{part} {patient.first_name[:3].lower()}", limit=50)
    assert patient in services.search_patients(db, patient.birth_date.strftime("%d/%m/%Y"), limit=50)
    assert services.search_patients(db, patient.nir) == [patient]
    assert services.search_patients(db, "x") == []


def test_a_patient_who_wants_an_earlier_slot_is_proposed_one_when_it_frees(db, demo):
    now = dt.datetime.now(dt.UTC)
    late = _free_slot(db, 40)
    rs = db.get(RotaSession, late.session_id)
    patient = db.scalar(
        select(Patient)
        .where(Patient.ald.is_(True), Patient.id.not_in(select(Booking.patient_id).where(Booking.status == "booked")))
        .limit(1)
    )
    booking = services.book(db, late.id, patient.id, "office", "tests")
    booking.wants_earlier = True
    db.commit()
    calls = services.earlier_slot_calls(db, now)
    mine = [(b, s) for b, s in calls if b.id == booking.id]
    assert mine and mine[0][1].starts_at < booking.starts_at
    assert (
        db.get(RotaSession, mine[0][1].session_id).site_id == rs.site_id
        or db.get(RotaSession, mine[0][1].session_id).clinician_id == rs.clinician_id
    )
