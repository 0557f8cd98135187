"""Feeds: secret tokens, and the events of a clinician's, a site's or the whole rota.

A feed's token is derived from the server secret and the feed's id (HMAC), so the profile page
can show the URL again at any time, while the database keeps only its SHA-256 (a stolen database
dump does not reveal working URLs). Regenerating creates a new feed row (so a new token) and
revokes the old one.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import uuid
from collections import OrderedDict, defaultdict
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from uuid_utils.compat import uuid7

from app.accounts.models import Role, User
from app.calendars.ical import FeedEvent, build_calendar
from app.calendars.models import CalendarFeed
from app.clinicians.models import Clinician, ClinicianRole
from app.core.dates import datetime_fr
from app.core.errors import Conflict
from app.rota.models import Booking, RotaSession, Slot
from app.settings import get_settings
from app.sites.models import Site
from app.web.territory import commune_name

KEEP_CANCELLED_DAYS = 30
HORIZON_DAYS = 400


def feed_token(feed_id: uuid.UUID) -> str:
    key = get_settings().secret_key.encode()
    digest = hmac.new(key, b"ical:" + feed_id.bytes, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:40]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(feed: CalendarFeed) -> str:
    return f"{get_settings().base_url.rstrip('/')}/ical/{feed_token(feed.id)}.ics"


def allowed_kinds(user: User) -> list[str]:
    kinds = ["clinician"] if user.clinician_id else []
    if user.role in (Role.ADMIN, Role.COORDINATOR, Role.SECRETARY):
        kinds += ["site", "rota"]
    return kinds


def create_feed(session: Session, user: User, kind: str, site_id: uuid.UUID | None = None) -> CalendarFeed:
    if kind not in allowed_kinds(user):
        raise Conflict("Ce type d'agenda n'est pas disponible pour votre compte.")
    if kind == "site" and (site_id is None or session.get(Site, site_id) is None):
        raise Conflict("Antenne inconnue.")
    feed = CalendarFeed(
        user_id=user.id,
        kind=kind,
        token_hash="",  # set below, once the id is known
        clinician_id=user.clinician_id if kind == "clinician" else None,
        site_id=site_id if kind == "site" else None,
    )
    feed.id = uuid.UUID(bytes=uuid7().bytes)
    feed.token_hash = token_hash(feed_token(feed.id))
    session.add(feed)
    session.commit()
    return feed


def user_feeds(session: Session, user: User) -> list[CalendarFeed]:
    return list(
        session.scalars(
            select(CalendarFeed)
            .where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
            .order_by(CalendarFeed.created_at)
        )
    )


def revoke(session: Session, user: User, feed_id: uuid.UUID) -> CalendarFeed | None:
    feed = session.get(CalendarFeed, feed_id)
    if feed is None or feed.user_id != user.id or feed.revoked_at is not None:
        return None
    feed.revoked_at = dt.datetime.now(dt.UTC)
    session.commit()
    return feed


def regenerate(session: Session, user: User, feed_id: uuid.UUID) -> CalendarFeed | None:
    old = revoke(session, user, feed_id)
    if old is None:
        return None
    return create_feed(session, user, old.kind, old.site_id)


def feed_for_token(session: Session, token: str) -> CalendarFeed | None:
    """The live feed of a token, only while its owner's account is active and still entitled to it."""
    feed = session.scalar(
        select(CalendarFeed).where(CalendarFeed.token_hash == token_hash(token), CalendarFeed.revoked_at.is_(None))
    )
    if feed is None:
        return None
    owner = session.get(User, feed.user_id)
    if owner is None or not owner.is_active or feed.kind not in allowed_kinds(owner):
        return None
    if feed.kind == "clinician" and owner.clinician_id != feed.clinician_id:
        return None
    return feed


@dataclass(frozen=True)
class RenderedFeed:
    body: bytes
    etag: str


_CACHE: OrderedDict[uuid.UUID, RenderedFeed] = OrderedDict()
_CACHE_SIZE = 512


def _window(now: dt.datetime) -> tuple[dt.date, dt.date]:
    return now.date() - dt.timedelta(days=KEEP_CANCELLED_DAYS), now.date() + dt.timedelta(days=HORIZON_DAYS)


def fingerprint(session: Session, feed: CalendarFeed, now: dt.datetime | None = None) -> str:
    """A cheap version of everything a feed shows (two aggregate queries): any published or
    cancelled session, any booking, any site or clinician edit, or a new day changes it."""
    now = now or dt.datetime.now(dt.UTC)
    first, last = _window(now)
    sessions = session.execute(
        select(func.count(RotaSession.id), func.max(RotaSession.updated_at)).where(
            RotaSession.date >= first, RotaSession.date <= last
        )
    ).one()
    others = session.execute(
        select(
            select(func.count(Booking.id))
            .join(Slot, Slot.id == Booking.slot_id)
            .join(RotaSession, RotaSession.id == Slot.session_id)
            .where(Booking.status == "booked", RotaSession.date >= first, RotaSession.date <= last)
            .scalar_subquery(),
            select(func.max(Site.updated_at)).scalar_subquery(),
            # Any booking change, whatever its status now (a move, a cancellation then another booking).
            select(func.max(Booking.updated_at)).scalar_subquery(),
            select(func.max(Clinician.updated_at)).scalar_subquery(),
        )
    ).one()
    raw = f"{feed.id}|{now.date()}|{sessions[0]}|{sessions[1]}|{others[0]}|{others[1]}|{others[2]}|{others[3]}"
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'


