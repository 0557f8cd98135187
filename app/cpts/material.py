"""Communication material (posters and flyers per site, the departing GP's waiting-room poster, the
professionals' guide to the referral form), the CPTS's contact details, and the action card's
indicators. Printable pages: the QR codes are server-rendered SVG (segno), nothing external."""

from __future__ import annotations

import uuid
from typing import Any

import segno
from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy import select

from app.accounts.models import Role
from app.core.dates import today_paris
from app.core.parsing import Collector
from app.cpts import indicators
from app.cpts.departures import describe_departure, poster_months
from app.cpts.models import CensusGp, CptsProfile
from app.settings import get_settings
from app.sites.controllers import get_site
from app.sites.models import Site
from app.web.auth import STAFF, require_roles
from app.web.forms import DbSession, FormData, form_values
from app.web.territory import commune_name

LABELS = {"name": "Nom de la CPTS", "phone": "Téléphone", "email": "E-mail", "address": "Adresse"}


def request_form_url() -> str:
    return get_settings().base_url.rstrip("/") + "/demande"


def referral_form_url() -> str:
    return get_settings().base_url.rstrip("/") + "/referrals/new"


def qr_svg(url: str, title: str, scale: int = 4) -> str:
    return segno.make(url, error="m").svg_inline(scale=scale, title=title)


def profile(db_session: DbSession) -> CptsProfile | None:
    return db_session.scalar(select(CptsProfile).order_by(CptsProfile.created_at).limit(1))


class MaterialPages(Controller):
    path = "/cpts"
    guards = [require_roles(*STAFF)]
    include_in_schema = False

    @staticmethod
    def _page(
        db_session: DbSession, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None
    ) -> Template:
        """The material page; ``values``/``errors`` of a refused contact form, else the saved contact."""
        sites = db_session.scalars(select(Site).where(Site.active.is_(True)).order_by(Site.name)).all()
        cpts = profile(db_session)
        if values is None:
            values = (
                {"name": cpts.name, "phone": cpts.phone, "email": cpts.email, "address": cpts.address} if cpts else {}
            )
        return Template(
            "cpts/material.html",
            context={"sites": sites, "cpts": cpts, "values": values, "errors": errors or {}, "labels": LABELS},
            status_code=400 if errors else 200,
        )

    @get("/material", sync_to_thread=True, name="cpts_material")
    def index(self, db_session: DbSession) -> Template:
        return self._page(db_session)

    @post("/profile", sync_to_thread=True, name="cpts_profile")
    def save_profile(
        self, request: Request[Any, Any, Any], db_session: DbSession, data: FormData
    ) -> Template | Redirect:
        values = form_values(data)
        c = Collector(values)
        name = c.text("name", required=True, max_len=160, label="Le nom de la CPTS")
        phone = c.phone("phone")
        email = c.email("email")
        address = c.text("address", max_len=255, label="L'adresse")
        if not phone and not email and "phone" not in c.errors and "email" not in c.errors:
            c.errors["phone"] = "Indiquez un téléphone ou un e-mail : c'est le contact imprimé sur les affiches."
        if c.errors:
            return self._page(db_session, values, c.errors)
        cpts = profile(db_session) or CptsProfile(name=name)
        cpts.name, cpts.phone, cpts.email, cpts.address = name, phone, email, address
        db_session.add(cpts)
        db_session.commit()
        flash(request, "Contact de la CPTS enregistré : il figure sur les affiches et les flyers.", category="success")
        return Redirect(path="/cpts/material")

    @get("/material/poster/{site_id:uuid}", sync_to_thread=True, name="cpts_site_poster")
    def site_poster(self, db_session: DbSession, site_id: FromPath[uuid.UUID]) -> Template:
        return self._printable(db_session, "cpts/poster_site.html", get_site(db_session, site_id))

    @get("/material/flyer/{site_id:uuid}", sync_to_thread=True, name="cpts_site_flyer")
    def site_flyer(self, db_session: DbSession, site_id: FromPath[uuid.UUID]) -> Template:
        return self._printable(db_session, "cpts/flyer_site.html", get_site(db_session, site_id))

    def _printable(self, db_session: DbSession, template: str, site: Site) -> Template:
        url = request_form_url()
        return Template(
            template,
            context={
                "site": site,
                "cpts": profile(db_session),
                "url": url,
                "qr": qr_svg(url, "QR code : formulaire de demande de médecin traitant", scale=6),
                "commune": commune_name(site.commune_insee),
            },
        )

    @get("/material/guide", sync_to_thread=True, name="cpts_guide")
    def guide(self, db_session: DbSession) -> Template:
        url = referral_form_url()
        return Template(
            "cpts/guide.html",
            context={
                "cpts": profile(db_session),
                "url": url,
                "qr": qr_svg(url, "QR code : formulaire d'orientation des professionnels", scale=4),
                "request_url": request_form_url(),
            },
        )

    @get("/gps/{gp_id:uuid}/poster", sync_to_thread=True, name="cpts_departure_poster")
    def departure_poster(self, db_session: DbSession, gp_id: FromPath[uuid.UUID]) -> Template:
        gp = db_session.get(CensusGp, gp_id)
        if gp is None:
            raise NotFoundException("Ce médecin n'est pas au recensement.")
        today = today_paris()
        url = request_form_url()
        return Template(
            "cpts/poster_departure.html",
            context={
                "gp": gp,
                "cpts": profile(db_session),
                "months": poster_months(gp, today),
                "departure": describe_departure(gp, today),
                "url": url,
                "qr": qr_svg(url, "QR code : formulaire de demande de médecin traitant", scale=6),
                "commune": commune_name(gp.commune_insee),
            },
        )


class IndicatorPages(Controller):
    """The action card's indicators: aggregates only, so the committee may read them too."""

    path = "/cpts/indicators"
    guards = [require_roles(*STAFF, Role.COMMITTEE)]
    include_in_schema = False

    @get("/", sync_to_thread=True, name="cpts_indicators")
    def index(self, db_session: DbSession) -> Template:
        points = indicators.series(db_session)
        return Template(
            "cpts/indicators.html",
            context={
                "points": points,
                "chart": indicators.chart(points) if points else "",
                "series": indicators.SERIES,
                "trends": {k: indicators.trend(points, k) for k, *_ in indicators.SERIES} if points else {},
            },
        )
