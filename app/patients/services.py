"""Patients: validation and creation (desk entry). Eligibility and the lifecycle come with enrolment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
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
from app.patients.models import Channel, Patient, PatientStatus
from sites.communes import Territory, normalise

MAX_AGE_YEARS = 120


class PatientRepository(SQLAlchemySyncRepository[Patient]):
    model_type = Patient


class PatientService(SQLAlchemySyncRepositoryService[Patient, PatientRepository]):
    repository_type = PatientRepository

    @property
    def session(self) -> Session:
        return self.repository.session  # type: ignore[return-value]

    def clean(self, data: Mapping[str, Any], territory: Territory, today: dt.date) -> dict[str, Any]:
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
        if commune_text and len(found) != 1:
            c.errors["commune"] = (
                "Plusieurs communes correspondent : précisez le code postal ou le code INSEE."
                if found
                else f"Commune inconnue sur le territoire : « {commune_text} »."
            )
        phone = c.phone("phone")
        email = c.email("email")
        if not phone and not email and "phone" not in c.errors and "email" not in c.errors:
            c.errors["phone"] = "Indiquez un téléphone ou une adresse e-mail pour pouvoir recontacter le patient."
        nir = clean_nir(c.text("nir", max_len=25, label="Le numéro de sécurité sociale"))
        if nir and "nir" not in c.errors:
            if msg := nir_error(nir):
                c.errors["nir"] = msg
            elif sex in {"F", "M"} and nir[0] in "12" and nir[0] != ("1" if sex == "M" else "2"):
                c.errors["nir"] = "Le premier chiffre du numéro de sécurité sociale ne correspond pas au sexe indiqué."
            elif birth is not None and nir[1:3] != f"{birth.year % 100:02d}":
                c.errors["nir"] = "L'année du numéro de sécurité sociale ne correspond pas à la date de naissance."
            elif (existing := self.repository.session.scalar(select(Patient.id).where(Patient.nir == nir))) is not None:
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
        }

    def next_reference(self, year: int) -> str:
        prefix = f"SMP-{year}-"
        last = self.repository.session.scalar(
            select(func.max(Patient.reference)).where(Patient.reference.like(prefix + "%"))
        )
        number = int(last.removeprefix(prefix)) + 1 if last else 1
        return f"{prefix}{number:06d}"

    def create_patient(
        self, data: Mapping[str, Any], territory: Territory, *, channel: Channel = Channel.DESK
    ) -> Patient:
        """Validate and insert; retries the reference number if another request took it meanwhile."""
        now = dt.datetime.now(dt.UTC)
        values = self.clean(data, territory, now.date())
        session = self.repository.session
        for _attempt in range(5):
            patient = Patient(
                **values,
                reference=self.next_reference(now.year),
                channel=channel.value,
                status=PatientStatus.REQUESTED.value,
                requested_at=now,
            )
            session.add(patient)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                if values["nir"] and session.scalar(select(Patient.id).where(Patient.nir == values["nir"])):
                    raise FieldErrors(
                        {"nir": "Ce numéro de sécurité sociale est déjà enregistré pour un autre patient."}
                    ) from None
                continue
            return patient
        raise RuntimeError("could not allocate a request reference")
