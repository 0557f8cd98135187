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

from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from app.audit.recorder import record
from app.clinicians.models import Clinician, ClinicianRole
from app.core.dates import PARIS
from app.core.errors import Conflict
from app.db.engine import immediate
from app.patients.models import AssignmentProposal, Patient, PatientStatus
from app.patients.services import record_transition
from scheduling import matching as m
from sites.communes import Territory

ENROLLED = (PatientStatus.ASSIGNED.value, PatientStatus.DECLARED.value)
MATCHABLE = (PatientStatus.ELIGIBLE.value, PatientStatus.WAITING.value)
REACH_KM = 30.0
"""How far from a doctor's main site a patient may live (great circle)."""


def current_panels(session: Session) -> dict[uuid.UUID, int]:
    """Each clinician's current panel (assigned or declared patients)."""
    return {
        doctor: count
        for doctor, count in session.execute(
            select(Patient.referring_clinician_id, func.count())
            .where(Patient.status.in_(ENROLLED), Patient.referring_clinician_id.is_not(None))
            .group_by(Patient.referring_clinician_id)
        )
        if doctor is not None
    }


def panel_doctors(session: Session, today: dt.date, reach_km: float = REACH_KM) -> list[m.Doctor]:
    """The active clinicians who take a panel, with their places left."""
    panels = current_panels(session)
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
    return doctors


PATIENT_COLUMNS = (
    Patient.id,
    Patient.commune_insee,
    Patient.ald,
    Patient.c2s,
    Patient.fragile,
    Patient.birth_date,
    Patient.needs_home_visit,
    Patient.needs_pmr,
    Patient.requested_at,
)


def matching_patients(territory: Territory, today: dt.date, rows: Any) -> list[m.Patient]:
    """Rows of ``PATIENT_COLUMNS`` -> the solver's patients, at their commune's centroid."""
    patients = []
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
    return patients


def matchable() -> Any:
    """Waiting (eligible or on the list), not suspended, and not still to be offered to their usual doctor."""
    return and_(
        Patient.status.in_(MATCHABLE),
        Patient.suspended_at.is_(None),
        or_(Patient.usual_doctor == "", Patient.usual_doctor_outcome != ""),
    )


def build_problem(session: Session, territory: Territory, today: dt.date, reach_km: float = REACH_KM) -> m.Problem:
    doctors = panel_doctors(session, today, reach_km)
    rows = session.execute(select(*PATIENT_COLUMNS).where(matchable())).all()
    patients = matching_patients(territory, today, rows)
    # Reading these patients' records for the match is recorded (in bulk: columns, not records).
    record(session, "read", "patient", "*", f"appariement : {len(patients)} patients en attente lus")
    return m.Problem(doctors=tuple(doctors), patients=tuple(patients), proposals=3)


def run(
    session: Session, territory: Territory, *, confirm: bool = False, actor: str = "system:match"
) -> dict[str, Any]:
    """Solve and keep the 2–3 proposals per patient for the coordinator; with ``confirm``, assign
    every matched patient to the optimum's choice at once (status, referring doctor, history)."""
    today = dt.datetime.now(PARIS).date()
    problem = build_problem(session, territory, today)
    solution = m.solve(problem)
    result = m.solution_to_json(solution)
    store_proposals(session, solution)
    if confirm:
        result["confirmed"] = confirm_batch(session, actor)["confirmed"]
    session.commit()
    return result


def store_proposals(session: Session, solution: m.Solution) -> int:
    """Replace every pending proposal with this solution's (the optimum's choice flagged)."""
    session.execute(delete(AssignmentProposal))
    chosen = {a.patient: a for a in solution.assignments}
    rows = []
    for patient, proposals in solution.proposals.items():
        pick = chosen.get(patient)
        for rank, p in enumerate(proposals, start=1):
            rows.append(
                {
                    "patient_id": uuid.UUID(patient),
                    "clinician_id": uuid.UUID(p.doctor),
                    "rank": rank,
                    "km": round(p.km, 1),
                    "chosen": pick is not None and pick.doctor == p.doctor,
                    "tier": pick.tier if pick is not None else 0,
                }
            )
    if rows:
        session.execute(insert(AssignmentProposal), rows)
    return len(rows)


def lock_clinician(session: Session, clinician_id: uuid.UUID) -> Clinician | None:
    """The clinician, row-locked until commit (PostgreSQL; SQLite holds the whole write lock), so
    that two confirmations cannot both take a doctor's last place."""
    return session.scalars(
        select(Clinician).where(Clinician.id == clinician_id).with_for_update(of=Clinician.__table__)
    ).first()


def places_left(session: Session, clinician: Clinician) -> int:
    panel = session.scalar(
        select(func.count()).where(Patient.referring_clinician_id == clinician.id, Patient.status.in_(ENROLLED))
    )
    return clinician.panel_cap - int(panel or 0)


