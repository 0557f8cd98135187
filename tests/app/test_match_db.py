"""`smp match` on the database: waiting patients get a referring doctor, within every panel cap."""

import json

from sqlalchemy import func, select

from app.clinicians.models import Clinician
from app.patients.models import Patient, PatientEvent
from tests.app.test_cli import smp


def _waiting(db):
    db.rollback()
    return db.scalar(select(func.count()).select_from(Patient).where(Patient.status.in_(["eligible", "waiting"])))


def test_smp_match_proposes_without_writing_then_confirms_within_panel_caps(db, demo):
    before = _waiting(db)
    proposed = smp("match", "--json")
    assert proposed.returncode == 0, proposed.stderr
    result = json.loads(proposed.stdout)
    assert result["status"] == "OPTIMAL" and result["assignments"]
    assert _waiting(db) == before  # nothing written without --confirm
    some = result["assignments"][0]["patient"]
    assert 1 <= len(result["proposals"][some]) <= 3

    confirmed = json.loads(smp("match", "--confirm", "--json").stdout)
    assert confirmed["confirmed"] == len(confirmed["assignments"])
    assert _waiting(db) == before - confirmed["confirmed"]
    patient = db.get(Patient, __import__("uuid").UUID(confirmed["assignments"][0]["patient"]))
    assert patient.status == "assigned" and str(patient.referring_clinician_id) == confirmed["assignments"][0]["doctor"]
    assert (
        db.scalar(
            select(PatientEvent.to_status)
            .where(PatientEvent.patient_id == patient.id)
            .order_by(PatientEvent.occurred_at.desc())
            .limit(1)
        )
        == "assigned"
    )
    for cap, panel in db.execute(
        select(Clinician.panel_cap, func.count(Patient.id))
        .join(Patient, Patient.referring_clinician_id == Clinician.id)
        .where(Patient.status.in_(["assigned", "declared"]))
        .group_by(Clinician.id, Clinician.panel_cap)
    ):
        assert panel <= cap


def test_match_confirm_needs_the_database(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"doctors": [], "patients": [], "proposals": 0}))
    out = smp("match", "--problem", str(path), "--confirm", "--json")
    assert out.returncode == 2 and "base de données" in json.loads(out.stdout)["error"]
