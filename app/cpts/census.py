"""The census of the territory's GPs: their record, every contact with them, the "to re-contact"
list and the departures to anticipate. Plain functions over a session; the pages call them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from app.core.dates import add_months
from app.core.errors import FieldErrors
from app.core.identifiers import clean_rpps, rpps_error
from app.core.parsing import Collector
from app.cpts.models import (
    ACCEPTS_LABELS,
    CONTACT_ANSWERS,
    DEPARTURE_LABELS,
    Accepts,
    CensusEvent,
    CensusGp,
)
from app.db.engine import immediate
from sites.communes import Territory, normalise

RECONTACT_AFTER_DAYS = 183
"""A GP whose last contact is older than six months is to be contacted again."""
DEPARTURE_HORIZON_MONTHS = 12
"""A departure within this many months shows on the coordinator's home page."""
MAX_RADIUS_KM = 100

EDITABLE = (
    "last_name",
    "first_name",
    "rpps",
    "address",
    "commune",
    "phone",
    "email",
    "accepts",
    "conditions",
    "radius_km",
    "perimeter_communes",
    "home_visits",
    "pmr",
    "activity",
    "departure",
    "departure_date",
)


def months_until(today: dt.date, day: dt.date) -> int:
    """Whole months from ``today`` to ``day`` (0 when it is within the month, never negative)."""
    months = (day.year - today.year) * 12 + day.month - today.month - (day.day < today.day)
    return max(0, months)


def clean_gp(session: Session, data: dict[str, Any], territory: Territory, current: CensusGp | None) -> dict[str, Any]:
    """A GP's fields, typed, or ``FieldErrors`` with one French message per faulty field."""
    c = Collector(data)
    last = c.text("last_name", required=True, max_len=80, label="Le nom")
    first = c.text("first_name", required=True, max_len=80, label="Le prénom")
    rpps = clean_rpps(c.text("rpps", required=True, max_len=20, label="Le numéro RPPS"))
    if rpps and "rpps" not in c.errors:
        if message := rpps_error(rpps):
            c.errors["rpps"] = message
        else:
            other = session.scalar(select(CensusGp.id).where(CensusGp.rpps == rpps))
            if other is not None and (current is None or other != current.id):
                c.errors["rpps"] = "Ce numéro RPPS est déjà au recensement (un autre médecin)."
    commune_text = c.text("commune", required=True, label="La commune du cabinet")
    found = territory.matches(commune_text) if commune_text else []
    if commune_text and len(found) != 1:
        c.errors["commune"] = (
            "Plusieurs communes correspondent : précisez le code postal ou le code INSEE."
            if found
            else f"Commune inconnue sur le territoire : « {commune_text} »."
        )
    accepts = c.text("accepts", required=True, label="La réponse « accepte de nouveaux patients »")
    if accepts and accepts not in ACCEPTS_LABELS:
        c.errors["accepts"] = "Choisissez oui, non ou sous conditions."
    conditions = c.text("conditions", max_len=255, label="Les conditions")
    if accepts == Accepts.CONDITIONS and not conditions and "conditions" not in c.errors:
        c.errors["conditions"] = "Précisez les conditions (par exemple « enfants seulement »)."
    radius: float | None = None
    radius_text = c.text("radius_km", max_len=10, label="Le rayon").replace(",", ".")
    if radius_text:
        try:
            radius = float(radius_text)
        except ValueError:
            c.errors["radius_km"] = "Le rayon doit être un nombre de kilomètres (par exemple 10)."
        else:
            if not 0 < radius <= MAX_RADIUS_KM:
                c.errors["radius_km"] = f"Le rayon doit être compris entre 0 et {MAX_RADIUS_KM} km."
    communes: list[str] = []
    unknown: list[str] = []
    for name in c.strings("perimeter_communes"):
        matches = territory.matches(name)
        if len(matches) == 1:
            communes.append(matches[0].insee)
        else:
            unknown.append(name)
    if unknown:
        c.errors["perimeter_communes"] = "Communes inconnues ou ambiguës : " + ", ".join(f"« {u} »" for u in unknown)
    if radius is None and not communes and not unknown and "radius_km" not in c.errors:
        c.errors["radius_km"] = "Indiquez le périmètre : un rayon autour du cabinet, des communes, ou les deux."
    departure = c.text("departure", max_len=12)
    if departure and departure not in DEPARTURE_LABELS:
        c.errors["departure"] = "Départ inconnu."
    departure_date = c.date("departure_date", label="La date de départ")
    if departure and departure_date is None and "departure_date" not in c.errors:
        c.errors["departure_date"] = "Indiquez la date (même approximative) du départ."
    if departure_date is not None and not departure and "departure" not in c.errors:
        c.errors["departure"] = "Indiquez la nature du départ (retraite, déménagement, changement d'activité)."
    phone = c.phone("phone")
    email = c.email("email")
    if c.errors:
        raise FieldErrors(c.errors)
    return {
        "last_name": last,
        "first_name": first,
        "search_name": normalise(f"{last} {first}"),
        "rpps": rpps,
        "address": c.text("address", max_len=255),
        "commune_insee": found[0].insee,
        "phone": phone,
        "email": email,
        "accepts": accepts,
        "conditions": conditions if accepts == Accepts.CONDITIONS else "",
        "radius_km": radius,
        "perimeter_communes": sorted(set(communes)),
        "home_visits": c.boolean("home_visits"),
        "pmr": c.boolean("pmr"),
        "activity": c.text("activity", max_len=255),
        "departure": departure,
        "departure_date": departure_date,
    }


