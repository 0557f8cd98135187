"""The secretariat's page of likely duplicates: compare two records side by side, merge them
(audited) or mark them as two different people."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template

from app.accounts.models import User
from app.audit.recorder import record
from app.core.errors import Conflict
from app.patients import duplicates
from app.patients.models import CHANNEL_LABELS, STATUS_LABELS, Patient, PatientStatus
from app.web.auth import STAFF, require_roles
from app.web.forms import DbSession, FormData
from app.web.territory import commune_name


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


class DuplicatePages(Controller):
    path = "/patients/duplicates"
    guards = [require_roles(*STAFF)]
    include_in_schema = False

    @get("/", sync_to_thread=True, name="duplicates")
    def index(self, db_session: DbSession) -> Template:
        pairs = duplicates.likely_pairs(db_session)
        if pairs:
            record(db_session, "list", "patient", "*", f"doublons probables : {len(pairs)} paires affichées")
            db_session.commit()
        return Template(
            "patients/duplicates.html",
            context={"pairs": pairs, "commune_name": commune_name, "statuses": STATUS_LABELS},
        )

    @get("/{first:uuid}/{second:uuid}", sync_to_thread=True, name="duplicate_compare")
    def compare(self, db_session: DbSession, first: FromPath[uuid.UUID], second: FromPath[uuid.UUID]) -> Template:
        a, b = db_session.get(Patient, first), db_session.get(Patient, second)  # both reads audited
        if a is None or b is None:
            raise NotFoundException("L'un des deux dossiers n'existe plus (déjà fusionné ?).")
        return Template(
            "patients/duplicate_compare.html",
            context={
                "records": (a, b),
                "score": duplicates.similarity(a.search_name, b.search_name),
                "commune_name": commune_name,
                "statuses": {k.value: v for k, v in STATUS_LABELS.items()},
                "channels": CHANNEL_LABELS,
                "PatientStatus": PatientStatus,
            },
        )

    @post("/merge", sync_to_thread=True, name="duplicate_merge")
    def merge(self, request: Request[User, Any, Any], db_session: DbSession, data: FormData) -> Redirect:
        keep, pair = _uuid(data.get("keep")), {_uuid(data.get("first")), _uuid(data.get("second"))}
        drop = next(iter(pair - {keep}), None) if keep in pair and len(pair) == 2 else None
        if keep is None or drop is None:
            flash(request, "Choisissez le dossier à garder.", category="error")
            return Redirect(path="/patients/duplicates")
        try:
            kept = duplicates.merge(db_session, keep, drop, request.user.username)
        except Conflict as exc:
            db_session.rollback()
            flash(request, exc.message, category="error")
            return Redirect(path="/patients/duplicates")
        flash(request, f"Dossiers fusionnés : tout est maintenant sur la demande {kept.reference}.", category="success")
        return Redirect(path=f"/patients/{kept.id}")

    @post("/distinct", sync_to_thread=True, name="duplicate_distinct")
    def distinct(self, request: Request[User, Any, Any], db_session: DbSession, data: FormData) -> Redirect:
        a, b = _uuid(data.get("first")), _uuid(data.get("second"))
        if a is None or b is None or a == b:
            flash(request, "Paire de dossiers invalide.", category="error")
            return Redirect(path="/patients/duplicates")
        duplicates.not_duplicate(db_session, a, b, request.user.username)
        flash(request, "Noté : ce sont deux personnes différentes, la paire ne sera plus proposée.", category="success")
        return Redirect(path="/patients/duplicates")
