"""Patients: desk entry by the secretary, the patient's page, and the JSON API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy import case, or_, select

from app.accounts.models import User
from app.audit.recorder import record
from app.clinicians.models import Clinician
from app.core.dates import PARIS
from app.core.errors import Conflict, FieldErrors, user_message
from app.core.parsing import clean_query
from app.cpts.models import CensusGp
from app.patients import lifecycle
from app.patients.models import (
    CHANNEL_LABELS,
    CONTACT_OUTCOMES,
    STATUS_LABELS,
    WAITING_STATUSES,
    Channel,
    ContactAttempt,
    Patient,
    PatientEvent,
    PatientRequest,
    PatientStatus,
)
from app.patients.schemas import PatientCreate, PatientOut, patient_out
from app.patients.services import PatientService, submit_request, tier_of
from app.settings import get_settings
from app.sites.models import Site
from app.sites.schemas import set_fields
from app.web.auth import STAFF, require_roles
from app.web.forms import DbSession, FormData, form_values
from app.web.pagination import paginate
from app.web.territory import commune_name, current_territory
from sites.geo import haversine_km


def get_patient(db_session: DbSession, patient_id: uuid.UUID) -> Patient:
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
    def create(self, request: Request[User, Any, Any], db_session: DbSession, data: FormData) -> Template | Redirect:
        values = form_values(data)
        try:
            intake = submit_request(
                db_session, values, current_territory(), channel=Channel.DESK, actor=request.user.username
            )
        except FieldErrors as exc:
            db_session.rollback()
            return Template("patients/form.html", context={"values": values, "errors": exc.errors}, status_code=400)
        if intake.joined:
            flash(
                request,
                f"Cette personne a déjà une demande ({intake.patient.reference}) : la nouvelle demande "
                "y est rattachée.",
                category="info",
            )
        else:
            flash(request, f"Demande enregistrée sous le numéro {intake.patient.reference}.", category="success")
        return Redirect(path=f"/patients/{intake.patient.id}")

    @get("/", sync_to_thread=True, name="waiting_list")
    def waiting_list(
        self,
        db_session: DbSession,
        tier: FromQuery[int | None] = None,
        commune: FromQuery[str] = "",
        channel: FromQuery[str] = "",
        age: FromQuery[str] = "",
        site: FromQuery[uuid.UUID | None] = None,
        departing: FromQuery[uuid.UUID | None] = None,
        page: FromQuery[int] = 1,
    ) -> Template:
        """Patients waiting for a referring doctor: tier 1 first, then 2, then 3; longest wait first."""
        today = dt.datetime.now(PARIS).date()
        years = lambda n: dt.date(today.year - n, today.month, min(today.day, 28))  # noqa: E731
        tier1 = or_(Patient.ald.is_(True), Patient.fragile.is_(True))
        tier2 = or_(Patient.c2s.is_(True), Patient.birth_date <= years(60), Patient.birth_date > years(16))
        tier_expr = case((tier1, 1), (tier2, 2), else_=3)
        stmt = select(Patient).where(Patient.status.in_(WAITING_STATUSES), Patient.suspended_at.is_(None))
        if tier in (1, 2, 3):
            stmt = stmt.where(tier_expr == tier)
        bands = {
            "0-15": (years(16), None),
            "16-59": (years(60), years(16)),
            "60-69": (years(70), years(60)),
            "70+": (None, years(70)),
        }
        if age in bands:
            older_than, younger_than = bands[age]
            if older_than:
                stmt = stmt.where(Patient.birth_date > older_than)
            if younger_than:
                stmt = stmt.where(Patient.birth_date <= younger_than)
        if channel in {c.value for c in Channel}:
            stmt = stmt.where(Patient.channel == channel)
        departing_gp = db_session.get(CensusGp, departing) if departing else None
        if departing_gp is not None:
            stmt = stmt.where(Patient.departing_gp_id == departing_gp.id)
        territory = current_territory()
        if commune.strip():
            found = territory.matches(clean_query(commune))
            stmt = stmt.where(Patient.commune_insee.in_([c.insee for c in found] or ["-"]))
        sites = db_session.scalars(select(Site).where(Site.active.is_(True)).order_by(Site.name)).all()
        if site is not None and sites:
            nearest = {
                c.insee: min(sites, key=lambda s: haversine_km(c.lat, c.lon, s.lat, s.lon)).id
                for c in territory.communes
            }
            stmt = stmt.where(Patient.commune_insee.in_([i for i, s_id in nearest.items() if s_id == site] or ["-"]))
        result = paginate(db_session, stmt.order_by(tier_expr, Patient.requested_at), page, get_settings().page_size)
        if result.items:
            record(db_session, "list", "patient", "*", f"liste d'attente : {len(result.items)} patients affichés")
            db_session.commit()
        query = urlencode(
            {
                k: v
                for k, v in {
                    "tier": tier or "",
                    "commune": commune,
                    "channel": channel,
                    "age": age,
                    "site": site or "",
                    "departing": departing_gp.id if departing_gp else "",
                }.items()
                if v
            }
        )
        return Template(
            "patients/waiting.html",
            context={
                "page": result,
                "today": today,
                "tier_of": tier_of,
                "commune_name": commune_name,
                "sites": sites,
                "filters": {"tier": tier, "commune": commune, "channel": channel, "age": age, "site": site},
                "channels": CHANNEL_LABELS,
                "departing": departing_gp,
                "base": f"/patients?{query}&" if query else "/patients?",
            },
        )

    @get("/{patient_id:uuid}", sync_to_thread=True, name="patient_detail")
    def detail(self, db_session: DbSession, patient_id: FromPath[uuid.UUID]) -> Template:
        patient = get_patient(db_session, patient_id)
        doctor = db_session.get(Clinician, patient.referring_clinician_id) if patient.referring_clinician_id else None
        requests = db_session.scalars(
            select(PatientRequest).where(PatientRequest.patient_id == patient.id).order_by(PatientRequest.received_at)
        ).all()
        events = db_session.scalars(
            select(PatientEvent).where(PatientEvent.patient_id == patient.id).order_by(PatientEvent.occurred_at)
        ).all()
        return Template(
            "patients/detail.html",
            context={
                "requests": requests,
                "events": events,
                "next_statuses": lifecycle.NEXT.get(patient.status, ()),
                "exclusion_reasons": lifecycle.EXCLUSION_REASONS,
                "contacts": db_session.scalars(
                    select(ContactAttempt)
                    .where(ContactAttempt.patient_id == patient.id)
                    .order_by(ContactAttempt.occurred_at)
                ).all(),
                "outcomes": CONTACT_OUTCOMES,
                "channels": CHANNEL_LABELS,
                "statuses": STATUS_LABELS,
                "patient": patient,
                "doctor": doctor,
                "commune": commune_name(patient.commune_insee),
                "status_label": STATUS_LABELS[PatientStatus(patient.status)],
            },
        )

    @get("/checks", sync_to_thread=True, name="patient_checks")
    def checks(self, db_session: DbSession) -> Template:
        """Requests to check: waiting for more than six months, and the suspended ones."""
        now = dt.datetime.now(dt.UTC)
        old = db_session.scalars(
            select(Patient)
            .where(
                Patient.status.in_(WAITING_STATUSES),
                Patient.suspended_at.is_(None),
                Patient.requested_at < now - dt.timedelta(days=lifecycle.WAITING_TOO_LONG_DAYS),
            )
            .order_by(Patient.requested_at)
            .limit(200)
        ).all()
        suspended = db_session.scalars(
            select(Patient).where(Patient.suspended_at.is_not(None)).order_by(Patient.suspended_at).limit(200)
        ).all()
        if old or suspended:
            record(db_session, "list", "patient", "*", f"à vérifier : {len(old) + len(suspended)} patients")
            db_session.commit()
        return Template(
            "patients/checks.html",
            context={"old": old, "suspended": suspended, "today": now.date(), "commune_name": commune_name},
        )

    @post("/{patient_id:uuid}/status", sync_to_thread=True, name="patient_status")
    def change_status(
        self, request: Request[User, Any, Any], db_session: DbSession, patient_id: FromPath[uuid.UUID], data: FormData
    ) -> Redirect:
        patient = get_patient(db_session, patient_id)
        try:
            lifecycle.change_status(
                db_session,
                patient,
                str(data.get("to", "")),
                request.user.username,
                reason=str(data.get("reason", "")),
                note=str(data.get("note", ""))[:200],
            )
            flash(
                request,
                f"Dossier passé à l'état « {STATUS_LABELS[PatientStatus(patient.status)]} ».",
                category="success",
            )
        except (Conflict, FieldErrors) as exc:
            db_session.rollback()
            flash(request, user_message(exc), category="error")
        return Redirect(path=f"/patients/{patient_id}")

    @post("/{patient_id:uuid}/contacts", sync_to_thread=True, name="patient_contact")
    def contact(
        self, request: Request[User, Any, Any], db_session: DbSession, patient_id: FromPath[uuid.UUID], data: FormData
    ) -> Redirect:
        patient = get_patient(db_session, patient_id)
        try:
            suspended = lifecycle.record_contact(
                db_session,
                patient,
                str(data.get("outcome", "")),
                request.user.username,
                str(data.get("note", ""))[:200],
            )
        except FieldErrors as exc:
            db_session.rollback()
            flash(request, " ".join(exc.errors.values()), category="error")
            return Redirect(path=f"/patients/{patient_id}")
        flash(
            request,
            "Trois tentatives sans succès : la demande est suspendue (elle reste au dossier)."
            if suspended
            else "Appel enregistré.",
            category="info" if suspended else "success",
        )
        return Redirect(path=f"/patients/{patient_id}")

    @get("/{patient_id:uuid}/declaration", sync_to_thread=True, name="patient_declaration")
    def declaration(
        self, db_session: DbSession, patient_id: FromPath[uuid.UUID], doctor: FromQuery[str] = ""
    ) -> Template:
        """The declaration of choice, pre-filled: for the SMP doctor assigned, or (``?doctor=usual``)
        for the GP the patient already sees, proposed first."""
        patient = get_patient(db_session, patient_id)
        context: dict[str, Any] = {
            "patient": patient,
            "commune": commune_name(patient.commune_insee),
            "today": dt.datetime.now(PARIS).date(),
        }
        if doctor == "usual":
            if not patient.usual_doctor:
                raise Conflict("Aucun médecin habituel n'est indiqué pour ce patient.")
            context.update(doctor_name=patient.usual_doctor, doctor_rpps="", doctor_place="")
            return Template("patients/declaration.html", context=context)
        assigned = db_session.get(Clinician, patient.referring_clinician_id) if patient.referring_clinician_id else None
        if assigned is None or patient.status not in (PatientStatus.ASSIGNED, PatientStatus.DECLARED):
            raise Conflict("Pas de médecin attribué : la déclaration se prépare après l'attribution.")
        site = assigned.main_site
        context.update(
            doctor_name=assigned.display_name,
            doctor_rpps=assigned.rpps,
            doctor_place=f"SMP {site.name}, {site.address} {commune_name(site.commune_insee)}" if site else "SMP",
        )
        return Template("patients/declaration.html", context=context)

    @post("/{patient_id:uuid}/usual-doctor", sync_to_thread=True, name="patient_usual_doctor")
    def usual_doctor(
        self, request: Request[User, Any, Any], db_session: DbSession, patient_id: FromPath[uuid.UUID], data: FormData
    ) -> Redirect:
        patient = get_patient(db_session, patient_id)
        try:
            lifecycle.usual_doctor_outcome(db_session, patient, str(data.get("outcome", "")), request.user.username)
        except (Conflict, FieldErrors) as exc:
            db_session.rollback()
            flash(request, user_message(exc), category="error")
            return Redirect(path=f"/patients/{patient_id}")
        flash(
            request,
            "Le médecin habituel devient le médecin traitant : le dossier sort de la liste."
            if patient.usual_doctor_outcome == "accepted"
            else "Refus du médecin habituel enregistré : le patient prend sa place sur la liste d'attente du SMP.",
            category="success",
        )
        return Redirect(path=f"/patients/{patient_id}")


class PatientApi(Controller):
    path = "/api/patients"
    tags = ["patients"]
    guards = [require_roles(*STAFF)]

    @post("/", sync_to_thread=True, status_code=HTTP_201_CREATED, summary="Register a patient (desk entry)")
    def create(self, db_session: DbSession, data: JSONBody[PatientCreate]) -> PatientOut:
        return patient_out(PatientService(session=db_session).create_patient(set_fields(data), current_territory()))

    @get("/{patient_id:uuid}", sync_to_thread=True, summary="One patient (the read is audited)")
    def get_patient(self, db_session: DbSession, patient_id: FromPath[uuid.UUID]) -> PatientOut:
        return patient_out(get_patient(db_session, patient_id))
