"""Patients: desk entry by the secretary, the patient's page, and the JSON API."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, JSONBody
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED

from app.clinicians.models import Clinician
from app.core.errors import FieldErrors
from app.patients.models import STATUS_LABELS, Patient, PatientStatus
from app.patients.schemas import PatientCreate, PatientOut, patient_out
from app.patients.services import PatientService
from app.sites.schemas import set_fields
from app.web.auth import STAFF, require_roles
from app.web.forms import DbSession, FormData, form_values
from app.web.territory import commune_name, current_territory


def _get(db_session: DbSession, patient_id: uuid.UUID) -> Patient:
    patient = db_session.get(Patient, patient_id)  # audited: the recorder logs this read
    if patient is None:
        raise NotFoundException("Patient introuvable.")
    return patient


class PatientPages(Controller):
    path = "/patients"
    guards = [require_roles(*STAFF)]
    include_in_schema = False

    @get("/new", sync_to_thread=False, name="patient_new")
    def new_form(self) -> Template:
        return Template("patients/form.html", context={"values": {}, "errors": {}})

    @post("/new", sync_to_thread=True, name="patient_create")
    def create(self, request: Request[Any, Any, Any], db_session: DbSession, data: FormData) -> Template | Redirect:
        values = form_values(data)
        try:
            patient = PatientService(session=db_session).create_patient(values, current_territory())
        except FieldErrors as exc:
            db_session.rollback()
            return Template("patients/form.html", context={"values": values, "errors": exc.errors}, status_code=400)
        flash(request, f"Demande enregistrée sous le numéro {patient.reference}.", category="success")
        return Redirect(path=f"/patients/{patient.id}")

    @get("/{patient_id:uuid}", sync_to_thread=True, name="patient_detail")
    def detail(self, db_session: DbSession, patient_id: FromPath[uuid.UUID]) -> Template:
        patient = _get(db_session, patient_id)
        doctor = db_session.get(Clinician, patient.referring_clinician_id) if patient.referring_clinician_id else None
        return Template(
            "patients/detail.html",
            context={
                "patient": patient,
                "doctor": doctor,
                "commune": commune_name(patient.commune_insee),
                "status_label": STATUS_LABELS[PatientStatus(patient.status)],
            },
        )


class PatientApi(Controller):
    path = "/api/patients"
    tags = ["patients"]
    guards = [require_roles(*STAFF)]

    @post("/", sync_to_thread=True, status_code=HTTP_201_CREATED, summary="Register a patient (desk entry)")
    def create(self, db_session: DbSession, data: JSONBody[PatientCreate]) -> PatientOut:
        return patient_out(PatientService(session=db_session).create_patient(set_fields(data), current_territory()))

    @get("/{patient_id:uuid}", sync_to_thread=True, summary="One patient (the read is audited)")
    def get_patient(self, db_session: DbSession, patient_id: FromPath[uuid.UUID]) -> PatientOut:
        return patient_out(_get(db_session, patient_id))
