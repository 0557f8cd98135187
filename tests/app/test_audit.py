"""Every read or change of a patient record leaves an audit row, with no identity in it."""

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.audit.recorder import Actor, acting_as
from app.db.engine import session_scope
from app.patients.models import Patient


def _rows_for(db, patient_id):
    db.rollback()  # end the fixture's snapshot so that rows committed since are visible
    return db.scalars(
        select(AuditEntry).where(AuditEntry.object_id == str(patient_id)).order_by(AuditEntry.occurred_at)
    ).all()


def test_loading_a_patient_writes_a_read_row_naming_who_read_it(engine, demo, db):
    # A patient no other test reads, so that the count below is this test's alone.
    patient_id = db.scalar(select(Patient.id).order_by(Patient.reference.desc()).offset(7).limit(1))
    with acting_as(Actor(None, "secretariat1")), session_scope(engine) as session:
        session.get(Patient, patient_id)
    rows = [r for r in _rows_for(db, patient_id) if r.action == "read" and r.actor == "secretariat1"]
    assert len(rows) == 1 and rows[0].object_type == "patient"


def test_a_change_is_logged_with_the_field_names_but_never_the_values(engine, demo, db):
    patient_id = db.scalar(select(Patient.id).where(Patient.email.is_not(None)).limit(1))
    with acting_as(Actor(None, "coordination")), session_scope(engine) as session:
        patient = session.get(Patient, patient_id)
        patient.phone = "06 99 99 99 99"
    update = [r for r in _rows_for(db, patient_id) if r.action == "update"]
    assert len(update) == 1
    assert "phone" in update[0].detail and "06 99" not in update[0].detail and update[0].actor == "coordination"


def test_a_change_that_is_rolled_back_leaves_no_update_row(engine, demo, db):
    patient_id = db.scalar(select(Patient.id).offset(3).limit(1))
    try:
        with acting_as(Actor(None, "coordination")), session_scope(engine) as session:
            session.get(Patient, patient_id).phone = "01 00 00 00 00"
            session.flush()
            raise RuntimeError("the request failed")
    except RuntimeError:
        pass
    assert [r for r in _rows_for(db, patient_id) if r.action == "update"] == []
    # …but the read did happen, and is recorded.
    assert [r for r in _rows_for(db, patient_id) if r.action == "read" and r.actor == "coordination"]


def test_counting_patients_for_a_report_reads_no_record(engine, demo, db):
    from sqlalchemy import func

    before = db.scalar(select(func.count()).select_from(AuditEntry))
    with session_scope(engine) as session:
        session.scalar(select(func.count()).select_from(Patient).where(Patient.ald.is_(True)))
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == before


def test_a_second_application_in_the_same_process_still_writes_the_reads(app, db):
    """advanced-alchemy numbers the session key of every configuration after the first: the end of
    request hook must use its own, or the second application's reads go unaudited."""
    from litestar.testing import TestClient
    from sqlalchemy import func, select

    from app.asgi import create_app
    from app.audit.models import AuditEntry
    from app.patients.models import Patient
    from tests.conftest import login

    db.rollback()
    patient_id = db.scalar(select(Patient.id).order_by(Patient.reference.desc()).limit(1))
    before = db.scalar(select(func.count()).where(AuditEntry.object_id == str(patient_id)))
    with TestClient(app=create_app(), base_url="http://testserver.local") as other:
        login(other, "secretariat1")
        assert other.get(f"/patients/{patient_id}").status_code == 200
    db.rollback()
    assert db.scalar(select(func.count()).where(AuditEntry.object_id == str(patient_id))) == before + 1