def as_input(gp: CensusGp, territory: Territory) -> dict[str, Any]:
    """The record as the edit form shows it."""
    commune = territory.by_insee(gp.commune_insee)
    names = [c.label for i in gp.perimeter_communes if (c := territory.by_insee(i))]
    return {
        "last_name": gp.last_name,
        "first_name": gp.first_name,
        "rpps": gp.rpps,
        "address": gp.address,
        "commune": commune.label if commune else gp.commune_insee,
        "phone": gp.phone,
        "email": gp.email,
        "accepts": gp.accepts,
        "conditions": gp.conditions,
        "radius_km": f"{gp.radius_km:g}".replace(".", ",") if gp.radius_km else "",
        "perimeter_communes": ", ".join(names),
        "home_visits": gp.home_visits,
        "pmr": gp.pmr,
        "activity": gp.activity,
        "departure": gp.departure,
        "departure_date": gp.departure_date.isoformat() if gp.departure_date else "",
    }


def create_gp(session: Session, data: dict[str, Any], territory: Territory, actor: str, today: dt.date) -> CensusGp:
    """Add a GP to the census (its first history line is the record's creation). Commits."""
    immediate(session)
    values = clean_gp(session, data, territory, None)
    gp = CensusGp(**values)
    session.add(gp)
    session.flush()
    _event(session, gp, "edit", actor, today, notes="ajout au recensement")
    session.commit()
    return gp


def update_gp(
    session: Session, gp: CensusGp, data: dict[str, Any], territory: Territory, actor: str, today: dt.date
) -> list[str]:
    """Save an edited record; the history keeps a line naming what changed. Commits. Returns the
    labels of the changed fields (empty: nothing to save)."""
    immediate(session)
    session.refresh(gp)
    values = clean_gp(session, data, territory, gp)
    changed = [k for k, v in values.items() if getattr(gp, k) != v and k != "search_name"]
    if not changed:
        session.rollback()
        return []
    for key, value in values.items():
        setattr(gp, key, value)
    _event(session, gp, "edit", actor, today, notes="fiche modifiée : " + ", ".join(FIELD_LABELS[k] for k in changed))
    session.commit()
    return changed


FIELD_LABELS = {
    "last_name": "nom",
    "first_name": "prénom",
    "rpps": "RPPS",
    "address": "adresse",
    "commune_insee": "commune",
    "phone": "téléphone",
    "email": "e-mail",
    "accepts": "accepte de nouveaux patients",
    "conditions": "conditions",
    "radius_km": "rayon",
    "perimeter_communes": "communes du périmètre",
    "home_visits": "visites à domicile",
    "pmr": "accès PMR",
    "activity": "activité particulière",
    "departure": "départ",
    "departure_date": "date de départ",
}


