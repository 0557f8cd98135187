"""Every read or change of a patient record leaves an audit row, with no identity in it."""

from contextlib import contextmanager

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

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


def _unread_patient(db, offset: int):
    """A patient far down the list, that no other test reads."""
    return db.scalar(select(Patient.id).order_by(Patient.reference.desc()).offset(offset).limit(1))


@contextmanager
def _read_then_write(engine, patient_id):
    """A session that read the patient, then took the write lock and wrote an export row."""
    from app.audit.recorder import record
    from app.db.engine import immediate, session_factory

    session = session_factory(engine)()
    try:
        with acting_as(Actor(None, "secretariat2")):
            session.get(Patient, patient_id)
            immediate(session)
            record(session, "export", "patient", patient_id, "test")
            yield session
    finally:
        session.close()


def test_a_writing_transaction_carries_the_reads_made_before_its_commit(engine, demo, db):
    """One commit for the change and the reads (on SQLite a second transaction would queue again
    for the write lock): the read row is there as soon as the change is committed."""
    from app.audit.recorder import has_pending_reads

    patient_id = _unread_patient(db, 11)
    with _read_then_write(engine, patient_id) as session:
        session.commit()
        assert not has_pending_reads(session)  # nothing left for the end of the request
    actions = sorted(r.action for r in _rows_for(db, patient_id) if r.actor == "secretariat2")
    assert actions == ["export", "read"]


def test_reads_put_in_a_commit_that_fails_are_written_all_the_same(engine, demo, db):
    """The commit took the reads, then failed (a name already taken): the change is abandoned,
    the reads are queued again and written at the end."""
    from app.accounts.models import User
    from app.audit.recorder import has_pending_reads, write_pending_reads

    patient_id = _unread_patient(db, 12)
    with _read_then_write(engine, patient_id) as session:
        session.add(User(username="admin", role="admin", full_name="doublon"))
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        assert has_pending_reads(session)
        write_pending_reads(session)
    actions = [r.action for r in _rows_for(db, patient_id) if r.actor == "secretariat2"]
    assert actions == ["read"]


def test_on_sqlite_a_read_only_commit_never_writes_the_reads(engine, demo, db):
    """A SQLite transaction that has not taken the write lock must not start writing at its commit
    (it could be refused as a stale reader): its reads wait for the end of the request."""
    from app.audit.recorder import has_pending_reads, write_pending_reads
    from app.db.engine import session_factory

    patient_id = _unread_patient(db, 13)
    session = session_factory(engine)()
    try:
        with acting_as(Actor(None, "secretariat2")):
            session.get(Patient, patient_id)
            session.commit()
            if engine.dialect.name == "sqlite":
                assert has_pending_reads(session)
                assert [r for r in _rows_for(db, patient_id) if r.actor == "secretariat2"] == []
            else:  # PostgreSQL: any transaction may write, the reads went with this commit
                assert not has_pending_reads(session)
            write_pending_reads(session)
    finally:
        session.close()
    assert [r.action for r in _rows_for(db, patient_id) if r.actor == "secretariat2"] == ["read"]
