"""RGPD: a patient's data export (JSON and printable), erasure by anonymisation that keeps the
aggregate figures right, retention rules for excluded and departed patients, the privacy notice."""

import datetime as dt
import json
import uuid

from sqlalchemy import func, select, text, update

from app.audit.models import AuditEntry
from app.patients.models import Patient, PatientEvent
from tests.app.test_cli import smp
from tests.conftest import csrf_token, post_form


def _new_patient(client, **over) -> uuid.UUID:  # type: ignore[no-untyped-def]
    data = {
        "last_name": "Rgpd" + "".join(c for c in uuid.uuid4().hex if c.isalpha())[:6],
        "first_name": "Hélène",
        "birth_date": "1948-09-17",
        "sex": "F",
        "commune": "Laval",
        "phone": f"06 {uuid.uuid4().int % 90 + 10} 44 55 66",
        "ald": "on",
    }
    data.update(over)
    response = post_form(client, "/patients/new", data)
    assert response.status_code in (302, 303), response.text
    return uuid.UUID(response.headers["location"].rsplit("/", 1)[1])


def _figures(db) -> tuple:  # type: ignore[no-untyped-def]
    """What the committee counts: status, channel, commune, flags, age group."""
    db.rollback()
    return tuple(
        db.execute(
            text(
                "SELECT status, channel, commune_insee, ald, c2s, fragile, "
                "CASE WHEN birth_date > '2010-12-31' THEN 'child' WHEN birth_date <= '1956-12-31' THEN 'old' "
                "ELSE 'adult' END, count(*) FROM patient GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7"
            )
        ).all()
    )


def test_the_export_holds_everything_about_the_patient_and_is_audited(as_user, db):
    client = as_user("secretariat1")
    patient_id = _new_patient(client)
    client.get(f"/patients/{patient_id}")
    response = client.get(f"/patients/{patient_id}/export.json")
    assert response.status_code == 200 and "attachment" in response.headers["content-disposition"]
    data = json.loads(response.content)
    db.rollback()
    patient = db.get(Patient, patient_id)
    assert data["patient"]["last_name"] == patient.last_name and data["patient"]["phone"] == patient.phone
    assert data["requests"] and data["history"]
    assert any(a["by"] == "secretariat1" and a["action"] == "read" for a in data["accesses"])
    assert db.scalar(select(func.count()).where(AuditEntry.object_id == str(patient_id), AuditEntry.action == "export"))
    page = client.get(f"/patients/{patient_id}/export")
    assert page.status_code == 200 and patient.last_name in page.text and "data-print" in page.text


def test_erasure_needs_the_confirmation_then_anonymises_and_keeps_the_figures(as_user, db):
    client = as_user("coordination")
    patient_id = _new_patient(client, nir="", address="3 rue des Lilas")
    page = client.get(f"/patients/{patient_id}")
    token = csrf_token(page.text)
    refused = client.post(f"/patients/{patient_id}/erase", data={"_csrf_token": token})
    assert "Cochez la case" in refused.text
    db.rollback()
    name = db.get(Patient, patient_id).last_name
    assert name != "Anonyme"
    before = _figures(db)
    done = client.post(f"/patients/{patient_id}/erase", data={"_csrf_token": token, "confirm": "on"})
    assert "effacées" in done.text
    db.rollback()
    db.expire_all()
    patient = db.get(Patient, patient_id)
    assert (patient.first_name, patient.last_name, patient.phone, patient.address, patient.nir) == (
        "Anonyme", "Anonyme", "", "", None,
    )  # fmt: skip
    assert patient.birth_date == dt.date(1948, 9, 1)
    assert name not in client.get(f"/patients/{patient_id}").text
    assert _figures(db) == before  # the committee's counts are unchanged
    assert db.scalar(select(func.count()).where(AuditEntry.object_id == str(patient_id), AuditEntry.action == "erase"))


def test_retention_anonymises_old_exclusions_only(as_user, db):
    client = as_user("secretariat1")
    old, recent = _new_patient(client), _new_patient(client)
    for pid in (old, recent):
        page = client.get(f"/patients/{pid}")
        client.post(
            f"/patients/{pid}/status",
            data={"to": "excluded", "reason": "has_gp", "_csrf_token": csrf_token(page.text)},
        )
    db.rollback()
    assert db.get(Patient, old).status == "excluded"
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    db.execute(update(PatientEvent).where(PatientEvent.patient_id == old).values(occurred_at=long_ago))
    db.commit()
    dry = smp("patients", "retention", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["rows"] >= 1
    db.rollback()
    db.expire_all()
    assert db.get(Patient, old).last_name != "Anonyme"
    done = smp("patients", "retention", "--json")
    assert done.returncode == 0, done.stderr
    db.rollback()
    db.expire_all()
    assert db.get(Patient, old).last_name == "Anonyme"
    assert db.get(Patient, recent).last_name != "Anonyme"


def test_the_privacy_notice_is_public_and_linked(client):
    page = client.get("/confidentialite")
    assert page.status_code == 200 and "Vos droits" in page.text and "CNIL" in page.text
    assert 'href="/confidentialite"' in client.get("/demande").text
