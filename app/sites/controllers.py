"""Sites: list / create / edit pages for the coordinator, and the JSON API."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, patch, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy import func, or_, select

from app.accounts.models import Role
from app.core.errors import FieldErrors
from app.core.parsing import clean_query
from app.settings import get_settings
from app.sites.models import Site
from app.sites.schemas import SiteCreate, SiteOut, SiteUpdate, set_fields, site_out
from app.sites.services import SiteService
from app.web.auth import MANAGERS, STAFF, require_roles
from app.web.forms import DbSession, FormData, form_values
from app.web.pagination import paginate
from app.web.territory import commune_name, current_territory


def get_site(db_session: DbSession, site_id: uuid.UUID) -> Site:
    site = db_session.get(Site, site_id)
    if site is None:
        raise NotFoundException("Antenne introuvable.")
    return site


class SitePages(Controller):
    path = "/sites"
    guards = [require_roles(*MANAGERS)]
    include_in_schema = False

    @get("/", sync_to_thread=True, name="sites")
    def list_sites(
        self,
        db_session: DbSession,
        q: FromQuery[str] = "",
        page: FromQuery[int] = 1,
        show: FromQuery[str] = "active",
    ) -> Template:
        stmt = select(Site).order_by(Site.name)
        if show == "active":
            stmt = stmt.where(Site.active.is_(True))
        q = clean_query(q)
        if q:
            like = f"%{q.lower()}%"
            stmt = stmt.where(or_(func.lower(Site.name).like(like), Site.commune_insee.like(like)))
        result = paginate(db_session, stmt, page, get_settings().page_size)
        return Template(
            "sites/list.html",
            context={"page": result, "q": q, "show": show, "commune_name": commune_name},
        )

    @get("/new", sync_to_thread=False, name="site_new")
    def new_form(self) -> Template:
        return Template(
            "sites/form.html",
            context={
                "values": {"rooms": 2, "slot_minutes": 20, "opening_halfdays": []},
                "errors": {},
                "site": None,
            },
        )

    @post("/new", sync_to_thread=True, name="site_create")
    def create(self, request: Request[Any, Any, Any], db_session: DbSession, data: FormData) -> Template | Redirect:
        values = form_values(data)
        try:
            site = SiteService(session=db_session).create_site(values, current_territory())
        except FieldErrors as exc:
            db_session.rollback()
            return Template(
                "sites/form.html",
                context={"values": values, "errors": exc.errors, "site": None},
                status_code=400,
            )
        flash(request, f"Antenne « {site.name} » créée.", category="success")
        return Redirect(path="/sites")

    @get("/{site_id:uuid}/edit", sync_to_thread=True, name="site_edit")
    def edit_form(self, db_session: DbSession, site_id: FromPath[uuid.UUID]) -> Template:
        site = get_site(db_session, site_id)
        values = SiteService.as_input(site)
        commune = current_territory().by_insee(site.commune_insee)
        values["commune"] = commune.label if commune else site.commune_insee
        return Template("sites/form.html", context={"values": values, "errors": {}, "site": site})

    @post("/{site_id:uuid}/edit", sync_to_thread=True, name="site_update")
    def update(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        site_id: FromPath[uuid.UUID],
        data: FormData,
    ) -> Template | Redirect:
        site = get_site(db_session, site_id)
        values = form_values(data)
        # Unticked checkboxes are absent from a submitted form: absent means "no" here.
        values.setdefault("opening_halfdays", [])
        values.setdefault("pmr_access", False)
        values["active"] = site.active
        try:
            SiteService(session=db_session).update_site(site, values, current_territory())
        except FieldErrors as exc:
            db_session.rollback()
            return Template(
                "sites/form.html",
                context={"values": values, "errors": exc.errors, "site": site},
                status_code=400,
            )
        flash(request, f"Antenne « {site.name} » enregistrée.", category="success")
        return Redirect(path="/sites")

    @get("/{site_id:uuid}/active", sync_to_thread=True, name="site_active_confirm")
    def confirm_toggle(self, db_session: DbSession, site_id: FromPath[uuid.UUID]) -> Template:
        return Template("sites/confirm_toggle.html", context={"site": get_site(db_session, site_id)})

    @post("/{site_id:uuid}/active", sync_to_thread=True, name="site_active")
    def toggle(self, request: Request[Any, Any, Any], db_session: DbSession, site_id: FromPath[uuid.UUID]) -> Redirect:
        site = get_site(db_session, site_id)
        site.active = not site.active
        db_session.commit()
        word = "réactivée" if site.active else "désactivée"
        flash(request, f"Antenne « {site.name} » {word}.", category="success")
        return Redirect(path="/sites")


class SiteApi(Controller):
    path = "/api/sites"
    tags = ["sites"]

    @get("/", sync_to_thread=True, guards=[require_roles(*STAFF, Role.CLINICIAN)], summary="List sites")
    def list_sites(self, db_session: DbSession, active: FromQuery[bool | None] = None) -> list[SiteOut]:
        stmt = select(Site).order_by(Site.name)
        if active is not None:
            stmt = stmt.where(Site.active.is_(active))
        return [site_out(s, commune_name(s.commune_insee)) for s in db_session.scalars(stmt)]

    @get(
        "/{site_id:uuid}",
        sync_to_thread=True,
        guards=[require_roles(*STAFF, Role.CLINICIAN)],
        summary="One site",
    )
    def get_site(self, db_session: DbSession, site_id: FromPath[uuid.UUID]) -> SiteOut:
        site = get_site(db_session, site_id)
        return site_out(site, commune_name(site.commune_insee))

    @post(
        "/",
        sync_to_thread=True,
        guards=[require_roles(*MANAGERS)],
        status_code=HTTP_201_CREATED,
        summary="Create a site",
    )
    def create(self, db_session: DbSession, data: JSONBody[SiteCreate]) -> SiteOut:
        site = SiteService(session=db_session).create_site(set_fields(data), current_territory())
        return site_out(site, commune_name(site.commune_insee))

    @patch("/{site_id:uuid}", sync_to_thread=True, guards=[require_roles(*MANAGERS)], summary="Update a site")
    def update(self, db_session: DbSession, site_id: FromPath[uuid.UUID], data: JSONBody[SiteUpdate]) -> SiteOut:
        site = get_site(db_session, site_id)
        SiteService(session=db_session).update_site(site, set_fields(data), current_territory())
        return site_out(site, commune_name(site.commune_insee))