def record_contact(
    session: Session,
    gp: CensusGp,
    data: dict[str, Any],
    actor: str,
    today: dt.date,
) -> CensusEvent:
    """One step: the GP was contacted on a date; their answer becomes their offer. A "no answer" is
    kept in the history but changes neither the offer nor the last contact: the GP stays on the
    "to re-contact" list. Commits."""
    c = Collector(data)
    answer = c.text("answer", required=True, label="La réponse")
    if answer and answer not in CONTACT_ANSWERS:
        c.errors["answer"] = "Choisissez la réponse du médecin."
    on = c.date("contacted_on", label="La date du contact") or today
    if on > today:
        c.errors["contacted_on"] = "La date du contact ne peut pas être dans le futur."
    conditions = c.text("conditions", max_len=255, label="Les conditions")
    if answer == Accepts.CONDITIONS and not conditions:
        c.errors["conditions"] = "Précisez les conditions (par exemple « enfants seulement »)."
    notes = c.text("notes", max_len=2000, label="Les notes")
    if c.errors:
        raise FieldErrors(c.errors)
    immediate(session)
    session.refresh(gp)
    if answer in ACCEPTS_LABELS:
        gp.accepts = answer
        gp.conditions = conditions if answer == Accepts.CONDITIONS else ""
    if answer != "no_answer" and (gp.last_contact_on is None or on >= gp.last_contact_on):
        gp.last_contact_on = on
    event = _event(session, gp, "contact", actor, on, answer=answer, notes=notes)
    session.commit()
    return event


def _event(
    session: Session, gp: CensusGp, kind: str, actor: str, on: dt.date, *, answer: str = "", notes: str = ""
) -> CensusEvent:
    event = CensusEvent(
        gp_id=gp.id,
        kind=kind,
        occurred_on=on,
        actor=actor[:80],
        answer=answer,
        accepts=gp.accepts,
        conditions=gp.conditions,
        notes=notes,
    )
    session.add(event)
    session.flush()
    return event


def history(session: Session, gp: CensusGp) -> list[CensusEvent]:
    return list(
        session.scalars(
            select(CensusEvent)
            .where(CensusEvent.gp_id == gp.id)
            .order_by(CensusEvent.occurred_on.desc(), CensusEvent.created_at.desc())
        )
    )


def recontact_before(today: dt.date) -> dt.date:
    return today - dt.timedelta(days=RECONTACT_AFTER_DAYS)


def to_recontact(today: dt.date) -> Select[tuple[CensusGp]]:
    """GPs never contacted or last contacted more than six months ago, the oldest contact first,
    GPs who are leaving left out (their departure is followed elsewhere)."""
    return (
        select(CensusGp)
        .where(or_(CensusGp.last_contact_on.is_(None), CensusGp.last_contact_on < recontact_before(today)))
        .where(or_(CensusGp.departure_date.is_(None), CensusGp.departure_date > today))
        .order_by(CensusGp.last_contact_on.asc().nulls_first(), CensusGp.search_name)
    )


def departures_soon(session: Session, today: dt.date) -> list[CensusGp]:
    """GPs whose departure falls within the next twelve months (or has just passed: last month)."""
    horizon = add_months(today, DEPARTURE_HORIZON_MONTHS)
    return list(
        session.scalars(
            select(CensusGp)
            .where(CensusGp.departure_date.is_not(None))
            .where(CensusGp.departure_date >= today - dt.timedelta(days=31), CensusGp.departure_date <= horizon)
            .order_by(CensusGp.departure_date, CensusGp.search_name)
        )
    )


def census_query(q: str = "", accepts: str = "") -> Select[tuple[CensusGp]]:
    """The census list, searched by name (accent-insensitive), commune code or RPPS."""
    statement = select(CensusGp).order_by(CensusGp.search_name)
    if accepts in ACCEPTS_LABELS:
        statement = statement.where(CensusGp.accepts == accepts)
    if q:
        key = normalise(q)
        digits = q.replace(" ", "")
        statement = statement.where(
            or_(
                CensusGp.search_name.contains(key, autoescape=True),
                CensusGp.rpps == digits,
                CensusGp.commune_insee == digits,
            )
        )
    return statement
