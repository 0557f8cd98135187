"""Patients: validation and creation (desk entry). Eligibility and the lifecycle come with enrolment."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from advanced_alchemy.repository import SQLAlchemySyncRepository
from advanced_alchemy.service import SQLAlchemySyncRepositoryService
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.audit.recorder import record
from app.core.errors import FieldErrors
from app.core.identifiers import clean_nir, nir_error
from app.core.parsing import Collector
from app.db.engine import immediate
from app.patients.models import Channel, Patient, PatientEvent, PatientRequest, PatientStatus
from sites.communes import Territory, normalise

MAX_AGE_YEARS = 120
REFERENCE_ATTEMPTS = 50
"""On PostgreSQL, concurrent requests may pick the same next number; each loser tries the next one."""
EXCLUSION_REASONS = {
    "has_gp": "a déjà un médecin traitant sur le territoire",
    "outside": "habite hors du territoire",
    "duplicate": "demande en double",
    "other": "autre motif",
}


def france() -> Territory:
    """Every commune of France (cached): a request from outside the territory is recorded, then excluded."""
    from app.clinicians.services import france as national

    return national()


class PatientRepository(SQLAlchemySyncRepository[Patient]):
    model_type = Patient


class PatientService(SQLAlchemySyncRepositoryService[Patient, PatientRepository]):
    repository_type = PatientRepository

    @property
    def session(self) -> Session:
        return self.repository.session  # type: ignore[return-value]

    def clean(
        self,
        data: Mapping[str, Any],
        territory: Territory,
        today: dt.date,
        *,
        unique_nir: bool = True,
        allow_outside: bool = False,
        require_contact: bool = True,
    ) -> dict[str, Any]:
        """The patient's fields, typed, or ``FieldErrors`` with one French message per faulty field.

        ``allow_outside``: a commune of France outside the territory is accepted (the request is then
        recorded and excluded, with the reason); otherwise it is an error. ``require_contact``: a
        phone or an e-mail is required (a CPAM list may carry neither)."""
        c = Collector(data)
        first = c.text("first_name", required=True, max_len=80, label="Le prénom")
        last = c.text("last_name", required=True, max_len=80, label="Le nom")
        birth = c.date("birth_date", required=True, label="La date de naissance")
        if birth is not None and "birth_date" not in c.errors:
            if birth > today:
                c.errors["birth_date"] = "La date de naissance ne peut pas être dans le futur."
            elif birth.year < today.year - MAX_AGE_YEARS:
                c.errors["birth_date"] = f"La date de naissance indique plus de {MAX_AGE_YEARS} ans : vérifiez-la."
        sex = c.text("sex", required=True, max_len=1, label="Le sexe").upper()
        if sex and sex not in {"F", "M"}:
            c.errors["sex"] = "Le sexe doit être F ou M."
        commune_text = c.text("commune", required=True, label="La commune")
        found = territory.matches(commune_text) if commune_text else []
        if commune_text and not found and allow_outside:
            found = france().matches(commune_text)
        if commune_text and len(found) != 1:
            c.errors["commune"] = (
                "Plusieurs communes correspondent : précisez le code postal ou le code INSEE."
                if found
                else f"Commune inconnue sur le territoire : « {commune_text} »."
            )
        phone = c.phone("phone")
        email = c.email("email")
        if require_contact and not phone and not email and "phone" not in c.errors and "email" not in c.errors:
            c.errors["phone"] = "Indiquez un téléphone ou une adresse e-mail pour pouvoir recontacter le patient."
        nir = clean_nir(c.text("nir", max_len=25, label="Le numéro de sécurité sociale"))
        if nir and "nir" not in c.errors:
            if msg := nir_error(nir):
                c.errors["nir"] = msg
            elif sex in {"F", "M"} and nir[0] in "12" and nir[0] != ("1" if sex == "M" else "2"):
                c.errors["nir"] = "Le premier chiffre du numéro de sécurité sociale ne correspond pas au sexe indiqué."
            elif birth is not None and nir[1:3] != f"{birth.year % 100:02d}":
                c.errors["nir"] = "L'année du numéro de sécurité sociale ne correspond pas à la date de naissance."
            elif (
                unique_nir
                and (existing := self.repository.session.scalar(select(Patient.id).where(Patient.nir == nir)))
                is not None
            ):
                # Telling that this NIR is already a patient of the SMP is a read of that record.
                record(self.session, "lookup", "patient", existing, "NIR déjà enregistré (saisie)")
                c.errors["nir"] = "Ce numéro de sécurité sociale est déjà enregistré pour un autre patient."
        if c.errors:
            raise FieldErrors(c.errors)
        return {
            "first_name": first,
            "last_name": last,
            "search_name": normalise(f"{last} {first}"),
            "birth_date": birth,
            "sex": sex,
            "commune_insee": found[0].insee,
            "address": c.text("address", max_len=255),
            "phone": phone,
            "email": email or None,
            "nir": nir or None,
            "ald": c.boolean("ald"),
            "c2s": c.boolean("c2s"),
            "fragile": c.boolean("fragile"),
            "needs_home_visit": c.boolean("needs_home_visit"),
            "needs_pmr": c.boolean("needs_pmr"),
            "usual_doctor": c.text("usual_doctor", max_len=160, label="Le nom du médecin habituel"),
        }

    def next_reference(self, year: int) -> str:
        prefix = f"SMP-{year}-"
        last = self.repository.session.scalar(
            select(func.max(Patient.reference)).where(Patient.reference.like(prefix + "%"))
        )
        number = int(last.removeprefix(prefix)) + 1 if last else 1
        return f"{prefix}{number:06d}"

    def create_patient(
        self, data: Mapping[str, Any], territory: Territory, *, channel: Channel = Channel.DESK, actor: str = "api"
    ) -> Patient:
        """Validate and insert a new patient (a NIR already on file is refused, not joined): the API's
        strict creation. The request and the history rows are written as for every channel."""
        now = dt.datetime.now(dt.UTC)
        immediate(self.session)  # see submit_request
        values = self.clean(data, territory, now.date())
        try:
            patient = _insert_new(
                self.session, values, channel=channel, actor=actor, referrer="", referred_by=None, usual="", now=now
            )
        except IntegrityError:
            self.session.rollback()
            raise FieldErrors(
                {"nir": "Ce numéro de sécurité sociale est déjà enregistré pour un autre patient."}
            ) from None
        self.session.commit()
        return patient


def find_same_person(session: Session, nir: str | None, search_name: str, birth_date: dt.date) -> Patient | None:
    """The patient already on file for this person: same NIR, or same name and birth date
    (accent- and case-insensitive)."""
    if nir:
        found = session.scalar(select(Patient).where(Patient.nir == nir))
        if found is not None:
            return found
    same = select(Patient).where(Patient.search_name == search_name, Patient.birth_date == birth_date)
    if nir:
        # Two different NIRs are two different people, whatever their names.
        same = same.where(Patient.nir.is_(None))
    return session.scalar(same.limit(1))


def record_transition(session: Session, patient: Patient, to_status: str, actor: str, note: str = "") -> None:
    session.add(
        PatientEvent(
            patient_id=patient.id,
            from_status=patient.status if patient.status != to_status else "",
            to_status=to_status,
            actor=actor[:80],
            note=note[:255],
            occurred_at=dt.datetime.now(dt.UTC),
        )
    )
    patient.status = to_status


@dataclass
class Intake:
    patient: Patient
    joined: bool
    """True when the request joined a patient already on file (no duplicate was created)."""
    excluded: str | None = None
    """The exclusion reason's key when the new request was excluded at once (``EXCLUSION_REASONS``)."""


