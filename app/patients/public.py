"""What a patient reaches without an account: the request form and where their request stands."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Template
from sqlalchemy import select

from app.audit.recorder import Actor, acting_as
from app.core.errors import FieldErrors
from app.core.parsing import clean_query
from app.patients.models import STATUS_LABELS, Channel, Patient, PatientStatus
from app.patients.services import PatientService, submit_request
from app.web.forms import DbSession, FormData, form_values
from app.web.territory import current_territory

NEXT_STEP = {
    PatientStatus.REQUESTED: "Votre demande est reçue. Le secrétariat l'examine et vous contactera.",
    PatientStatus.ELIGIBLE: "Votre demande est acceptée : vous êtes inscrit·e sur la liste d'attente.",
    PatientStatus.WAITING: "Vous êtes sur la liste d'attente. Les personnes les plus fragiles passent en premier ; "
    "nous vous appellerons dès qu'un médecin peut vous suivre.",
    PatientStatus.ASSIGNED: "Un médecin traitant vous est proposé. Le secrétariat vous appelle pour signer la "
    "déclaration de choix du médecin traitant.",
    PatientStatus.DECLARED: "Votre déclaration de médecin traitant est signée : c'est fait.",
    PatientStatus.EXCLUDED: "Votre demande n'a pas pu être retenue. Le secrétariat vous a expliqué pourquoi ; "
    "appelez-le pour toute question.",
    PatientStatus.LEFT: "Votre dossier est clos.",
    PatientStatus.MOVED: "Votre dossier est clos (déménagement).",
    PatientStatus.DECEASED: "Ce dossier est clos.",
}
LABELS = {
    "last_name": "Nom",
    "first_name": "Prénom",
    "birth_date": "Date de naissance",
    "sex": "Sexe",
    "commune": "Commune",
    "phone": "Téléphone",
    "email": "E-mail",
    "nir": "N° de sécurité sociale",
    "consent": "Consentement",
}


class PublicRequestPages(Controller):
    include_in_schema = False

    @get("/demande", sync_to_thread=False, name="public_request")
    def form(self) -> Template:
        return Template("public/request.html", context={"values": {}, "errors": {}, "labels": LABELS})

    @post("/demande", sync_to_thread=True, name="public_request_submit")
    def submit(self, db_session: DbSession, data: FormData) -> Template:
        values = form_values(data)
        if str(values.get("website", "")).strip():
            # The honeypot field is invisible to people: a robot filled it. Answer as usual, store nothing.
            return Template("public/request_done.html", context={"reference": None, "joined": False, "excluded": None})
        errors: dict[str, str] = {}
        if str(values.get("consent", "")) != "on":
            errors["consent"] = "Cochez la case pour accepter que vos données servent à traiter votre demande."
        try:
            # Every faulty field at once, the consent included: one round trip to fix them all.
            PatientService(session=db_session).clean(
                values, current_territory(), dt.date.today(), unique_nir=False, allow_outside=True
            )
        except FieldErrors as exc:
            errors.update(exc.errors)
        if errors:
            return Template(
                "public/request.html", status_code=400, context={"values": values, "errors": errors, "labels": LABELS}
            )
        with acting_as(Actor(None, "public:request-form")):
            intake = submit_request(
                db_session, values, current_territory(), channel=Channel.PUBLIC_FORM, actor="public:request-form"
            )
        # A second request never reveals the first one's reference (it could be someone else typing).
        return Template(
            "public/request_done.html",
            context={
                "reference": None if intake.joined else intake.patient.reference,
                "joined": intake.joined,
                "excluded": intake.excluded,
            },
        )

    @get("/suivi", sync_to_thread=False, name="public_status")
    def status_form(self) -> Template:
        return Template("public/status.html", context={"values": {}, "result": None, "error": ""})

    @post("/suivi", sync_to_thread=True, name="public_status_submit")
    def status(self, request: Request[Any, Any, Any], db_session: DbSession, data: FormData) -> Template:
        reference = clean_query(str(data.get("reference", "")), 20).upper()
        try:
            birth = dt.date.fromisoformat(str(data.get("birth_date", "")).strip())
        except ValueError:
            birth = None
        patient = None
        if reference and birth:
            with acting_as(Actor(None, "public:status-page")):
                patient = db_session.scalar(
                    select(Patient).where(Patient.reference == reference, Patient.birth_date == birth)
                )
        values = {"reference": reference, "birth_date": birth.isoformat() if birth else ""}
        if patient is None:
            # The same answer whether the number or the date is wrong: nothing to guess from.
            return Template(
                "public/status.html",
                status_code=404,
                context={
                    "values": values,
                    "result": None,
                    "error": "Aucune demande ne correspond à ce numéro et cette date de naissance.",
                },
            )
        status = PatientStatus(patient.status)
        return Template(
            "public/status.html",
            context={
                "values": values,
                "error": "",
                "result": {"label": STATUS_LABELS[status], "next": NEXT_STEP[status], "since": patient.requested_at},
            },
        )
