"""A patient's rights under the RGPD: the export of everything held about them (right of access),
and erasure by anonymisation (right to erasure, and the retention rules for excluded and departed
patients) that keeps the aggregate figures right.

Anonymisation removes who the person is and keeps what the figures count: status and its dates,
channel, commune, priority flags, the month of birth (age groups), bookings (occupancy). Names,
NIR, contact details, free-text notes, the usual doctor and the messages sent are emptied.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.audit.models import AuditEntry
from app.audit.recorder import record
from app.core.dates import add_months
from app.db.engine import immediate
from app.notifications.models import OutboxMessage
from app.patients.models import ContactAttempt, Patient, PatientEvent, PatientRequest, PatientStatus
from app.rota.models import Booking

ANONYMOUS = "Anonyme"
EXCLUDED_STATUSES = (PatientStatus.EXCLUDED.value,)
DEPARTED_STATUSES = (PatientStatus.LEFT.value, PatientStatus.MOVED.value, PatientStatus.DECEASED.value)


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value


def export(session: Session, patient: Patient) -> dict[str, Any]:
    """Everything held about the patient, as plain data (JSON-ready). Audited as an export."""
    fields = (
        "reference", "last_name", "first_name", "birth_date", "sex", "commune_insee", "address", "phone", "email",
        "nir", "ald", "c2s", "fragile", "needs_home_visit", "needs_pmr", "channel", "status", "requested_at",
        "exclusion_reason", "usual_doctor", "usual_doctor_outcome", "suspended_at",
    )  # fmt: skip
    data: dict[str, Any] = {"patient": {f: _iso(getattr(patient, f)) for f in fields}}
    data["requests"] = [
        {
            "received_at": _iso(r.received_at),
            "channel": r.channel,
            "referrer": r.referrer,
            "usual_doctor": r.usual_doctor,
        }
        for r in session.scalars(select(PatientRequest).where(PatientRequest.patient_id == patient.id))
    ]
    data["history"] = [
        {"at": _iso(e.occurred_at), "from": e.from_status, "to": e.to_status, "by": e.actor, "note": e.note}
        for e in session.scalars(
            select(PatientEvent).where(PatientEvent.patient_id == patient.id).order_by(PatientEvent.occurred_at)
        )
    ]
    data["calls"] = [
        {"at": _iso(c.occurred_at), "outcome": c.outcome, "by": c.actor, "note": c.note}
        for c in session.scalars(select(ContactAttempt).where(ContactAttempt.patient_id == patient.id))
    ]
    data["appointments"] = [
        {"starts_at": _iso(b.starts_at), "ends_at": _iso(b.ends_at), "kind": b.kind, "status": b.status}
        for b in session.scalars(select(Booking).where(Booking.patient_id == patient.id).order_by(Booking.starts_at))
    ]
    data["accesses"] = [
        {"at": _iso(a.occurred_at), "by": a.actor, "action": a.action}
        for a in session.scalars(
            select(AuditEntry).where(AuditEntry.object_id == str(patient.id)).order_by(AuditEntry.occurred_at)
        )
    ]
    record(session, "export", "patient", patient.id, "droit d'accès (RGPD)")
    session.commit()
    return data


def anonymise(session: Session, patient: Patient, actor: str, reason: str) -> None:
    """Erase the person, keep the figures (see the module's docstring). Does not commit."""
    patient.first_name = ANONYMOUS
    patient.last_name = ANONYMOUS
    patient.search_name = f"anonyme {patient.reference.lower()}"
    patient.birth_date = patient.birth_date.replace(day=1)
    patient.address = ""
    patient.phone = ""
    patient.email = None
    patient.nir = None
    patient.usual_doctor = ""
    patient.exclusion_reason = patient.exclusion_reason.split(" — ")[0]
    pid = patient.id
    session.execute(update(PatientRequest).where(PatientRequest.patient_id == pid).values(referrer="", usual_doctor=""))
    session.execute(update(PatientEvent).where(PatientEvent.patient_id == pid).values(note=""))
    session.execute(update(ContactAttempt).where(ContactAttempt.patient_id == pid).values(note=""))
    bookings = select(Booking.id).where(Booking.patient_id == pid)
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.booking_id.in_(bookings))
        .values(recipient="", subject="", body="(effacé)")
    )
    session.execute(update(Booking).where(Booking.patient_id == pid).values(cancel_reason="", rebook_reason=""))
    session.add(
        PatientEvent(
            patient_id=pid,
            from_status="",
            to_status=patient.status,
            actor=actor[:80],
            note=f"données personnelles effacées ({reason})"[:255],
            occurred_at=dt.datetime.now(dt.UTC),
        )
    )
    record(session, "erase", "patient", pid, reason[:200])


def erase(session: Session, patient: Patient, actor: str) -> None:
    """The right to erasure, asked by the person: anonymised at once. Commits."""
    immediate(session)
    session.refresh(patient)
    anonymise(session, patient, actor, "demande d'effacement du patient")
    session.commit()


def expired(session: Session, today: dt.date, excluded_months: int, departed_months: int) -> list[Patient]:
    """Patients whose retention period is over: excluded, or departed (left, moved, deceased), for
    longer than the given months since their last status change, and not yet anonymised."""
    last_change = (
        select(PatientEvent.patient_id, func.max(PatientEvent.occurred_at).label("at"))
        .group_by(PatientEvent.patient_id)
        .subquery()
    )
    found = []
    for months, statuses in ((excluded_months, EXCLUDED_STATUSES), (departed_months, DEPARTED_STATUSES)):
        before = dt.datetime.combine(add_months(today, -months), dt.time.min, dt.UTC)
        found += list(
            session.scalars(
                select(Patient)
                .join(last_change, last_change.c.patient_id == Patient.id)
                .where(Patient.status.in_(statuses), last_change.c.at < before, Patient.last_name != ANONYMOUS)
            )
        )
    return found


def apply_retention(
    session: Session, today: dt.date, excluded_months: int, departed_months: int, actor: str, *, dry_run: bool = False
) -> int:
    """Anonymise every patient whose retention period is over. Commits (unless ``dry_run``)."""
    immediate(session)
    due = expired(session, today, excluded_months, departed_months)
    if dry_run:
        session.rollback()
        return len(due)
    for patient in due:
        anonymise(session, patient, actor, "fin de la durée de conservation")
    session.commit()
    return len(due)