def submit_request(
    session: Session,
    data: Mapping[str, Any],
    territory: Territory,
    *,
    channel: Channel,
    actor: str,
    referrer: str = "",
    referred_by: uuid.UUID | None = None,
) -> Intake:
    """A request from any channel: validated, joined to the person's existing record when there is
    one, else a new patient in status "requested"; the request keeps its channel. Commits."""
    now = dt.datetime.now(dt.UTC)
    # The write lock first (SQLite): the look-up of the same person and the insert must not race
    # another request for the same person, nor fail upgrading a read snapshot to a write.
    immediate(session)
    values = PatientService(session=session).clean(data, territory, now.date(), unique_nir=False, allow_outside=True)
    intake = add_request(
        session,
        values,
        territory,
        channel=channel,
        actor=actor,
        referrer=referrer,
        referred_by=referred_by,
        has_gp=_yes(data.get("has_gp")),
        now=now,
    )
    session.commit()
    return intake


def _yes(value: Any) -> bool:
    return value is True or str(value or "").strip().lower() in {"1", "true", "on", "yes", "oui", "o"}


def add_request(
    session: Session,
    values: dict[str, Any],
    territory: Territory,
    *,
    channel: Channel,
    actor: str,
    referrer: str = "",
    referred_by: uuid.UUID | None = None,
    has_gp: bool = False,
    now: dt.datetime,
) -> Intake:
    """Record one validated request (``values`` from ``PatientService.clean``), without committing:
    joined to the person's record when there is one, else a new patient whose eligibility is
    assessed at once — living outside the territory or having a referring doctor excludes them,
    with the reason, in the history."""
    usual = values.get("usual_doctor", "")
    existing = find_same_person(session, values["nir"], values["search_name"], values["birth_date"])
    if existing is not None:
        session.add(
            PatientRequest(
                patient_id=existing.id,
                channel=channel.value,
                referrer=referrer[:255],
                referred_by=referred_by,
                usual_doctor=usual,
                received_at=now,
            )
        )
        if usual and not existing.usual_doctor:
            existing.usual_doctor = usual
        session.flush()
        return Intake(existing, joined=True)
    patient = _insert_new(
        session, values, channel=channel, actor=actor, referrer=referrer, referred_by=referred_by, usual=usual, now=now
    )
    reason = None
    if values["commune_insee"] not in territory:
        reason = "outside"
    elif has_gp:
        reason = "has_gp"
    if reason is not None:
        patient.exclusion_reason = EXCLUSION_REASONS[reason]
        record_transition(
            session, patient, PatientStatus.EXCLUDED.value, "système : éligibilité", EXCLUSION_REASONS[reason]
        )
        session.flush()
    return Intake(patient, joined=False, excluded=reason)


