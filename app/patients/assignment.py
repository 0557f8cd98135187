"""Assigning waiting patients to referring doctors from the database, with ``scheduling.matching``.

The doctors are the active SMP clinicians who take a panel (retired GPs, the coordinator; never
interns), placed at their main site, with their panel cap minus their current panel as capacity
and a reach radius (a setting); the patients are those waiting (eligible or on the waiting list)
at their commune's centroid. The exact min-cost flow chooses; ``confirm`` records the choice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.recorder import record
from app.clinicians.models import Clinician, ClinicianRole
from app.core.dates import PARIS
from app.patients.models import Patient, PatientStatus
from app.patients.services import record_transition
from scheduling import matching as m
from sites.communes import Territory

ENROLLED = (PatientStatus.ASSIGNED.value, PatientStatus.DECLARED.value)
MATCHABLE = (PatientStatus.ELIGIBLE.value, PatientStatus.WAITING.value)
REACH_KM = 30.0
"""How far from a doctor's main site a patient may live (great circle)."""


def build_problem(session: Session, territory: Territory, today: dt.date, reach_km: float = REACH_KM) -> m.Problem:
    panels: dict[uuid.UUID, int] = {
        doctor: count
        for doctor, count in session.execute(
            select(Patient.referring_clinician_id, func.count())
            .where(Patient.status.in_(ENROLLED), Patient.referring_clinician_id.is_not(None))
            .group_by(Patient.referring_clinician_id)
        )
        if doctor is not None
    }
    doctors = []
    for c in session.scalars(select(Clinician)).unique():
        if c.role == ClinicianRole.INTERN or c.panel_cap <= 0 or c.main_site is None or not c.is_active_on(today):
            continue
        doctors.append(
            m.Doctor(
                id=str(c.id),
                lat=c.main_site.lat,
                lon=c.main_site.lon,
                capacity=m.Doctor.remaining_capacity(c.panel_cap, panels.get(c.id, 0)),
                radius_km=max(reach_km, float(c.home_visit_radius_km)),
                home_visits=c.home_visits,
                pmr=c.main_site.pmr_access,
            )
        )
    patients = []
    rows = session.execute(
        select(
            Patient.id,
            Patient.commune_insee,
            Patient.ald,
            Patient.c2s,
            Patient.fragile,
            Patient.birth_date,
            Patient.needs_home_visit,
            Patient.needs_pmr,
            Patient.requested_at,
        ).where(Patient.status.in_(MATCHABLE))
    ).all()
    for pid, insee, ald, c2s, fragile, birth, home, pmr, since in rows:
        commune = territory.by_insee(insee)
        if commune is None:
            continue
        age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
        patients.append(
            m.Patient(
                id=str(pid),
                lat=commune.lat,
                lon=commune.lon,
                ald=ald,
                c2s=c2s,
                age=age,
                fragile=fragile,
                needs_home_visit=home,
                needs_pmr=pmr,
                commune=insee,
                waiting_since=since.date(),
            )
        )
    # Reading these patients' records for the match is recorded (in bulk: columns, not records).
    record(session, "read", "patient", "*", f"appariement : {len(patients)} patients en attente lus")
    return m.Problem(doctors=tuple(doctors), patients=tuple(patients), proposals=3)


def run(
    session: Session, territory: Territory, *, confirm: bool = False, actor: str = "system:match"
) -> dict[str, Any]:
    """Solve; with ``confirm``, assign each matched patient (status, referring doctor, history)."""
    today = dt.datetime.now(PARIS).date()
    problem = build_problem(session, territory, today)
    solution = m.solve(problem)
    result = m.solution_to_json(solution)
    if confirm:
        for a in solution.assignments:
            patient = session.get(Patient, uuid.UUID(a.patient))
            if patient is None or patient.status not in MATCHABLE:
                continue
            patient.referring_clinician_id = uuid.UUID(a.doctor)
            record_transition(session, patient, PatientStatus.ASSIGNED.value, actor, f"appariement ({a.km:.1f} km)")
        session.commit()
        result["confirmed"] = len(solution.assignments)
    return result