def confirm_one(session: Session, patient_id: uuid.UUID, clinician_id: uuid.UUID, actor: str) -> Patient:
    """The coordinator confirms one of a patient's proposals: checked again now (the patient still
    waiting, the doctor still active with a place left), then assigned. Commits."""
    immediate(session)
    patient = session.get(Patient, patient_id)
    proposal = session.scalar(
        select(AssignmentProposal).where(
            AssignmentProposal.patient_id == patient_id, AssignmentProposal.clinician_id == clinician_id
        )
    )
    if patient is None or proposal is None:
        raise Conflict("Cette proposition n'existe plus : relancez le calcul des propositions.")
    if session.scalar(select(Patient.id).where(Patient.id == patient_id, matchable())) is None:
        session.execute(delete(AssignmentProposal).where(AssignmentProposal.patient_id == patient_id))
        session.commit()
        raise Conflict("Ce patient n'est plus en attente d'un médecin : sa proposition est retirée.")
    doctor = lock_clinician(session, clinician_id)
    if doctor is None or not doctor.is_active_on(dt.datetime.now(PARIS).date()):
        raise Conflict("Ce médecin n'exerce plus au SMP : choisissez une autre proposition.")
    if places_left(session, doctor) <= 0:
        raise Conflict("Ce médecin n'a plus de place dans sa patientèle : choisissez une autre proposition.")
    _assign(session, patient, doctor.id, actor, f"proposition {proposal.rank} confirmée ({proposal.km:.1f} km)")
    session.commit()
    return patient


def confirm_batch(session: Session, actor: str) -> dict[str, int]:
    """Confirm the optimum's choice for every patient with proposals, re-checking each one (a
    patient no longer waiting, or a doctor now full, is skipped and counted). Does not commit."""
    immediate(session)
    picks = session.scalars(
        select(AssignmentProposal).where(AssignmentProposal.chosen.is_(True)).order_by(AssignmentProposal.tier)
    ).all()
    still_waiting = (
        set(session.scalars(select(Patient.id).where(Patient.id.in_([p.patient_id for p in picks]), matchable())).all())
        if picks
        else set()
    )
    left: dict[uuid.UUID, int] = {}
    confirmed = skipped = 0
    for pick in picks:
        if pick.clinician_id not in left:
            doctor = lock_clinician(session, pick.clinician_id)
            active = doctor is not None and doctor.is_active_on(dt.datetime.now(PARIS).date())
            left[pick.clinician_id] = places_left(session, doctor) if doctor is not None and active else 0
        patient = session.get(Patient, pick.patient_id)
        if patient is None or pick.patient_id not in still_waiting or left[pick.clinician_id] <= 0:
            skipped += 1
            continue
        _assign(session, patient, pick.clinician_id, actor, f"appariement confirmé en lot ({pick.km:.1f} km)")
        left[pick.clinician_id] -= 1
        confirmed += 1
    return {"confirmed": confirmed, "skipped": skipped}


def _assign(session: Session, patient: Patient, clinician_id: uuid.UUID, actor: str, note: str) -> None:
    patient.referring_clinician_id = clinician_id
    record_transition(session, patient, PatientStatus.ASSIGNED.value, actor, note)
    session.execute(delete(AssignmentProposal).where(AssignmentProposal.patient_id == patient.id))


def reassign_panel(session: Session, territory: Territory, departing: Clinician, actor: str) -> dict[str, int]:
    """A clinician leaves: their panel goes to the other doctors, priority patients first (exact);
    those who find no place go back to the waiting list, keeping their original request date.
    A declared patient with a new doctor is "assigned" again (a new declaration is to be signed). Commits."""
    immediate(session)
    today = dt.datetime.now(PARIS).date()
    doctors = [d for d in panel_doctors(session, today) if d.id != str(departing.id)]
    placeholder = m.Doctor(id=str(departing.id), lat=0.0, lon=0.0, capacity=0, radius_km=1.0)
    rows = session.execute(
        select(*PATIENT_COLUMNS).where(Patient.referring_clinician_id == departing.id, Patient.status.in_(ENROLLED))
    ).all()
    panel = matching_patients(territory, today, rows)
    record(session, "read", "patient", "*", f"départ de {departing.display_name} : {len(panel)} patients lus")
    problem = m.Problem(doctors=(*doctors, placeholder), patients=(), proposals=3)
    solution = m.reassign_departing(problem, placeholder.id, panel)
    note = f"départ de {departing.display_name}"
    # The departing doctor takes no new patient from now on, and their pending proposals go.
    departing.panel_cap = 0
    session.execute(delete(AssignmentProposal).where(AssignmentProposal.clinician_id == departing.id))
    moved = back = 0
    for a in solution.assignments:
        patient = session.get(Patient, uuid.UUID(a.patient))
        if patient is None:
            continue
        _assign(session, patient, uuid.UUID(a.doctor), actor, f"{note} : réattribué ({a.km:.1f} km)")
        moved += 1
    for u in solution.unassigned:
        patient = session.get(Patient, uuid.UUID(u.patient))
        if patient is None:
            continue
        patient.referring_clinician_id = None
        record_transition(
            session, patient, PatientStatus.WAITING.value, actor, f"{note} : pas de place, liste d'attente"
        )
        back += 1
    # Patients whose commune is unknown to the territory cannot be placed by distance: back to the list too.
    placed = {a.patient for a in solution.assignments} | {u.patient for u in solution.unassigned}
    for pid, *_rest in rows:
        if str(pid) in placed:
            continue
        patient = session.get(Patient, pid)
        if patient is not None:
            patient.referring_clinician_id = None
            record_transition(session, patient, PatientStatus.WAITING.value, actor, f"{note} : liste d'attente")
            back += 1
    session.commit()
    return {"reassigned": moved, "waiting": back}
