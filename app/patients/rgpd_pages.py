"""RGPD pages: a patient's data export (JSON and printable), erasure on request, and the public
privacy notice."""

from __future__ import annotations

import json
import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Response, Template

from app.accounts.models import User
from app.patients import rgpd
from app.patients.controllers import get_patient
from app.settings import get_settings
from app.web.auth import STAFF, require_roles
from app.web.forms import DbSession, FormData


class RgpdPages(Controller):
    path = "/patients"
    guards = [require_roles(*STAFF)]
    include_in_schema = False

    @get("/{patient_id:uuid}/export.json", sync_to_thread=True, name="patient_export_json")
    def export_json(self, db_session: DbSession, patient_id: FromPath[uuid.UUID]) -> Response[bytes]:
        patient = get_patient(db_session, patient_id)
        body = json.dumps(rgpd.export(db_session, patient), ensure_ascii=False, indent=2).encode()
        return Response(
            body,
            media_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="donnees-{patient.reference}.json"',
                "Cache-Control": "no-store",
            },
        )

    @get("/{patient_id:uuid}/export", sync_to_thread=True, name="patient_export")
    def export_page(self, db_session: DbSession, patient_id: FromPath[uuid.UUID]) -> Template:
        patient = get_patient(db_session, patient_id)
        return Template("patients/export.html", context={"patient": patient, "data": rgpd.export(db_session, patient)})

    @post("/{patient_id:uuid}/erase", sync_to_thread=True, name="patient_erase")
    def erase(
        self, request: Request[User, Any, Any], db_session: DbSession, patient_id: FromPath[uuid.UUID], data: FormData
    ) -> Redirect:
        patient = get_patient(db_session, patient_id)
        if data.get("confirm") != "on":
            flash(request, "Cochez la case qui confirme la demande d'effacement de la personne.", category="error")
            return Redirect(path=f"/patients/{patient_id}")
        rgpd.erase(db_session, patient, request.user.username)
        flash(
            request,
            f"Données personnelles du dossier {patient.reference} effacées ; les chiffres agrégés sont gardés.",
            category="success",
        )
        return Redirect(path=f"/patients/{patient_id}")


@get("/confidentialite", sync_to_thread=False, name="privacy", include_in_schema=False)
def privacy_notice() -> Template:
    s = get_settings()
    return Template(
        "public/privacy.html",
        context={
            "audit_months": s.audit_retention_months,
            "excluded_months": s.retention_excluded_months,
            "departed_months": s.retention_departed_months,
        },
    )
