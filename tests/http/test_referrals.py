"""Professionals refer patients: a partner sees only the referrals they sent."""

import uuid

from sqlalchemy import select

from app.accounts.models import User
from app.accounts.security import hash_password
from app.patients.models import Patient, PatientRequest
from tests.conftest import csrf_token, login


def _referral(**over):
    data = {
        "last_name": f"Oriente{uuid.uuid4().hex[:5]}",
        "first_name": "Paul",
        "birth_date": "1950-02-03",
        "sex": "M",
        "commune": "Mayenne",
        "phone": "06 12 12 12 12",
        "consent": "on",
        "c2s": "on",
    }
    data.update(over)
    return data


def _send(client, data):
    page = client.get("/referrals/new")
    return client.post("/referrals/new", data={**data, "_csrf_token": csrf_token(page.text)})


def test_a_pharmacist_refers_a_patient_and_finds_the_referral_in_her_list(as_user, db):
    client = as_user("pharmacie")
    data = _referral()
    done = _send(client, data)
    assert done.status_code in (200, 201) and "Numéro de la demande" in done.text
    db.rollback()
    patient = db.scalar(select(Patient).where(Patient.last_name == data["last_name"]))
    request = db.scalar(select(PatientRequest).where(PatientRequest.patient_id == patient.id))
    assert request.channel == "partner" and "Pharmacie du Centre" in request.referrer
    assert data["last_name"].upper() in client.get("/referrals").text


def test_another_partner_does_not_see_those_referrals(client, db, demo):
    data = _referral()
    other = User(
        username=f"infirmiere.{uuid.uuid4().hex[:5]}",
        role="partner",
        full_name="Cabinet infirmier",
        password_hash=hash_password("mot-de-passe-long"),
        organisation="Cabinet infirmier d'Évron",
    )
    db.add(other)
    db.commit()
    assert login(client, "pharmacie").status_code in (302, 303)
    _send(client, data)
    client.cookies.clear()
    assert login(client, other.username, "mot-de-passe-long").status_code in (302, 303)
    assert data["last_name"].upper() not in client.get("/referrals").text


def test_a_clinician_notes_a_patient_seen_in_unscheduled_care(as_user, db):
    data = _referral()
    _send(as_user("medecin"), data)
    db.rollback()
    patient = db.scalar(select(Patient).where(Patient.last_name == data["last_name"]))
    assert (
        db.scalar(select(PatientRequest.channel).where(PatientRequest.patient_id == patient.id)) == "unscheduled_care"
    )


def test_a_referral_needs_the_patients_agreement(as_user):
    refused = _send(as_user("pharmacie"), _referral(consent=""))
    assert refused.status_code == 400 and 'href="#f-consent"' in refused.text


def test_staff_and_committee_do_not_use_the_referral_pages(as_user):
    assert as_user("comite").get("/referrals").status_code == 403
    assert as_user("secretariat1").get("/referrals/new").status_code == 403
