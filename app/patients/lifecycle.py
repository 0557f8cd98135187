"""The life of a request: which status can follow which, exclusions, contact attempts, the
declaration. Every change writes a history row (who, when) and the audit trail records it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import Conflict, FieldErrors
from app.db.engine import immediate
from app.patients.models import (
    CONTACT_OUTCOMES,
    FAILED_CONTACTS_TO_SUSPEND,
    ContactAttempt,
    Patient,
    PatientStatus,
)
from app.patients.services import EXCLUSION_REASONS, record_transition

S = PatientStatus
NEXT: dict[str, tuple[str, ...]] = {
    S.REQUESTED: (S.WAITING, S.EXCLUDED),
    S.ELIGIBLE: (S.WAITING, S.EXCLUDED),
    S.WAITING: (S.EXCLUDED, S.LEFT, S.MOVED, S.DECEASED),
    S.ASSIGNED: (S.DECLARED, S.WAITING, S.LEFT, S.MOVED, S.DECEASED),
    S.DECLARED: (S.LEFT, S.MOVED, S.DECEASED),
    S.EXCLUDED: (S.WAITING,),
    S.LEFT: (S.WAITING,),
    S.MOVED: (S.WAITING,),
    S.DECEASED: (),
}
"""The transitions a person may make from the patient's page (assignment is the matching's)."""
WAITING_TOO_LONG_DAYS = 183


def change_status(
    session: Session, patient: Patient, to_status: str, actor: str, *, reason: str = "", note: str = ""
) -> Patient:
    immediate(session)
    session.refresh(patient)
    if to_status not in NEXT.get(patient.status, ()):
        raise Conflict("Ce changement d'état n'est pas possible depuis l'état actuel du dossier.")
    label = ""
    if to_status == S.EXCLUDED:
        if reason not in EXCLUSION_REASONS:
            raise FieldErrors({"reason": "Indiquez le motif de l'exclusion."})
        label = EXCLUSION_REASONS[reason] + (f" — {note}" if note else "")
        patient.exclusion_reason = label[:255]
    if to_status == S.WAITING:
        patient.referring_clinician_id = None if patient.status == S.ASSIGNED else patient.referring_clinician_id
        patient.suspended_at = None
    record_transition(session, patient, to_status, actor, label or note)
    session.commit()
    return patient


def record_contact(
    session: Session, patient: Patient, outcome: str, actor: str, note: str = "", now: dt.datetime | None = None
) -> bool:
    """Record a contact attempt; returns True when it suspends the request (the third failure in a
    row). A success lifts a suspension."""
    if outcome not in CONTACT_OUTCOMES:
        raise FieldErrors({"outcome": "Indiquez le résultat de l'appel."})
    now = now or dt.datetime.now(dt.UTC)
    immediate(session)
    session.refresh(patient)
    session.add(
        ContactAttempt(patient_id=patient.id, outcome=outcome, actor=actor[:80], note=note[:255], occurred_at=now)
    )
    session.flush()
    suspended = False
    if outcome == "reached":
        patient.suspended_at = None
    else:
        recent = session.scalars(
            select(ContactAttempt.outcome)
            .where(ContactAttempt.patient_id == patient.id)
            .order_by(ContactAttempt.occurred_at.desc())
            .limit(FAILED_CONTACTS_TO_SUSPEND)
        ).all()
        if (
            len(recent) == FAILED_CONTACTS_TO_SUSPEND
            and all(o != "reached" for o in recent)
            and not patient.suspended_at
        ):
            patient.suspended_at = now
            suspended = True
    session.commit()
    return suspended


USUAL_DOCTOR_OUTCOMES = {"accepted": "accepte d'être le médecin traitant", "refused": "ne peut pas le prendre"}


def usual_doctor_outcome(session: Session, patient: Patient, outcome: str, actor: str) -> Patient:
    """The answer of the usual doctor, proposed first. Accepted: the patient has a referring doctor
    outside the SMP and leaves the list (history kept). Refused: the patient takes their place in the
    SMP's capacity, with their original request date. Commits."""
    if outcome not in USUAL_DOCTOR_OUTCOMES:
        raise FieldErrors({"outcome": "Indiquez la réponse du médecin habituel."})
    immediate(session)
    session.refresh(patient)
    if not patient.usual_doctor_pending or patient.status not in (S.REQUESTED, S.ELIGIBLE, S.WAITING):
        raise Conflict("Le médecin habituel n'est pas (ou plus) à solliciter pour ce dossier.")
    patient.usual_doctor_outcome = outcome
    if outcome == "accepted":
        record_transition(session, patient, S.LEFT, actor, f"médecin habituel déclaré : {patient.usual_doctor}")
    else:
        record_transition(
            session, patient, patient.status, actor, f"médecin habituel sollicité ({patient.usual_doctor}) : refus"
        )
    session.commit()
    return patient
