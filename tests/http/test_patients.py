"""Desk entry of a patient: validation (NIR key, commune, contact), the audited patient page, the API."""

import uuid

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.core.identifiers import nir_key
from app.patients.models import Patient
from tests.conftest import post_form


def a_nir(sex="2", year=1958, month=3) -> str:
    body = f"{sex}{year % 100:02d}{month:02d}53130{uuid.uuid4().int % 1000:03d}"
    return body + nir_key(body)


def _form(**over):
    data = {
        "last_name": "Chesnel",
        "first_name": "Yvette",
        "birth_date": "1958-03-14",
        "sex": "F",
        "commune": "Laval",
        "phone": "06 12 34 56 78",
        "nir": a_nir(),
        "ald": "on",
    }
    data.update(over)
    return data


def _count(db):
    db.rollback()
    return db.scalar(select(func.count()).select_from(Patient))


def test_the_secretary_registers_a_request_and_gets_its_reference(as_user, db):
    client = as_user("secretariat1")
    data = _form()
    response = post_form(client, "/patients/new", data)
    assert response.status_code in (302, 303), response.text
    page = client.get(response.headers["location"])
    assert "CHESNEL Yvette" in page.text and "Demande n°" in page.text and "ALD" in page.text
    db.rollback()
    patient = db.scalar(select(Patient).where(Patient.nir == data["nir"]))
    assert patient.status == "requested" and patient.channel == "desk" and patient.reference.startswith("SMP-")
    assert patient.search_name == "chesnel yvette"


@pytest.mark.parametrize(
    ("over", "field", "message"),
    [
        ({"nir": "258035313012399"}, "nir", "clé"),
        ({"nir": "1" + a_nir()[1:-2]}, "nir", ""),
        ({"commune": "Atlantide"}, "commune", "Commune inconnue"),
        ({"birth_date": "2099-01-01"}, "birth_date", "futur"),
        ({"phone": "", "email": ""}, "phone", "téléphone ou une adresse e-mail"),
        ({"sex": "X"}, "sex", "F ou M"),
        ({"nir": a_nir(year=1990)}, "nir", "L'année"),
    ],
)
def test_a_bad_patient_form_names_the_field_and_writes_nothing(as_user, db, over, field, message):
    client = as_user("secretariat1")
    before = _count(db)
    response = post_form(client, "/patients/new", _form(**over))
    assert response.status_code == 400
    assert f'href="#f-{field}"' in response.text
    assert message in response.text.replace("&#39;", "'")
    assert _count(db) == before


def test_a_second_request_for_the_same_person_joins_the_first_and_keeps_its_channel(as_user, db):
    from app.patients.models import PatientRequest

    client = as_user("secretariat1")
    data = _form()
    first = post_form(client, "/patients/new", data)
    again = post_form(client, "/patients/new", _form(nir=data["nir"], first_name="Yvette", phone="06 00 00 00 01"))
    assert again.status_code in (302, 303) and again.headers["location"] == first.headers["location"]
    assert "déjà une demande" in client.get(again.headers["location"]).text
    db.rollback()
    patient = db.scalar(select(Patient).where(Patient.nir == data["nir"]))
    assert db.scalar(select(func.count()).select_from(Patient).where(Patient.nir == data["nir"])) == 1
    assert (
        db.scalar(select(func.count()).select_from(PatientRequest).where(PatientRequest.patient_id == patient.id)) == 2
    )


def test_opening_a_patient_page_is_audited_with_the_user(as_user, db):
    client = as_user("secretariat2")
    patient_id = db.scalar(select(Patient.id).limit(1))
    assert client.get(f"/patients/{patient_id}").status_code == 200
    db.rollback()
    rows = db.scalars(
        select(AuditEntry).where(AuditEntry.object_id == str(patient_id), AuditEntry.actor == "secretariat2")
    ).all()
    assert [r.action for r in rows] == ["read"]


@pytest.mark.parametrize("username", ["medecin", "comite", "pharmacie"])
def test_patient_pages_are_closed_to_other_roles(as_user, db, username):
    patient_id = db.scalar(select(Patient.id).limit(1))
    client = as_user(username)
    assert client.get(f"/patients/{patient_id}").status_code == 403
    assert client.get("/patients/new").status_code == 403


def test_the_api_registers_a_patient_and_refuses_a_bad_nir_key_with_a_structured_400(client, db, demo):
    from app.accounts.models import User
    from app.accounts.services import UserService

    account = db.scalar(select(User).where(User.username == "secretariat1"))
    headers = {"Authorization": f"Bearer {UserService(session=db).issue_token(account, 't')}"}
    payload = {
        "first_name": "Léon",
        "last_name": "Api",
        "birth_date": "2015-06-01",
        "sex": "M",
        "commune": "53130",
        "phone": "02 43 00 00 00",
    }
    ok = client.post("/api/patients", headers=headers, json=payload)
    assert ok.status_code == 201 and ok.json()["status"] == "requested"
    from app.patients.models import PatientEvent, PatientRequest

    db.rollback()
    created = __import__("uuid").UUID(ok.json()["id"])
    assert db.scalar(select(PatientRequest.channel).where(PatientRequest.patient_id == created)) == "desk"
    assert db.scalar(select(PatientEvent.to_status).where(PatientEvent.patient_id == created)) == "requested"
    before = _count(db)
    bad = client.post("/api/patients", headers=headers, json={**payload, "nir": "115065313012300"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "nir"
    assert _count(db) == before
    fetched = client.get(f"/api/patients/{ok.json()['id']}", headers=headers)
    assert fetched.json()["reference"] == ok.json()["reference"]


def test_a_too_short_new_password_is_refused_at_the_field(as_user):
    client = as_user("secretariat2")
    response = post_form(
        client,
        "/profile/password",
        {"current_password": "demo-smp-2026", "new_password": "court", "confirm_password": "court"},
        form_url="/profile",
    )
    assert response.status_code == 400
    assert 'id="e-new_password"' in response.text and "10 caractères" in response.text
    wrong = post_form(
        client,
        "/profile/password",
        {"current_password": "pas-le-bon", "new_password": "un-nouveau-mot-de-passe", "confirm_password": "x"},
        form_url="/profile",
    )
    assert "actuel est incorrect" in wrong.text


def test_a_user_changes_her_password_and_logs_in_with_the_new_one(client, db, demo):
    from app.accounts.services import UserService
    from tests.conftest import login

    UserService(session=db).create_user("mdp.test", "secretary", "ancien-mot-de-passe")
    assert login(client, "mdp.test", "ancien-mot-de-passe").status_code in (302, 303)
    done = post_form(
        client,
        "/profile/password",
        {
            "current_password": "ancien-mot-de-passe",
            "new_password": "nouveau-mot-de-passe",
            "confirm_password": "nouveau-mot-de-passe",
        },
        form_url="/profile",
    )
    assert done.status_code in (302, 303)
    client.cookies.clear()
    assert login(client, "mdp.test", "ancien-mot-de-passe").status_code == 400
    assert login(client, "mdp.test", "nouveau-mot-de-passe").status_code in (302, 303)
