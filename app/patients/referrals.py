"""Requests sent by professionals: a partner's referral, or a clinician's "identified during
unscheduled care". A partner sees only the referrals they sent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Template
from sqlalchemy import select

from app.accounts.models import Role, User
from app.core.errors import FieldErrors
from app.patients.models import STATUS_LABELS, Channel, Patient, PatientRequest, PatientStatus
from app.patients.public import LABELS
from app.patients.services import PatientService, submit_request
from app.web.auth import require_roles
from app.web.forms import DbSession, FormData, form_values
from app.web.territory import current_territory

CONSENT = "Le patient a accepté que ses coordonnées soient transmises au Service Médical de Proximité."


def _channel(user: User) -> Channel:
    return Channel.PARTNER if user.role == Role.PARTNER else Channel.UNSCHEDULED_CARE


def _referrer(user: User) -> str:
    who = user.full_name or user.username
    return f"{user.organisation} — {who}" if user.organisation else who


class ReferralPages(Controller):
    path = "/referrals"
    guards = [require_roles(Role.PARTNER, Role.CLINICIAN)]
    include_in_schema = False

    @get("/", sync_to_thread=True, name="referrals")
    def mine(self, request: Request[User, Any, Any], db_session: DbSession) -> Template:
        rows = db_session.execute(
            select(PatientRequest, Patient)
            .join(Patient, Patient.id == PatientRequest.patient_id)
            .where(PatientRequest.referred_by == request.user.id)
            .order_by(PatientRequest.received_at.desc())
            .limit(200)
        ).all()
        return Template("patients/referrals.html", context={"rows": rows, "statuses": STATUS_LABELS})

    @get("/new", sync_to_thread=False, name="referral_new")
    def form(self, request: Request[User, Any, Any]) -> Template:
        return Template(
            "patients/referral_form.html",
            context={"values": {}, "errors": {}, "labels": LABELS, "channel": _channel(request.user)},
        )

    @post("/new", sync_to_thread=True, name="referral_create")
    def create(self, request: Request[User, Any, Any], db_session: DbSession, data: FormData) -> Template:
        values = form_values(data)
        errors: dict[str, str] = {}
        if str(values.get("consent", "")) != "on":
            errors["consent"] = "Confirmez que le patient a accepté la transmission de ses coordonnées."
        try:
            PatientService(session=db_session).clean(
                values, current_territory(), dt.date.today(), unique_nir=False, allow_outside=True
            )
        except FieldErrors as exc:
            errors.update(exc.errors)
        if errors:
            return Template(
                "patients/referral_form.html",
                status_code=400,
                context={"values": values, "errors": errors, "labels": LABELS, "channel": _channel(request.user)},
            )
        intake = submit_request(
            db_session,
            values,
            current_territory(),
            channel=_channel(request.user),
            actor=request.user.username,
            referrer=_referrer(request.user),
            referred_by=request.user.id,
        )
        return Template(
            "patients/referral_done.html",
            context={
                "joined": intake.joined,
                "reference": None if intake.joined else intake.patient.reference,
                "status": STATUS_LABELS[PatientStatus(intake.patient.status)],
            },
        )
