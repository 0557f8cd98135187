"""CPTS pages: the census of GPs, contact rounds, proposals to patients, departures."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy import func, select

from app.accounts.models import User
from app.core.dates import today_paris
from app.core.errors import Conflict, FieldErrors
from app.core.parsing import clean_query
from app.cpts import census, departures, proposals
from app.cpts.models import (
    ACCEPTS_LABELS,
    ACCEPTS_SHORT,
    CONTACT_ANSWERS,
    DEPARTURE_LABELS,
    CensusGp,
    CptsProposal,
)
from app.patients.controllers import get_patient
from app.patients.cpam import ImportRefused
from app.patients.models import WAITING_STATUSES, Patient
from app.settings import get_settings
from app.web.auth import STAFF, require_roles
from app.web.forms import DbSession, FormData, form_values, safe_next
from app.web.pagination import paginate
from app.web.territory import commune_name, current_territory

LABELS = {
    "last_name": "Nom",
    "first_name": "Prénom",
    "rpps": "N° RPPS",
    "address": "Adresse du cabinet",
    "commune": "Commune du cabinet",
    "phone": "Téléphone",
    "email": "E-mail",
    "accepts": "Accepte de nouveaux patients",
    "conditions": "Conditions",
    "radius_km": "Rayon (km)",
    "perimeter_communes": "Communes du périmètre",
    "activity": "Activité particulière",
    "departure": "Départ prévu",
    "departure_date": "Date de départ",
    "answer": "Réponse",
    "contacted_on": "Date du contact",
    "notes": "Notes",
    "gp": "Médecins",
}


def _gp(db_session: DbSession, gp_id: uuid.UUID) -> CensusGp:
    gp = db_session.get(CensusGp, gp_id)
    if gp is None:
        raise NotFoundException("Ce médecin n'est pas au recensement.")
    return gp


def _is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


COMMON = {
    "accepts_labels": ACCEPTS_LABELS,
    "accepts_short": ACCEPTS_SHORT,
    "answers": CONTACT_ANSWERS,
    "departures": DEPARTURE_LABELS,
    "labels": LABELS,
    "commune_name": commune_name,
}


class CensusPages(Controller):
    """The census of the territory's GPs (not SMP staff) and the contact rounds."""

    path = "/cpts"
    guards = [require_roles(*STAFF)]
    include_in_schema = False

    @get("/", sync_to_thread=True, name="cpts_census")
    def index(
        self, db_session: DbSession, q: FromQuery[str] = "", accepts: FromQuery[str] = "", page: FromQuery[int] = 1
    ) -> Template:
        today = today_paris()
        query = clean_query(q)
        found = paginate(db_session, census.census_query(query, accepts), page, get_settings().page_size)
        counts: dict[str, int] = {
            accepts_: n
            for accepts_, n in db_session.execute(select(CensusGp.accepts, func.count()).group_by(CensusGp.accepts))
        }
        to_recontact = db_session.scalar(select(func.count()).select_from(census.to_recontact(today).subquery())) or 0
        return Template(
            "cpts/census.html",
            context={
                **COMMON,
                "page": found,
                "q": query,
                "accepts": accepts if accepts in ACCEPTS_LABELS else "",
                "counts": counts,
                "total": sum(counts.values()),
                "to_recontact": to_recontact,
                "leaving": census.departures_soon(db_session, today),
                "today": today,
                "recontact_before": census.recontact_before(today),
                "base": "/cpts?" + urlencode({k: v for k, v in {"q": query, "accepts": accepts}.items() if v}) + "&",
            },
        )

    @get("/gps/new", sync_to_thread=False, name="cpts_gp_new")
    def new_form(self) -> Template:
        return Template(
            "cpts/gp_form.html", context={**COMMON, "values": {"accepts": "yes", "radius_km": "10"}, "errors": {}}
        )

    @post("/gps/new", sync_to_thread=True, name="cpts_gp_create")
    def create(self, request: Request[User, Any, Any], db_session: DbSession, data: FormData) -> Template | Redirect:
        values = form_values(data)
        try:
            gp = census.create_gp(db_session, values, current_territory(), request.user.username, today_paris())
        except FieldErrors as exc:
            db_session.rollback()
            return Template(
                "cpts/gp_form.html", context={**COMMON, "values": values, "errors": exc.errors}, status_code=400
            )
        flash(request, f"{gp.name} ajouté au recensement.", category="success")
        return Redirect(path=f"/cpts/gps/{gp.id}")

    @get("/gps/{gp_id:uuid}", sync_to_thread=True, name="cpts_gp")
    def detail(self, db_session: DbSession, gp_id: FromPath[uuid.UUID]) -> Template:
        gp = _gp(db_session, gp_id)
        return Template("cpts/gp.html", context=self._detail_context(db_session, gp, {}, {}))

    def _detail_context(
        self, db_session: DbSession, gp: CensusGp, values: dict[str, Any], errors: dict[str, str]
    ) -> dict[str, Any]:
        today = today_paris()
        pending = db_session.scalar(
            select(func.count()).where(CptsProposal.gp_id == gp.id, CptsProposal.answer == "pending")
        )
        priority = db_session.scalar(select(func.count()).where(Patient.departing_gp_id == gp.id))
        return {
            **COMMON,
            "gp": gp,
            "history": census.history(db_session, gp),
            "values": {"contacted_on": today.isoformat(), **values},
            "errors": errors,
            "today": today,
            "pending": pending,
            "priority": priority,
            "departure_text": departures.describe_departure(gp, today) if gp.departure else "",
            "perimeter": [commune_name(i) for i in gp.perimeter_communes],
        }

    @get("/gps/{gp_id:uuid}/edit", sync_to_thread=True, name="cpts_gp_edit")
    def edit_form(self, db_session: DbSession, gp_id: FromPath[uuid.UUID]) -> Template:
        gp = _gp(db_session, gp_id)
        return Template(
            "cpts/gp_form.html",
            context={**COMMON, "gp": gp, "values": census.as_input(gp, current_territory()), "errors": {}},
        )

    @post("/gps/{gp_id:uuid}/edit", sync_to_thread=True, name="cpts_gp_update")
    def update(
        self, request: Request[User, Any, Any], db_session: DbSession, gp_id: FromPath[uuid.UUID], data: FormData
    ) -> Template | Redirect:
        gp = _gp(db_session, gp_id)
        values = form_values(data)
        for box in ("home_visits", "pmr"):
            values.setdefault(box, False)
        try:
            changed = census.update_gp(
                db_session, gp, values, current_territory(), request.user.username, today_paris()
            )
        except FieldErrors as exc:
            db_session.rollback()
            return Template(
                "cpts/gp_form.html",
                context={**COMMON, "gp": gp, "values": values, "errors": exc.errors},
                status_code=400,
            )
        flash(
            request,
            f"Fiche de {gp.name} enregistrée." if changed else "Rien n'a changé sur la fiche.",
            category="success" if changed else "info",
        )
        return Redirect(path=f"/cpts/gps/{gp.id}")

    @post("/gps/{gp_id:uuid}/contact", sync_to_thread=True, name="cpts_contact")
    def contact(
        self, request: Request[User, Any, Any], db_session: DbSession, gp_id: FromPath[uuid.UUID], data: FormData
    ) -> Template | Redirect:
        """Record a contact in one step — from the GP's page, or from a row of the call list (htmx:
        the row is replaced by the recorded answer)."""
        gp = _gp(db_session, gp_id)
        values = form_values(data)
        try:
            census.record_contact(db_session, gp, values, request.user.username, today_paris())
        except FieldErrors as exc:
            db_session.rollback()
            if _is_htmx(request):
                return Template(
                    "cpts/_call_row.html",
                    context={**COMMON, "gp": gp, "values": values, "errors": exc.errors, "today": today_paris()},
                    status_code=400,
                )
            return Template(
                "cpts/gp.html", context=self._detail_context(db_session, gp, values, exc.errors), status_code=400
            )
        answer = CONTACT_ANSWERS[values["answer"]]
        if _is_htmx(request):
            return Template(
                "cpts/_call_row_done.html",
                context={**COMMON, "gp": gp, "answer": answer, "reached": values["answer"] != "no_answer"},
            )
        flash(request, f"Contact avec {gp.name} enregistré : {answer}.", category="success")
        return Redirect(path=safe_next(values.get("next"), f"/cpts/gps/{gp.id}"))

    @get("/recontact", sync_to_thread=True, name="cpts_recontact")
    def recontact(self, db_session: DbSession, page: FromQuery[int] = 1) -> Template:
        """The "to re-contact" list: the call list of a contact round, one-step answers per row."""
        today = today_paris()
        found = paginate(db_session, census.to_recontact(today), page, 50)
        return Template(
            "cpts/recontact.html",
            context={
                **COMMON,
                "page": found,
                "today": today,
                "values": {},
                "errors": {},
                "recontact_before": census.recontact_before(today),
            },
        )

    @get("/departures", sync_to_thread=True, name="cpts_departures")
    def departures_page(self, db_session: DbSession) -> Template:
        today = today_paris()
        leaving = census.departures_soon(db_session, today)
        priority: dict[uuid.UUID | None, int] = {
            gp_id: n
            for gp_id, n in db_session.execute(
                select(Patient.departing_gp_id, func.count())
                .where(Patient.departing_gp_id.in_([g.id for g in leaving]))
                .group_by(Patient.departing_gp_id)
            )
        }
        return Template(
            "cpts/departures.html",
            context={
                **COMMON,
                "leaving": leaving,
                "priority": priority,
                "today": today,
                "describe": departures.describe_departure,
                "months": departures.poster_months,
            },
        )

    @post("/gps/{gp_id:uuid}/priority", sync_to_thread=True, name="cpts_priority_import")
    def priority_import(
        self,
        request: Request[User, Any, Any],
        db_session: DbSession,
        gp_id: FromPath[uuid.UUID],
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Template | Redirect:
        gp = _gp(db_session, gp_id)
        upload = data.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            flash(request, "Choisissez le fichier des patients prioritaires.", category="error")
            return Redirect(path=f"/cpts/gps/{gp.id}")
        try:
            result = departures.import_priority_list(
                db_session,
                current_territory(),
                gp,
                upload.filename,
                upload.file.read(),
                request.user.username,
                today_paris(),
            )
        except ImportRefused as exc:
            db_session.rollback()
            flash(request, f"Import impossible, rien n'a été enregistré : {exc.message}", category="error")
            return Redirect(path=f"/cpts/gps/{gp.id}")
        if result.errors:
            db_session.rollback()
            return Template(
                "cpts/priority_errors.html", context={**COMMON, "gp": gp, "result": result}, status_code=400
            )
        flash(
            request,
            f"{result.created + result.joined} patients prioritaires de {gp.name} sur la liste d'attente "
            f"(priorité 1) : {result.created} nouveaux, {result.joined} déjà connus.",
            category="success",
        )
        return Redirect(path=f"/patients?departing={gp.id}")


class ProposalPages(Controller):
    """The CPTS procedure for one patient: 2–3 census GPs proposed, their answers, the outcome."""

    path = "/cpts/patients"
    guards = [require_roles(*STAFF)]
    include_in_schema = False

    @get("/{patient_id:uuid}", sync_to_thread=True, name="cpts_patient")
    def patient_page(self, db_session: DbSession, patient_id: FromPath[uuid.UUID]) -> Template:
        patient = get_patient(db_session, patient_id)  # the read is audited
        return Template("cpts/patient.html", context=self._context(db_session, patient, {}))

    def _context(self, db_session: DbSession, patient: Patient, errors: dict[str, str]) -> dict[str, Any]:
        today = today_paris()
        waiting = patient.status in WAITING_STATUSES
        sent = proposals.proposals_of(db_session, patient)
        gps = {g.id: g for g in db_session.scalars(select(CensusGp).where(CensusGp.id.in_([p.gp_id for p in sent])))}
        return {
            **COMMON,
            "patient": patient,
            "waiting": waiting,
            "offers": proposals.offers_for(db_session, patient, current_territory(), today) if waiting else [],
            "sent": sent,
            "gps": gps,
            "taken": proposals.taken_on_by(db_session, patient),
            "errors": errors,
            "today": today,
            "answer_labels": proposals.ANSWERS,
            "departing": db_session.get(CensusGp, patient.departing_gp_id) if patient.departing_gp_id else None,
        }

    @post("/{patient_id:uuid}/send", sync_to_thread=True, name="cpts_send")
    def send(
        self, request: Request[User, Any, Any], db_session: DbSession, patient_id: FromPath[uuid.UUID], data: FormData
    ) -> Template | Redirect:
        patient = get_patient(db_session, patient_id)
        raw = data.get("gp") or []
        chosen = []
        for value in raw if isinstance(raw, list) else [raw]:
            try:
                chosen.append(uuid.UUID(str(value)))
            except ValueError:
                continue
        try:
            sent = proposals.send(
                db_session, patient, chosen, current_territory(), request.user.username, today_paris()
            )
        except FieldErrors as exc:
            db_session.rollback()
            return Template(
                "cpts/patient.html", context=self._context(db_session, patient, exc.errors), status_code=400
            )
        except Conflict as exc:
            db_session.rollback()
            flash(request, exc.message, category="error")
            return Redirect(path=f"/cpts/patients/{patient_id}")
        flash(request, f"{len(sent)} médecin(s) proposé(s) au patient : notez leur réponse ici.", category="success")
        return Redirect(path=f"/cpts/patients/{patient_id}")

    @post("/proposals/{proposal_id:uuid}/answer", sync_to_thread=True, name="cpts_answer")
    def answer(
        self, request: Request[User, Any, Any], db_session: DbSession, proposal_id: FromPath[uuid.UUID], data: FormData
    ) -> Redirect:
        proposal = db_session.get(CptsProposal, proposal_id)
        if proposal is None:
            raise NotFoundException("Cette proposition n'existe pas.")
        patient_id = proposal.patient_id
        try:
            proposals.answer(db_session, proposal, str(data.get("answer", "")), request.user.username, today_paris())
        except (FieldErrors, Conflict) as exc:
            db_session.rollback()
            message = exc.message if isinstance(exc, Conflict) else "Indiquez la réponse du médecin."
            flash(request, message, category="error")
            return Redirect(path=f"/cpts/patients/{patient_id}")
        flash(
            request,
            "Réponse enregistrée : le patient a un médecin traitant et sort de la liste."
            if data.get("answer") == "accepted"
            else "Réponse enregistrée : ce médecin ne sera plus proposé à ce patient.",
            category="success",
        )
        return Redirect(path=f"/cpts/patients/{patient_id}")
