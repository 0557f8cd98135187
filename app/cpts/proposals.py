"""Proposals of the CPTS procedure: for a patient's request, 2–3 census GPs that fit, with their
distances and why each fits — computed by ``scheduling.matching.propose``, the same rules the SMP's
assignment uses — then the proposals sent, each GP's answer, and the outcome."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import Conflict, FieldErrors
from app.cpts.models import Accepts, CensusGp, CptsProposal
from app.db.engine import immediate
from app.patients.models import WAITING_STATUSES, Patient, PatientStatus
from app.patients.services import france, record_transition
from scheduling.matching import Doctor, propose
from scheduling.matching import Patient as MatchPatient
from sites.communes import Commune, Territory

PROPOSALS = 3
"""How many GPs the CPTS offers a patient (the action card says 2–3)."""
ANSWERS = {"accepted": "accepte de devenir médecin traitant", "refused": "ne peut pas prendre ce patient"}


@dataclass(frozen=True)
class Offer:
    gp: CensusGp
    km: float
    reasons: tuple[str, ...]


def _commune(territory: Territory, insee: str) -> Commune | None:
    return territory.by_insee(insee) or france().by_insee(insee)


def as_doctor(gp: CensusGp, territory: Territory, today: dt.date) -> Doctor | None:
    """The census GP as the matching module sees them (no number of places: ``capacity=None``).
    A GP who does not accept new patients, or who is leaving, is not offered to anyone."""
    commune = _commune(territory, gp.commune_insee)
    if commune is None or (gp.radius_km is None and not gp.perimeter_communes):
        return None
    return Doctor(
        id=str(gp.id),
        lat=commune.lat,
        lon=commune.lon,
        capacity=None,
        radius_km=gp.radius_km,
        home_visits=gp.home_visits,
        pmr=gp.pmr,
        accepting=gp.accepts != Accepts.NO and gp.departure_date is None,
        communes=frozenset(gp.perimeter_communes) or None,
    )


def as_patient(patient: Patient, territory: Territory, today: dt.date) -> MatchPatient:
    commune = _commune(territory, patient.commune_insee)
    if commune is None:
        raise Conflict("La commune du patient est inconnue : corrigez-la sur son dossier.")
    return MatchPatient(
        id=str(patient.id),
        lat=commune.lat,
        lon=commune.lon,
        ald=patient.ald,
        c2s=patient.c2s,
        age=patient.age_on(today),
        fragile=patient.fragile,
        needs_home_visit=patient.needs_home_visit,
        needs_pmr=patient.needs_pmr,
        commune=patient.commune_insee,
        waiting_since=patient.requested_at.date(),
    )


def proposals_of(session: Session, patient: Patient) -> list[CptsProposal]:
    return list(
        session.scalars(
            select(CptsProposal)
            .where(CptsProposal.patient_id == patient.id)
            .order_by(CptsProposal.sent_at.desc(), CptsProposal.rank)
        )
    )


def offers_for(
    session: Session, patient: Patient, territory: Territory, today: dt.date, k: int | None = PROPOSALS
) -> list[Offer]:
    """The ``k`` census GPs that fit the patient (``None``: all of them), nearest first, GPs who
    already refused this patient (or were already proposed and have not answered) left out."""
    asked = set(session.scalars(select(CptsProposal.gp_id).where(CptsProposal.patient_id == patient.id)))
    gps = {
        str(gp.id): gp
        for gp in session.scalars(select(CensusGp).where(CensusGp.accepts != Accepts.NO))
        if gp.id not in asked
    }
    doctors = [d for gp in gps.values() if (d := as_doctor(gp, territory, today)) is not None]
    found = propose(as_patient(patient, territory, today), doctors, k=len(doctors) if k is None else k)
    offers = []
    for p in found:
        gp = gps[p.doctor]
        reasons = p.reasons
        if gp.accepts == Accepts.CONDITIONS:
            reasons = (*reasons[:-1], f"accepte sous conditions : {gp.conditions}")
        if gp.activity:
            reasons = (*reasons, f"activité : {gp.activity}")
        offers.append(Offer(gp=gp, km=p.km, reasons=reasons))
    return offers


def send(
    session: Session,
    patient: Patient,
    gp_ids: Sequence[uuid.UUID],
    territory: Territory,
    actor: str,
    today: dt.date,
) -> list[CptsProposal]:
    """Record the proposals sent to the patient (the GPs chosen among the offers, in their order).
    Each GP is checked again: still accepting, still fitting. Commits."""
    if not gp_ids:
        raise FieldErrors({"gp": "Cochez au moins un médecin à proposer."})
    if len(gp_ids) > PROPOSALS:
        raise FieldErrors({"gp": f"Proposez au plus {PROPOSALS} médecins à la fois."})
    immediate(session)
    session.refresh(patient)
    if patient.status not in WAITING_STATUSES:
        raise Conflict("Ce patient n'attend plus de médecin traitant : rien n'a été envoyé.")
    fitting = {o.gp.id: o for o in offers_for(session, patient, territory, today, k=None)}
    missing = [g for g in gp_ids if g not in fitting]
    if missing:
        session.rollback()
        raise Conflict("Un des médecins choisis ne convient plus (réponse changée ou déjà sollicité) : recalculez.")
    sent = []
    for rank, gp_id in enumerate(gp_ids, start=1):
        offer = fitting[gp_id]
        row = CptsProposal(
            patient_id=patient.id,
            gp_id=gp_id,
            rank=rank,
            km=round(offer.km, 2),
            reasons="; ".join(offer.reasons)[:500],
            sent_at=today,
            sent_by=actor[:80],
            answer="pending",
        )
        session.add(row)
        sent.append(row)
    names = ", ".join(fitting[g].gp.name for g in gp_ids)
    record_transition(session, patient, patient.status, actor, f"CPTS : médecins proposés — {names}")
    session.commit()
    return sent


def answer(session: Session, proposal: CptsProposal, outcome: str, actor: str, today: dt.date) -> Patient:
    """The GP's answer. Accepted: the patient is taken on by that GP on that date and leaves the
    list (history kept). Refused: the GP is not proposed to this patient again. Commits."""
    if outcome not in ANSWERS:
        raise FieldErrors({"answer": "Indiquez la réponse du médecin."})
    immediate(session)
    session.refresh(proposal)
    patient = session.get(Patient, proposal.patient_id)
    gp = session.get(CensusGp, proposal.gp_id)
    if patient is None or gp is None:
        raise Conflict("Cette proposition n'existe plus.")
    if proposal.answer != "pending":
        raise Conflict("La réponse de ce médecin est déjà enregistrée.")
    if outcome == "accepted" and patient.status not in WAITING_STATUSES:
        raise Conflict("Ce patient n'attend plus de médecin traitant : la réponse n'a pas été enregistrée.")
    proposal.answer = outcome
    proposal.answered_on = today
    proposal.answered_by = actor[:80]
    if outcome == "accepted":
        record_transition(
            session,
            patient,
            PatientStatus.LEFT.value,
            actor,
            f"pris en charge par {gp.name} (recensement CPTS) le {today.strftime('%d/%m/%Y')}",
        )
    else:
        record_transition(session, patient, patient.status, actor, f"CPTS : {gp.name} ne peut pas le prendre")
    session.commit()
    return patient


def taken_on_by(session: Session, patient: Patient) -> CptsProposal | None:
    return session.scalar(
        select(CptsProposal).where(CptsProposal.patient_id == patient.id, CptsProposal.answer == "accepted")
    )
