"""The patient's side: the public request form and where the request stands; the waiting list."""

import uuid

from sqlalchemy import func, select

from app.patients.models import Patient, PatientEvent, PatientRequest
from tests.conftest import csrf_token


def _public_form(**over):
    data = {
        "last_name": f"Public{uuid.uuid4().hex[:5]}",
        "first_name": "Rose",
        "birth_date": "1941-05-06",
        "sex": "F",
        "commune": "Ernée",
        "phone": "06 11 22 33 44",
        "ald": "on",
        "consent": "on",
        "usual_doctor": "Dr Lenoir (Ernée)",
    }
    data.update(over)
    return data


def _post(client, url, data):
    page = client.get(url)
    return client.post(url, data={**data, "_csrf_token": csrf_token(page.text)})


def test_anyone_sends_a_request_without_an_account_and_gets_a_reference(client, db):
    data = _public_form()
    done = _post(client, "/demande", data)
    assert done.status_code in (200, 201), done.text
    reference = done.text.split('class="big-date">')[1].split("<")[0]
    db.rollback()
    patient = db.scalar(select(Patient).where(Patient.reference == reference))
    assert patient.last_name == data["last_name"] and patient.channel == "public_form" and patient.ald
    request = db.scalar(select(PatientRequest).where(PatientRequest.patient_id == patient.id))
    assert request.usual_doctor == "Dr Lenoir (Ernée)"
    history = db.scalars(select(PatientEvent).where(PatientEvent.patient_id == patient.id)).all()
    assert [(e.to_status, e.actor) for e in history] == [("requested", "public:request-form")]


def test_the_form_requires_consent_and_names_every_faulty_field(client, db):
    before = db.scalar(select(func.count()).select_from(Patient))
    refused = _post(client, "/demande", _public_form(consent="", commune="Atlantide", phone="", email=""))
    assert refused.status_code == 400
    for field in ("consent", "commune", "phone"):
        assert f'href="#f-{field}"' in refused.text
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Patient)) == before


def test_a_robot_filling_the_honeypot_is_thanked_and_nothing_is_stored(client, db):
    data = _public_form(website="http://spam.example")
    before = db.scalar(select(func.count()).select_from(Patient))
    response = _post(client, "/demande", data)
    assert response.status_code in (200, 201) and "bien reçue" in response.text
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Patient)) == before


def test_a_second_public_request_joins_the_first_without_revealing_its_reference(client, db):
    data = _public_form()
    first = _post(client, "/demande", data)
    reference = first.text.split('class="big-date">')[1].split("<")[0]
    second = _post(client, "/demande", {**data, "last_name": data["last_name"].upper(), "phone": "06 99 88 77 66"})
    assert reference not in second.text and "retrouvé une demande" in second.text
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Patient).where(Patient.reference == reference)) == 1


def test_the_status_page_needs_the_reference_and_the_birth_date_and_shows_only_the_status(client, db):
    data = _public_form()
    done = _post(client, "/demande", data)
    reference = done.text.split('class="big-date">')[1].split("<")[0]
    found = _post(client, "/suivi", {"reference": reference.lower(), "birth_date": data["birth_date"]})
    assert found.status_code == 200 and "Demande reçue" in found.text
    assert data["last_name"] not in found.text and data["phone"] not in found.text
    wrong = _post(client, "/suivi", {"reference": reference, "birth_date": "1941-05-07"})
    assert wrong.status_code == 404 and "Aucune demande ne correspond" in wrong.text


def test_public_posts_are_rate_limited(demo):
    import dataclasses

    from litestar.testing import TestClient

    from app.asgi import create_app
    from app.settings import get_settings

    limited = create_app(dataclasses.replace(get_settings(), login_rate_limit_per_minute=3))
    with TestClient(app=limited) as fresh:
        token = csrf_token(fresh.get("/suivi").text)
        codes = [
            fresh.post("/suivi", data={"reference": "x", "birth_date": "2000-01-01", "_csrf_token": token}).status_code
            for _ in range(5)
        ]
    assert codes[:3] == [404, 404, 404] and codes[-1] == 429


def test_the_waiting_list_puts_tier_one_first_then_the_longest_wait(as_user, db):
    page = as_user("secretariat1").get("/patients")
    assert page.status_code == 200
    tiers = [int(t) for t in __import__("re").findall(r'class="tag tier-(\d)"', page.text)]
    assert tiers and tiers == sorted(tiers)
    only_tier_one = as_user("secretariat1").get("/patients", params={"tier": 1, "age": "70+"}).text
    assert 'class="tag tier-1"' in only_tier_one
    assert 'class="tag tier-2"' not in only_tier_one and 'class="tag tier-3"' not in only_tier_one


def test_the_waiting_list_is_for_the_secretariat_and_coordination(as_user):
    assert as_user("comite").get("/patients").status_code == 403
    assert as_user("medecin").get("/patients").status_code == 403


def test_the_waiting_list_reading_is_audited(as_user, db):
    from app.audit.models import AuditEntry

    as_user("secretariat2").get("/patients")
    db.rollback()
    assert (
        db.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.actor == "secretariat2", AuditEntry.action == "list")
        )
        >= 1
    )


def test_two_people_with_the_same_name_and_birth_date_but_different_nirs_stay_two(db, demo):
    from app.core.identifiers import nir_key
    from app.patients.models import Channel
    from app.patients.services import submit_request
    from app.web.territory import current_territory

    def nir(order: str) -> str:
        body = f"2410553130{order}"
        return body + nir_key(body)

    base = _public_form(last_name=f"Jumelle{uuid.uuid4().hex[:4]}", birth_date="1941-05-06")
    first = submit_request(db, {**base, "nir": nir("101")}, current_territory(), channel=Channel.DESK, actor="t")
    second = submit_request(db, {**base, "nir": nir("102")}, current_territory(), channel=Channel.DESK, actor="t")
    without = submit_request(db, {**base, "nir": ""}, current_territory(), channel=Channel.DESK, actor="t")
    assert not first.joined and not second.joined and first.patient.id != second.patient.id
    assert without.joined  # no NIR given: the same name and birth date is the same person
