"""Likely duplicates: records with the same birth date and commune and similar names (a typo, a
maiden name, an inverted first name), proposed to the secretariat for merging. A merge keeps one
record, moves everything of the other onto it, and is audited; "not the same person" is kept so
the pair is not proposed again."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.recorder import record
from app.core.errors import Conflict
from app.db.engine import immediate
from app.patients.models import (
    AssignmentProposal,
    ContactAttempt,
    NotDuplicate,
    Patient,
    PatientEvent,
    PatientRequest,
    PatientStatus,
)
from app.patients.services import record_transition
from app.rota.models import Booking

SIMILARITY = 0.75
"""Names at least this similar (difflib ratio on the accent-free ``last first``) are proposed."""
ADVANCED = {
    PatientStatus.REQUESTED.value: 1,
    PatientStatus.ELIGIBLE.value: 2,
    PatientStatus.WAITING.value: 3,
    PatientStatus.ASSIGNED.value: 4,
    PatientStatus.DECLARED.value: 5,
}
"""How far a request went: a merge keeps the further one (closed or excluded records never win)."""


@dataclass(frozen=True)
class Pair:
    first: Patient
    second: Patient
    score: float


def similarity(a: str, b: str) -> float:
    """How alike two normalised names are, whatever the order of the words (``martin anne`` and
    ``anne martin`` are alike)."""
    plain = SequenceMatcher(None, a, b).ratio()
    swapped = SequenceMatcher(None, " ".join(sorted(a.split())), " ".join(sorted(b.split()))).ratio()
    return max(plain, swapped)


def likely_pairs(session: Session, limit: int = 200) -> list[Pair]:
    """Pairs of records, same birth date and commune, similar names, not two different NIRs, not
    already judged different; the most alike first."""
    groups = (
        select(Patient.birth_date, Patient.commune_insee)
        .group_by(Patient.birth_date, Patient.commune_insee)
        .having(func.count() > 1)
        .subquery()
    )
    # Columns only: records are loaded (and their reading audited) for the pairs shown, not for
    # every candidate compared.
    candidates = session.execute(
        select(Patient.id, Patient.search_name, Patient.birth_date, Patient.commune_insee, Patient.nir)
        .join(
            groups,
            and_(groups.c.birth_date == Patient.birth_date, groups.c.commune_insee == Patient.commune_insee),
        )
        .where(Patient.status != PatientStatus.DECEASED.value)
        .order_by(Patient.birth_date, Patient.commune_insee, Patient.requested_at)
    ).all()
    judged = {(a, b) for a, b in session.execute(select(NotDuplicate.first_id, NotDuplicate.second_id))}
    by_key: dict[tuple[object, str], list[Any]] = {}
    for row in candidates:
        by_key.setdefault((row.birth_date, row.commune_insee), []).append(row)
    scored: list[tuple[float, uuid.UUID, uuid.UUID]] = []
    for group in by_key.values():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                if a.nir and b.nir and a.nir != b.nir:
                    continue
                if _key(a.id, b.id) in judged:
                    continue
                score = similarity(a.search_name, b.search_name)
                if score >= SIMILARITY:
                    scored.append((score, a.id, b.id))
    scored.sort(key=lambda t: -t[0])
    scored = scored[:limit]
    wanted = {i for _s, a, b in scored for i in (a, b)}
    records = {p.id: p for p in session.scalars(select(Patient).where(Patient.id.in_(wanted)))} if wanted else {}
    pairs = [Pair(records[a], records[b], score) for score, a, b in scored if a in records and b in records]
    return pairs


def _key(a: uuid.UUID, b: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    return (a, b) if str(a) < str(b) else (b, a)


def not_duplicate(session: Session, a: uuid.UUID, b: uuid.UUID, actor: str) -> None:
    first, second = _key(a, b)
    exists = session.scalar(
        select(NotDuplicate.id).where(NotDuplicate.first_id == first, NotDuplicate.second_id == second)
    )
    if exists is None:
        session.add(NotDuplicate(first_id=first, second_id=second, actor=actor[:80]))
        record(session, "judge", "patient", first, f"pas un doublon de {second}")
    session.commit()


def merge(session: Session, keep_id: uuid.UUID, drop_id: uuid.UUID, actor: str) -> Patient:
    """Merge ``drop`` into ``keep``: requests, history, calls and bookings move over; empty fields
    of ``keep`` are filled from ``drop``; flags add up; the earliest request date is kept (the wait
    counts from the first request); an assigned doctor is kept. ``drop`` is then deleted. Audited.
    Commits, or raises ``Conflict`` with nothing changed."""
    if keep_id == drop_id:
        raise Conflict("Choisissez deux dossiers différents.")
    immediate(session)
    keep = session.get(Patient, keep_id)
    drop = session.get(Patient, drop_id)
    if keep is None or drop is None:
        raise Conflict("L'un des deux dossiers n'existe plus (déjà fusionné ?).")
    if keep.nir and drop.nir and keep.nir != drop.nir:
        raise Conflict("Les deux dossiers ont des numéros de sécurité sociale différents : ce sont deux personnes.")
    nir = keep.nir or drop.nir
    live = (Booking.status == "booked",)
    for mine in session.scalars(select(Booking).where(Booking.patient_id == drop.id, *live)):
        clash = session.scalar(
            select(Booking.id).where(
                Booking.patient_id == keep.id, *live, Booking.starts_at < mine.ends_at, Booking.ends_at > mine.starts_at
            )
        )
        if clash is not None:
            raise Conflict(
                "Les deux dossiers ont des rendez-vous qui se chevauchent : annulez l'un d'eux avant de fusionner."
            )
    for name in ("address", "phone", "email"):
        if not getattr(keep, name) and getattr(drop, name):
            setattr(keep, name, getattr(drop, name))
    if drop.usual_doctor and (not keep.usual_doctor or (drop.usual_doctor_outcome and not keep.usual_doctor_outcome)):
        keep.usual_doctor, keep.usual_doctor_outcome = drop.usual_doctor, drop.usual_doctor_outcome
    for flag in ("ald", "c2s", "fragile", "needs_home_visit", "needs_pmr"):
        setattr(keep, flag, getattr(keep, flag) or getattr(drop, flag))
    keep.requested_at = min(keep.requested_at, drop.requested_at)
    if ADVANCED.get(drop.status, 0) > ADVANCED.get(keep.status, 0):
        keep.referring_clinician_id = drop.referring_clinician_id
        record_transition(session, keep, drop.status, actor, f"repris du dossier fusionné {drop.reference}")
    for model in (PatientRequest, PatientEvent, ContactAttempt):
        session.execute(update(model).where(model.patient_id == drop.id).values(patient_id=keep.id))
    session.execute(delete(AssignmentProposal).where(AssignmentProposal.patient_id.in_([keep.id, drop.id])))
    session.execute(
        delete(NotDuplicate).where(or_(NotDuplicate.first_id == drop.id, NotDuplicate.second_id == drop.id))
    )
    try:
        session.execute(update(Booking).where(Booking.patient_id == drop.id).values(patient_id=keep.id))
        drop_reference = drop.reference
        drop.nir = None
        session.flush()
        keep.nir = nir
        session.add(
            PatientEvent(
                patient_id=keep.id,
                from_status="",
                to_status=keep.status,
                actor=actor[:80],
                note=f"fusion : dossier {drop_reference} rattaché (doublon)",
                occurred_at=dt.datetime.now(dt.UTC),
            )
        )
        record(session, "merge", "patient", keep.id, f"fusion du dossier {drop.id} dans {keep.id}")
        session.delete(drop)
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(
            "Les deux dossiers ont des rendez-vous qui se chevauchent : annulez l'un d'eux avant de fusionner."
        ) from None
    session.commit()
    return keep
