"""A request's life on the patient page: waiting list, exclusion with a reason, calls and
suspension, the declaration of choice of the referring doctor, 'declared'."""

import datetime as dt
import uuid

from sqlalchemy import select

from app.clinicians.models import Clinician
from app.patients.models import Patient, PatientEvent
from tests.conftest import csrf_token


def _new_patient(db, **over):
    from app.patients.models import Channel
    from app.patients.services import submit_request
    from app.web.territory import current_territory

    data = {
        "last_name": f"Cycle{uuid.uuid4().hex[:5]}",
        "first_name": "Léa",
        "birth_date": "1980-01-01",
        "sex": "F",
        "commune": "Laval",
        "phone": "06 44 44 44 44",
        **over,
    }
    return submit_request(db, data, current_territory(), channel=Channel.DESK, actor="t").patient


def _post(client, url, data, page_url):
    page = client.get(page_url)
    return client.post(url, data={**data, "_csrf_token": csrf_token(page.text)}, follow_redirects=True)


def _history(db, patient):
    db.rollback()
    db.expire_all()
    return [
        e.to_status
        for e in db.scalars(
            select(PatientEvent).where(PatientEvent.patient_id == patient.id).order_by(PatientEvent.occurred_at)
        )
    ]


def test_a_request_goes_to_the_waiting_list_then_is_assigned_declared_with_history(as_user, db):
    patient = _new_patient(db)
    client = as_user("secretariat1")
    url = f"/patients/{patient.id}"
    _post(client, f"{url}/status", {"to": "waiting"}, url)
    doctor = db.scalar(select(Clinician).where(Clinician.role == "retired_gp", Clinician.rpps.like("199%")).limit(1))
    db.rollback()
    db.expire_all()
    from app.db.engine import immediate

    immediate(db)
    patient = db.get(Patient, patient.id)
    patient.referring_clinician_id, patient.status = doctor.id, "assigned"  # as `smp match --confirm` does
    db.commit()
    declaration = client.get(f"{url}/declaration")
    assert declaration.status_code == 200
    assert doctor.rpps in declaration.text and patient.last_name.upper() in declaration.text
    assert "Signature du patient" in declaration.text
    done = _post(client, f"{url}/status", {"to": "declared"}, url)
    assert "Déclaration signée" in done.text
    assert _history(db, patient)[:2] == ["requested", "waiting"] and _history(db, patient)[-1] == "declared"


def test_an_exclusion_needs_a_reason_which_is_kept(as_user, db):
    patient = _new_patient(db)
    client = as_user("secretariat1")
    url = f"/patients/{patient.id}"
    refused = _post(client, f"{url}/status", {"to": "excluded"}, url)
    assert "motif" in refused.text
    _post(client, f"{url}/status", {"to": "excluded", "reason": "has_gp", "note": "Dr X à Évron"}, url)
    db.rollback()
    db.expire_all()
    patient = db.get(Patient, patient.id)
    assert patient.status == "excluded" and "a déjà un médecin traitant" in patient.exclusion_reason


def test_an_impossible_transition_is_refused(as_user, db):
    patient = _new_patient(db)
    client = as_user("secretariat1")
    response = _post(client, f"/patients/{patient.id}/status", {"to": "declared"}, f"/patients/{patient.id}")
    assert "pas possible" in response.text
    db.rollback()
    db.expire_all()
    assert db.get(Patient, patient.id).status == "requested"


def test_three_failed_calls_suspend_the_request_and_a_successful_one_lifts_it(as_user, db):
    patient = _new_patient(db)
    client = as_user("secretariat2")
    url = f"/patients/{patient.id}"
    for outcome in ("no_answer", "message_left"):
        _post(client, f"{url}/contacts", {"outcome": outcome}, url)
    third = _post(client, f"{url}/contacts", {"outcome": "wrong_number"}, url)
    assert "la demande est suspendue" in third.text
    db.rollback()
    db.expire_all()
    assert db.get(Patient, patient.id).suspended_at is not None
    assert patient.last_name.upper() in client.get("/patients/checks").text
    _post(client, f"{url}/contacts", {"outcome": "reached", "note": "rappelle lundi"}, url)
    db.rollback()
    db.expire_all()
    assert db.get(Patient, patient.id).suspended_at is None
    assert patient.status == "requested"  # nothing deleted, nothing else changed


def test_requests_waiting_more_than_six_months_are_on_the_check_list(as_user, db):
    patient = _new_patient(db)
    db.rollback()
    from app.db.engine import immediate

    immediate(db)
    patient = db.get(Patient, patient.id)
    patient.requested_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=200)
    db.commit()
    assert patient.last_name.upper() in as_user("secretariat1").get("/patients/checks").text


def test_no_declaration_before_a_doctor_is_assigned(as_user, db):
    patient = _new_patient(db)
    assert as_user("secretariat1").get(f"/patients/{patient.id}/declaration").status_code == 409