def render_cached(session: Session, feed: CalendarFeed, etag: str) -> RenderedFeed:
    """The feed for this fingerprint, rendered once per process and version."""
    cached = _CACHE.get(feed.id)
    if cached is not None and cached.etag == etag:
        _CACHE.move_to_end(feed.id)
        return cached
    rendered = RenderedFeed(body=render(session, feed).body, etag=etag)
    _CACHE[feed.id] = rendered
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return rendered


def _title(session: Session, feed: CalendarFeed) -> str:
    if feed.kind == "clinician":
        clinician = session.get(Clinician, feed.clinician_id)
        return f"SMP — {clinician.display_name}" if clinician else "SMP"
    if feed.kind == "site":
        site = session.get(Site, feed.site_id)
        return f"SMP — antenne de {site.name}" if site else "SMP"
    return "SMP — planning complet"


def render(session: Session, feed: CalendarFeed, now: dt.datetime | None = None) -> RenderedFeed:
    """The feed's calendar: published sessions from 30 days ago on, cancelled ones kept 30 days.

    Only counts of booked consultations appear, never who booked them.
    """
    now = now or dt.datetime.now(dt.UTC)
    first, last = _window(now)
    stmt = select(RotaSession).where(
        RotaSession.date >= first,
        RotaSession.date <= last,
        or_(
            RotaSession.status == "published", RotaSession.cancelled_at >= now - dt.timedelta(days=KEEP_CANCELLED_DAYS)
        ),
    )
    if feed.kind == "clinician":
        stmt = stmt.where(RotaSession.clinician_id == feed.clinician_id)
    elif feed.kind == "site":
        stmt = stmt.where(RotaSession.site_id == feed.site_id)
    sessions = list(session.scalars(stmt.order_by(RotaSession.date, RotaSession.period)))
    ids = [s.id for s in sessions]
    booked: dict[uuid.UUID, int] = {}
    if ids:
        booked = {
            session_id: count
            for session_id, count in session.execute(
                select(Slot.session_id, func.count(Booking.id))
                .join(Booking, Booking.slot_id == Slot.id)
                .where(Slot.session_id.in_(ids), Booking.status == "booked")
                .group_by(Slot.session_id)
            )
        }
    supervisors = _supervisors_on_duty(session, [s for s in sessions if s.clinician.role == ClinicianRole.INTERN])
    events = []
    for s in sessions:
        site = s.site
        half = "matin" if s.period == "am" else "après-midi"
        n = booked.get(s.id, 0)
        lines = [f"Séance du {half} · {n} consultation{'s' if n > 1 else ''} réservée{'s' if n > 1 else ''}"]
        if s.clinician.role == ClinicianRole.INTERN:
            names = supervisors.get((s.site_id, s.date, s.period), [])
            lines.append("Supervision : " + (", ".join(names) if names else "aucun superviseur sur place"))
        if s.status == "cancelled":
            lines.insert(0, "Séance annulée")
        summary = {
            "clinician": f"SMP {site.name}",
            "site": f"{s.clinician.display_name}",
            "rota": f"{site.name} — {s.clinician.display_name}",
        }[feed.kind]
        if s.status == "cancelled":
            summary = "Annulé : " + summary
        events.append(
            FeedEvent(
                uid=f"{s.id}@smp-planner",
                start=s.starts_at,
                end=s.ends_at,
                summary=summary,
                location=", ".join(
                    p for p in (f"SMP {site.name}", site.address, commune_name(site.commune_insee)) if p
                ),
                description="\n".join(lines),
                sequence=s.sequence,
                cancelled=s.status == "cancelled",
                last_modified=s.updated_at,
            )
        )
    latest = max((s.updated_at for s in sessions), default=None)
    published = f"Dernière publication : {datetime_fr(latest)}." if latest else "Aucune séance publiée pour l'instant."
    description = f"{_title(session, feed)}. {published} Actualisé toutes les heures."
    body = build_calendar(_title(session, feed), description, events)
    return RenderedFeed(body=body, etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"')


def _supervisors_on_duty(session: Session, intern_sessions: list[RotaSession]) -> dict[tuple, list[str]]:
    if not intern_sessions:
        return {}
    dates = {s.date for s in intern_sessions}
    found: dict[tuple, list[str]] = defaultdict(list)
    for other in session.scalars(
        select(RotaSession)
        .join(Clinician, Clinician.id == RotaSession.clinician_id)
        .where(
            RotaSession.status == "published",
            RotaSession.date.in_(dates),
            or_(Clinician.is_supervisor.is_(True), Clinician.role == ClinicianRole.COORDINATOR),
            Clinician.role != ClinicianRole.INTERN,
        )
    ):
        found[(other.site_id, other.date, other.period)].append(other.clinician.display_name)
    return found