def _insert_new(
    session: Session,
    values: dict[str, Any],
    *,
    channel: Channel,
    actor: str,
    referrer: str,
    referred_by: uuid.UUID | None,
    usual: str,
    now: dt.datetime,
) -> Patient:
    """A new patient in status "requested", with its request and its first history row, flushed.
    Retries the reference number if a concurrent request took it — inside a savepoint, so that the
    caller's transaction (a whole CPAM list) keeps what it already wrote; an IntegrityError that
    is not about the reference (a NIR taken meanwhile) is raised to the caller."""
    service = PatientService(session=session)
    for _attempt in range(REFERENCE_ATTEMPTS):
        reference = service.next_reference(now.year)
        patient = Patient(
            **values, reference=reference, channel=channel.value, status=PatientStatus.REQUESTED.value, requested_at=now
        )
        try:
            with session.begin_nested():
                session.add(patient)
        except IntegrityError:
            if session.scalar(select(Patient.id).where(Patient.reference == reference)) is None:
                raise
            continue
        session.add(
            PatientRequest(
                patient_id=patient.id,
                channel=channel.value,
                referrer=referrer[:255],
                referred_by=referred_by,
                usual_doctor=usual,
                received_at=now,
            )
        )
        session.add(
            PatientEvent(
                patient_id=patient.id,
                from_status="",
                to_status=PatientStatus.REQUESTED.value,
                actor=actor[:80],
                note=f"demande reçue ({channel.value})",
                occurred_at=now,
            )
        )
        session.flush()
        return patient
    raise RuntimeError("could not allocate a request reference")


def tier_of(patient: Patient, today: dt.date) -> int:
    """Tier 1: ALD or fragile; tier 2: C2S, aged 60 or more, or under 16; tier 3: everyone else."""
    if patient.ald or patient.fragile:
        return 1
    age = patient.age_on(today)
    return 2 if (patient.c2s or age >= 60 or age < 16) else 3
