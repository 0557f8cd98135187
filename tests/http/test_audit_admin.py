"""The audit trail for the administrator: searchable, read-only, and purged after its retention."""

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import func, insert, select

from app.audit.models import AuditEntry
from app.patients.models import Patient
from tests.app.test_cli import smp


def test_the_admin_finds_who_opened_a_patient_record(as_user, db):
    db.rollback()
    patient = db.scalars(select(Patient).order_by(Patient.reference.desc())).first()
    as_user("secretariat1").get(f"/patients/{patient.id}")
    client = as_user("admin")
    page = client.get("/admin/audit", params={"patient": patient.reference, "actor": "secretariat1"})
    assert page.status_code == 200
    assert str(patient.id) in page.text and "secretariat1" in page.text and ">read<" in page.text
    # Identities never appear in the trail: the page shows record ids, not names.
    assert patient.last_name.upper() not in page.text.upper()
    nothing = client.get("/admin/audit", params={"actor": "personne-" + uuid.uuid4().hex[:6]})
    assert "Aucune ligne ne correspond" in nothing.text


@pytest.mark.parametrize("username", ["coordination", "secretariat1", "medecin", "comite", "pharmacie"])
def test_only_the_admin_reads_the_trail(as_user, username):
    assert as_user(username).get("/admin/audit", follow_redirects=False).status_code == 403


def test_no_route_of_the_application_edits_or_deletes_audit_rows(app):
    for route in app.routes:
        if route.path.startswith("/admin/audit"):
            assert getattr(route, "methods", set()) <= {"GET", "HEAD", "OPTIONS"}, route.path
    # And the trail has no API at all.
    assert not [r.path for r in app.routes if "audit" in r.path and r.path.startswith("/api/")]


def test_purge_removes_only_rows_older_than_the_retention_and_logs_itself(db, demo):
    db.rollback()
    marker = f"test-purge-{uuid.uuid4().hex[:6]}"
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=800)
    recent = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    db.execute(
        insert(AuditEntry),
        [
            {
                "id": uuid.uuid4(),
                "occurred_at": when,
                "actor": marker,
                "action": "read",
                "object_type": "patient",
                "object_id": "x",
                "detail": "",
            }
            for when in (old, old, recent)
        ],
    )
    db.commit()

    def mine() -> int:
        db.rollback()
        return db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.actor == marker))

    dry = smp("audit", "purge", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["rows"] >= 2 and mine() == 3
    done = smp("audit", "purge", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] >= 2
    assert mine() == 1  # the recent row stays
    db.rollback()
    assert db.scalar(select(func.count()).where(AuditEntry.action == "purge", AuditEntry.actor == "system:audit-purge"))
