"""The coordinator's assignment page: compute the proposals (exact min-cost flow), confirm them
one by one (the CPTS procedure) or in a batch, and re-assign a departing clinician's panel."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy import func, select

from app.accounts.models import Role, User
from app.audit.recorder import record
from app.clinicians.models import Clinician
from app.core.dates import PARIS, number_fr
from app.core.errors import Conflict
from app.core.parsing import clean_query
from app.patients import assignment
from app.patients.models import AssignmentProposal, Patient
from app.patients.services import tier_of
from app.web.auth import require_roles
from app.web.forms import DbSession, FormData
from app.web.pagination import paginate
from app.web.territory import commune_name, current_territory
from sites.communes import normalise

PAGE_SIZE = 25


class MatchPages(Controller):
    path = "/patients/match"
    guards = [require_roles(Role.COORDINATOR)]
    include_in_schema = False

    @get("/", sync_to_thread=True, name="match_page")
    def page(self, db_session: DbSession, page: FromQuery[int] = 1, q: FromQuery[str] = "") -> Template:
        # Patients with pending proposals: the priority tiers first, then the longest wait.
        ids = (
            select(AssignmentProposal.patient_id, func.min(AssignmentProposal.tier).label("tier"))
            .group_by(AssignmentProposal.patient_id)
            .subquery()
        )
        stmt = (
            select(Patient)
            .join(ids, ids.c.patient_id == Patient.id)
            .order_by(func.coalesce(func.nullif(ids.c.tier, 0), 9), Patient.requested_at)
        )
        query = clean_query(q, 80)
        if query:
            stmt = stmt.where(Patient.search_name.contains(normalise(query), autoescape=True))
        result = paginate(db_session, stmt, page, PAGE_SIZE)
        proposals: dict[uuid.UUID, list[AssignmentProposal]] = {}
        if result.items:
            for p in db_session.scalars(
                select(AssignmentProposal)
                .where(AssignmentProposal.patient_id.in_([p.id for p in result.items]))
                .order_by(AssignmentProposal.rank)
            ):
                proposals.setdefault(p.patient_id, []).append(p)
            record(db_session, "list", "patient", "*", f"propositions : {len(result.items)} patients affichés")
            db_session.commit()
        doctors = {c.id: c for c in db_session.scalars(select(Clinician)).unique()}
        total = db_session.scalar(select(func.count(func.distinct(AssignmentProposal.patient_id))))
        chosen = db_session.scalar(select(func.count()).where(AssignmentProposal.chosen.is_(True)))
        computed = db_session.scalar(select(func.max(AssignmentProposal.created_at)))
        waiting = db_session.scalar(select(func.count()).where(assignment.matchable()))
        return Template(
            "patients/match.html",
            context={
                "page": result,
                "q": query,
                "base": f"/patients/match?{urlencode({'q': query})}&" if query else "/patients/match?",
                "proposals": proposals,
                "doctors": doctors,
                "total": total or 0,
                "chosen": chosen or 0,
                "computed": computed,
                "waiting": waiting or 0,
                "today": dt.datetime.now(PARIS).date(),
                "tier_of": tier_of,
                "commune_name": commune_name,
            },
        )

    @post("/run", sync_to_thread=True, name="match_run")
    def run(self, request: Request[User, Any, Any], db_session: DbSession) -> Redirect:
        result = assignment.run(db_session, current_territory(), actor=request.user.username)
        flash(
            request,
            f"Propositions calculées en {result['wall_s']:.2f} s ({result['status']}) : ".replace(".", ",", 1)
            + f"{number_fr(len(result['assignments']))} patients peuvent être attribués, "
            f"{number_fr(len(result['unassigned']))} sans médecin "
            "à portée ou sans place. Rien n'est attribué avant votre confirmation.",
            category="success",
        )
        return Redirect(path="/patients/match")

    @post("/{patient_id:uuid}/confirm", sync_to_thread=True, name="match_confirm")
    def confirm(
        self, request: Request[User, Any, Any], db_session: DbSession, patient_id: FromPath[uuid.UUID], data: FormData
    ) -> Redirect:
        try:
            clinician_id = uuid.UUID(str(data.get("clinician", "")))
        except ValueError:
            flash(request, "Choisissez l'une des propositions.", category="error")
            return Redirect(path="/patients/match")
        try:
            patient = assignment.confirm_one(db_session, patient_id, clinician_id, request.user.username)
        except Conflict as exc:
            db_session.rollback()
            flash(request, exc.message, category="error")
            return Redirect(path="/patients/match")
        doctor = db_session.get(Clinician, clinician_id)
        flash(
            request,
            f"{patient.last_name.upper()} {patient.first_name} : médecin traitant attribué, "
            f"{doctor.display_name if doctor else ''}. Imprimez la déclaration depuis son dossier.",
            category="success",
        )
        return Redirect(path="/patients/match")

    @post("/confirm-all", sync_to_thread=True, name="match_confirm_all")
    def confirm_all(self, request: Request[User, Any, Any], db_session: DbSession) -> Redirect:
        counts = assignment.confirm_batch(db_session, request.user.username)
        db_session.commit()
        flash(
            request,
            f"{counts['confirmed']} attribution(s) confirmée(s)"
            + (
                f" ; {counts['skipped']} passée(s) : patient plus en attente ou médecin complet."
                if counts["skipped"]
                else "."
            ),
            category="success",
        )
        return Redirect(path="/patients/match")

    @get("/departure/{clinician_id:uuid}", sync_to_thread=True, name="departure_confirm")
    def departure_form(self, db_session: DbSession, clinician_id: FromPath[uuid.UUID]) -> Template:
        clinician = db_session.get(Clinician, clinician_id)
        if clinician is None:
            raise NotFoundException("Praticien introuvable.")
        today = dt.datetime.now(PARIS).date()
        panel = db_session.scalars(
            select(Patient).where(
                Patient.referring_clinician_id == clinician.id, Patient.status.in_(assignment.ENROLLED)
            )
        ).all()
        tiers = {1: 0, 2: 0, 3: 0}
        for p in panel:
            tiers[tier_of(p, today)] += 1
        if panel:
            record(db_session, "list", "patient", "*", f"patientèle de {clinician.display_name} comptée")
            db_session.commit()
        return Template(
            "patients/departure.html", context={"clinician": clinician, "count": len(panel), "tiers": tiers}
        )

    @post("/departure/{clinician_id:uuid}", sync_to_thread=True, name="departure_run")
    def departure(
        self, request: Request[User, Any, Any], db_session: DbSession, clinician_id: FromPath[uuid.UUID]
    ) -> Redirect:
        clinician = db_session.get(Clinician, clinician_id)
        if clinician is None:
            raise NotFoundException("Praticien introuvable.")
        counts = assignment.reassign_panel(db_session, current_territory(), clinician, request.user.username)
        flash(
            request,
            f"Patientèle de {clinician.display_name} : {counts['reassigned']} patient(s) réattribué(s) "
            f"(priorités d'abord), {counts['waiting']} remis en liste d'attente faute de place.",
            category="success",
        )
        return Redirect(path="/patients/match")
