"""Database rows → the pure rota model (``scheduling.rota``), and its results back."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.availability.services import AvailabilityService
from app.clinicians.models import Clinician
from app.clinicians.services import france
from app.rota.models import RotaDraft, RotaSession
from app.sites.models import Site
from scheduling.rota import domain as rd


def active_clinicians(session: Session, start: dt.date, end: dt.date) -> list[Clinician]:
    return list(
        session.scalars(
            select(Clinician)
            .where(Clinician.active_from <= end, (Clinician.active_to.is_(None)) | (Clinician.active_to >= start))
            .order_by(Clinician.last_name, Clinician.first_name)
        ).unique()
    )


def active_sites(session: Session) -> list[Site]:
    return list(session.scalars(select(Site).where(Site.active.is_(True)).order_by(Site.name)))


def published_sessions(session: Session, start: dt.date, end: dt.date) -> list[RotaSession]:
    return list(
        session.scalars(
            select(RotaSession)
            .where(RotaSession.status == "published", RotaSession.date >= start, RotaSession.date <= end)
            .order_by(RotaSession.date, RotaSession.period)
        )
    )


def key_of(item: dict[str, Any]) -> rd.SessionKey:
    return rd.SessionKey(
        clinician=str(item["clinician"]),
        site=str(item["site"]),
        date=dt.date.fromisoformat(str(item["date"])),
        period=str(item["period"]),
    )


def item_of(key: rd.SessionKey, pinned: bool = False) -> dict[str, Any]:
    return {
        "clinician": key.clinician,
        "site": key.site,
        "date": key.date.isoformat(),
        "period": key.period,
        "pinned": pinned,
    }


def build_problem(
    session: Session,
    start: dt.date,
    end: dt.date,
    *,
    draft: RotaDraft | None = None,
    time_limit_s: float | None = None,
) -> rd.Problem:
    """The solver's input for a period: active sites and clinicians, who can come when, pins and
    the published rota to stay close to."""
    sites = active_sites(session)
    site_ids = {s.id for s in sites}
    clinicians = active_clinicians(session, start, end)
    offers = AvailabilityService(session).effective(clinicians, start, end)
    domain_sites = tuple(
        rd.Site(
            id=str(s.id),
            name=s.name,
            lat=s.lat,
            lon=s.lon,
            rooms=s.rooms,
            open=frozenset(s.opening_halfdays),
            target={k: s.target_for(k) for k in s.opening_halfdays},
        )
        for s in sites
    )
    domain_clinicians = []
    availability = []
    service = AvailabilityService(session)
    for c in clinicians:
        home = france().by_insee(c.home_commune_insee)
        pattern = service.current_pattern(c.id, start) or service.current_pattern(c.id, end)
        allowed = [str(s.id) for s in c.sites if s.id in site_ids]
        preferred = tuple(p for p in (pattern.preferred_site_ids if pattern else []) if p in allowed)
        domain_clinicians.append(
            rd.Clinician(
                id=str(c.id),
                name=c.display_name,
                role=c.role,  # type: ignore[arg-type]
                supervisor=c.is_supervisor,
                sites=tuple(allowed),
                preferred_sites=preferred,
                max_per_week=c.max_halfdays_per_week,
                target_per_week=c.target_halfdays_per_week,
                home=rd.Point(home.lat, home.lon) if home else None,
            )
        )
        for (day, period), offer in sorted(offers[c.id].items()):
            availability.append(
                rd.Availability(
                    clinician=str(c.id),
                    date=day,
                    period=period,
                    level=offer.level,  # type: ignore[arg-type]
                    site=str(offer.site_id) if offer.site_id else None,
                )
            )
    published = published_sessions(session, start, end)
    previous = tuple(rd.SessionKey(str(p.clinician_id), str(p.site_id), p.date, p.period) for p in published)
    pinned: set[rd.SessionKey] = {
        rd.SessionKey(str(p.clinician_id), str(p.site_id), p.date, p.period) for p in published if p.pinned
    }
    if draft is not None:
        pinned |= {key_of(a) for a in draft.assignments if a.get("pinned")}
    # A pin on a site deactivated or a clinician gone since cannot be kept: the review page shows it.
    known_clinicians = {c.id for c in domain_clinicians}
    known_sites = {s.id for s in domain_sites}
    pinned = {p for p in pinned if p.clinician in known_clinicians and p.site in known_sites}
    return rd.Problem(
        start=start,
        end=end,
        sites=domain_sites,
        clinicians=tuple(domain_clinicians),
        availability=tuple(availability),
        pinned=tuple(sorted(pinned)),
        previous=previous,
        holidays=None,
        time_limit_s=time_limit_s,
    )


def names(session: Session) -> tuple[dict[str, str], dict[str, str]]:
    """Display names of clinicians and sites by the ids used in the model."""
    clinicians = {str(c.id): c.display_name for c in session.scalars(select(Clinician)).unique()}
    sites = {str(s.id): s.name for s in session.scalars(select(Site))}
    return clinicians, sites


def as_uuid(value: str) -> uuid.UUID:
    return uuid.UUID(value)
