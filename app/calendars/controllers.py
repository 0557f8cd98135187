"""Calendar feeds: the public ``/ical/<token>.ics`` address, and managing one's feeds on the profile."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import segno
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from app.accounts.models import User
from app.calendars import services
from app.calendars.models import CalendarFeed
from app.core.errors import Conflict
from app.sites.models import Site
from app.web.auth import login_required
from app.web.forms import DbSession, FormData

FETCH_NOTE_EVERY = dt.timedelta(minutes=10)
KIND_LABELS = {"clinician": "Mes séances", "site": "Antenne", "rota": "Tout le planning"}


def feeds_context(db_session: DbSession, user: User) -> dict[str, Any]:
    """What the profile page shows about the user's calendar feeds."""
    sites = {s.id: s for s in db_session.scalars(select(Site).order_by(Site.name))}
    rows = []
    for feed in services.user_feeds(db_session, user):
        url = services.feed_url(feed)
        label = KIND_LABELS[feed.kind] + (f" {sites[feed.site_id].name}" if feed.site_id in sites else "")
        rows.append(
            {
                "feed": feed,
                "url": url,
                "label": label,
                "qr": segno.make(url, error="m").svg_inline(scale=3, title=f"QR code : {label}"),
            }
        )
    return {
        "feeds": rows,
        "feed_kinds": services.allowed_kinds(user),
        "feed_sites": [s for s in sites.values() if s.active],
        "kind_labels": KIND_LABELS,
    }


@get("/ical/{name:str}", sync_to_thread=True, include_in_schema=False, name="ical_feed")
def ical_feed(request: Request[Any, Any, Any], db_session: DbSession, name: FromPath[str]) -> Response[bytes]:
    token = name.removesuffix(".ics")
    feed = services.feed_for_token(db_session, token) if name.endswith(".ics") else None
    if feed is None:
        # The same answer for a revoked, regenerated or mistyped token.
        return Response(b"Agenda introuvable.\n", status_code=404, media_type="text/plain; charset=utf-8")
    now = dt.datetime.now(dt.UTC)
    if feed.last_fetched_at is None or now - feed.last_fetched_at > FETCH_NOTE_EVERY:
        try:
            feed.last_fetched_at = now
            db_session.commit()
        except OperationalError:  # a busy SQLite writer: the note waits for the next fetch
            db_session.rollback()
            feed = services.feed_for_token(db_session, token)
            if feed is None:
                return Response(b"Agenda introuvable.\n", status_code=404, media_type="text/plain; charset=utf-8")
    etag = services.fingerprint(db_session, feed, now)
    headers = {"ETag": etag, "Cache-Control": "private, max-age=300"}
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(b"", status_code=304, headers=headers)
    rendered = services.render_cached(db_session, feed, etag)
    return Response(
        rendered.body,
        media_type="text/calendar",
        headers={**headers, "Content-Disposition": 'inline; filename="smp.ics"'},
    )


class CalendarPages(Controller):
    guards = [login_required]
    include_in_schema = False

    @post("/profile/calendars", sync_to_thread=True, name="calendar_create")
    def create(self, request: Request[User, Any, Any], db_session: DbSession, data: FormData) -> Redirect:
        kind = str(data.get("kind", ""))
        site_id = None
        if data.get("site_id"):
            try:
                site_id = uuid.UUID(str(data["site_id"]))
            except ValueError:
                site_id = None
        try:
            services.create_feed(db_session, request.user, kind, site_id)
        except Conflict as exc:
            flash(request, exc.message, category="error")
            return Redirect(path="/profile#agendas")
        flash(request, "Adresse d'abonnement créée : copiez-la dans votre agenda.", category="success")
        return Redirect(path="/profile#agendas")

    @post("/profile/calendars/{feed_id:uuid}/revoke", sync_to_thread=True, name="calendar_revoke")
    def revoke(self, request: Request[User, Any, Any], db_session: DbSession, feed_id: FromPath[uuid.UUID]) -> Redirect:
        if services.revoke(db_session, request.user, feed_id) is None:
            raise NotFoundException("Agenda introuvable.")
        flash(request, "Adresse révoquée : les agendas abonnés ne recevront plus le planning.", category="success")
        return Redirect(path="/profile#agendas")

    @post("/profile/calendars/{feed_id:uuid}/regenerate", sync_to_thread=True, name="calendar_regenerate")
    def regenerate(
        self, request: Request[User, Any, Any], db_session: DbSession, feed_id: FromPath[uuid.UUID]
    ) -> Redirect:
        if services.regenerate(db_session, request.user, feed_id) is None:
            raise NotFoundException("Agenda introuvable.")
        flash(
            request,
            "Nouvelle adresse créée ; l'ancienne ne fonctionne plus. Réabonnez votre agenda.",
            category="success",
        )
        return Redirect(path="/profile#agendas")


@get("/help/calendars", sync_to_thread=False, include_in_schema=False, name="help_calendars")
def help_calendars() -> Template:
    return Template("help/calendars.html")


__all__ = ["CalendarFeed", "CalendarPages", "feeds_context", "help_calendars", "ical_feed"]
