"""Clinicians: list / create / edit pages for the coordinator, and the JSON API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from litestar import Controller, Request, get, patch, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy import func, or_, select

from app.clinicians.models import CLINICIAN_ROLE_LABELS, Clinician, ClinicianRole
from app.clinicians.schemas import ClinicianCreate, ClinicianOut, ClinicianUpdate, clinician_out
from app.clinicians.services import INTERN_OUTCOMES, ClinicianService, france
from app.core.errors import FieldErrors
from app.core.parsing import clean_query
from app.settings import get_settings
from app.sites.models import Site
from app.sites.schemas import set_fields
from app.web.auth import MANAGERS, STAFF, require_roles
from app.web.forms import DbSession, FormData, form_values
from app.web.pagination import paginate
from app.web.territory import commune_name

LIST_FIELDS = ("site_ids", "university_halfdays")
BOOL_FIELDS = ("is_supervisor", "home_visits")


def _get(db_session: DbSession, clinician_id: FromPath[uuid.UUID]) -> Clinician:
    clinician = db_session.get(Clinician, clinician_id)
    if clinician is None:
        raise NotFoundException("Praticien introuvable.")
    return clinician


def _form_context(
    db_session: DbSession, values: dict[str, Any], errors: dict[str, str], clinician: Clinician | None
) -> dict[str, Any]:
    sites = db_session.scalars(select(Site).where(Site.active.is_(True)).order_by(Site.name)).all()
    supervisors = db_session.scalars(
        select(Clinician)
        .where(or_(Clinician.is_supervisor.is_(True), Clinician.role == ClinicianRole.COORDINATOR))
        .order_by(Clinician.last_name)
    ).all()
    for key in LIST_FIELDS:
        raw = values.get(key)
        values[key] = [raw] if isinstance(raw, str) and raw else list(raw or [])
    return {
        "values": values,
        "errors": errors,
        "clinician": clinician,
        "sites": sites,
        "supervisors": [s for s in supervisors if clinician is None or s.id != clinician.id],
        "roles": CLINICIAN_ROLE_LABELS,
        "intern_outcomes": INTERN_OUTCOMES,
    }


def _with_unticked(values: dict[str, Any]) -> dict[str, Any]:
    for key in LIST_FIELDS:
        values.setdefault(key, [])
    for key in BOOL_FIELDS:
        values.setdefault(key, False)
    return values


class ClinicianPages(Controller):
    path = "/clinicians"
    guards = [require_roles(*MANAGERS)]
    include_in_schema = False

    @get("/", sync_to_thread=True, name="clinicians")
    def list_clinicians(
        self,
        db_session: DbSession,
        q: FromQuery[str] = "",
        role: FromQuery[str] = "",
        page: FromQuery[int] = 1,
    ) -> Template:
        stmt = select(Clinician).order_by(Clinician.last_name, Clinician.first_name)
        if role in {r.value for r in ClinicianRole}:
            stmt = stmt.where(Clinician.role == role)
        q = clean_query(q)
        if q:
            like = f"%{q.lower()}%"
            stmt = stmt.where(
                or_(
                    func.lower(Clinician.last_name).like(like),
                    func.lower(Clinician.first_name).like(like),
                    Clinician.rpps.like(like),
                )
            )
        result = paginate(db_session, stmt, page, get_settings().page_size)
        return Template(
            "clinicians/list.html",
            context={
                "page": result,
                "q": q,
                "role": role,
                "roles": CLINICIAN_ROLE_LABELS,
                "commune_name": commune_name,
                "today": dt.date.today(),
            },
        )

    @get("/new", sync_to_thread=True, name="clinician_new")
    def new_form(self, db_session: DbSession) -> Template:
        values: dict[str, Any] = {
            "role": "retired_gp",
            "max_halfdays_per_week": 4,
            "target_halfdays_per_week": 3,
            "panel_cap": 600,
        }
        return Template("clinicians/form.html", context=_form_context(db_session, values, {}, None))

    @post("/new", sync_to_thread=True, name="clinician_create")
    def create(self, request: Request[Any, Any, Any], db_session: DbSession, data: FormData) -> Template | Redirect:
        values = _with_unticked(form_values(data))
        try:
            clinician = ClinicianService(session=db_session).create_clinician(values)
        except FieldErrors as exc:
            db_session.rollback()
            return Template(
                "clinicians/form.html",
                context=_form_context(db_session, values, exc.errors, None),
                status_code=400,
            )
        flash(request, f"{clinician.display_name} ajouté·e.", category="success")
        return Redirect(path="/clinicians")

    @get("/{clinician_id:uuid}/edit", sync_to_thread=True, name="clinician_edit")
    def edit_form(self, db_session: DbSession, clinician_id: FromPath[uuid.UUID]) -> Template:
        clinician = _get(db_session, clinician_id)
        values = ClinicianService.as_input(clinician)
        home = france().by_insee(clinician.home_commune_insee)
        values["home_commune"] = home.label if home else clinician.home_commune_insee
        return Template("clinicians/form.html", context=_form_context(db_session, values, {}, clinician))

    @post("/{clinician_id:uuid}/edit", sync_to_thread=True, name="clinician_update")
    def update(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        clinician_id: FromPath[uuid.UUID],
        data: FormData,
    ) -> Template | Redirect:
        clinician = _get(db_session, clinician_id)
        values = _with_unticked(form_values(data))
        try:
            ClinicianService(session=db_session).update_clinician(clinician, values)
        except FieldErrors as exc:
            db_session.rollback()
            return Template(
                "clinicians/form.html",
                context=_form_context(db_session, values, exc.errors, clinician),
                status_code=400,
            )
        flash(request, f"{clinician.display_name} enregistré·e.", category="success")
        return Redirect(path="/clinicians")


class ClinicianApi(Controller):
    path = "/api/clinicians"
    tags = ["clinicians"]

    @get("/", sync_to_thread=True, guards=[require_roles(*STAFF)], summary="List clinicians")
    def list_clinicians(
        self, db_session: DbSession, role: FromQuery[ClinicianRole | None] = None
    ) -> list[ClinicianOut]:
        stmt = select(Clinician).order_by(Clinician.last_name, Clinician.first_name)
        if role:
            stmt = stmt.where(Clinician.role == role)
        return [clinician_out(c) for c in db_session.scalars(stmt).unique()]

    @get("/{clinician_id:uuid}", sync_to_thread=True, guards=[require_roles(*STAFF)], summary="One clinician")
    def get_clinician(self, db_session: DbSession, clinician_id: FromPath[uuid.UUID]) -> ClinicianOut:
        return clinician_out(_get(db_session, clinician_id))

    @post(
        "/",
        sync_to_thread=True,
        guards=[require_roles(*MANAGERS)],
        status_code=HTTP_201_CREATED,
        summary="Create a clinician",
    )
    def create(self, db_session: DbSession, data: JSONBody[ClinicianCreate]) -> ClinicianOut:
        return clinician_out(ClinicianService(session=db_session).create_clinician(set_fields(data)))

    @patch(
        "/{clinician_id:uuid}",
        sync_to_thread=True,
        guards=[require_roles(*MANAGERS)],
        summary="Update a clinician",
    )
    def update(
        self, db_session: DbSession, clinician_id: FromPath[uuid.UUID], data: JSONBody[ClinicianUpdate]
    ) -> ClinicianOut:
        clinician = _get(db_session, clinician_id)
        return clinician_out(ClinicianService(session=db_session).update_clinician(clinician, set_fields(data)))
