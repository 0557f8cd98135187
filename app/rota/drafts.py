"""The coordinator's draft: hand edits re-validated on the spot, suggestions, and publication."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from app.core.errors import Conflict
from app.db.engine import immediate
from app.rota.models import Booking, RotaDraft, RotaSession, Slot
from app.rota.problem import build_problem, item_of, key_of, names, published_sessions
from app.rota.times import bounds
from app.sites.models import Site
from scheduling.rota import domain as rd
from scheduling.rota import validation
from scheduling.rota.explain import unmet_targets
from scheduling.rota.suggest import suggest_candidates


@dataclass
class Review:
    """What the review page shows for a draft."""

    problem: rd.Problem
    assignments: list[rd.SessionKey]
    pinned: set[rd.SessionKey]
    violations: list[rd.Violation]
    penalties: list[rd.Penalty]
    unmet: list[rd.Unmet]
    costs: dict[str, int] = field(default_factory=dict)

    @property
    def objective(self) -> int:
        return sum(p.cost for p in self.penalties)


def _known(problem: rd.Problem, key: rd.SessionKey) -> bool:
    return key.clinician in problem.clinician_by_id and key.site in problem.site_by_id


def _named(session: Session, v: rd.Violation) -> rd.Violation:
    """Unknown references in words: the site was deactivated, the clinician left."""
    if v.rule != "known_references" or v.session is None:
        return v
    clinicians, sites = names(session)
    site = sites.get(v.session.site, "une antenne supprimée")
    who = clinicians.get(v.session.clinician, "un praticien supprimé")
    message = (
        f"Séance de {who} à {site} le {v.session.date:%d/%m/%Y} : antenne désactivée ou praticien parti "
        "— retirez-la du projet."
    )
    return rd.Violation(v.rule, message, v.session)


def review(session: Session, draft: RotaDraft) -> Review:
    problem = build_problem(session, draft.start_date, draft.end_date, draft=draft)
    keys = [key_of(a) for a in draft.assignments]
    known = [k for k in keys if _known(problem, k)]
    found = validation.penalties(problem, known)
    return Review(
        problem=problem,
        assignments=keys,
        pinned={key_of(a) for a in draft.assignments if a.get("pinned")},
        violations=[_named(session, v) for v in validation.check(problem, keys)],
        penalties=found,
        unmet=unmet_targets(problem, known),
        costs=validation.cost_by_rule(found),
    )


def ensure_idle(session: Session, draft: RotaDraft) -> None:
    """Refuse hand edits and publication while a solve works on this draft: its result would
    otherwise overwrite them (or rewrite a draft already published)."""
    from app.rota.models import RotaJob

    busy = session.scalar(
        select(RotaJob.id).where(RotaJob.draft_id == draft.id, RotaJob.status.in_(["queued", "running"]))
    )
    if busy is not None:
        raise Conflict("Un calcul est en cours sur ce projet : attendez sa fin (ou annulez-le) avant de le modifier.")


def _find(draft: RotaDraft, key: rd.SessionKey) -> int | None:
    for i, a in enumerate(draft.assignments):
        if key_of(a) == key:
            return i
    return None


def set_pinned(session: Session, draft: RotaDraft, key: rd.SessionKey, pinned: bool) -> None:
    ensure_idle(session, draft)
    i = _find(draft, key)
    if i is None:
        raise Conflict("Cette séance n'est plus dans le projet de planning.")
    items = [dict(a) for a in draft.assignments]
    items[i]["pinned"] = pinned
    draft.assignments, draft.status = items, "draft"
    session.commit()


def remove(session: Session, draft: RotaDraft, key: rd.SessionKey) -> None:
    ensure_idle(session, draft)
    draft.assignments, draft.status = [a for a in draft.assignments if key_of(a) != key], "draft"
    session.commit()


def add(session: Session, draft: RotaDraft, key: rd.SessionKey) -> list[rd.Violation]:
    """Add a session by hand (pinned); returns the hard rules it breaks, if any (it is kept, and
    publishing stays blocked until they are fixed)."""
    ensure_idle(session, draft)
    if not draft.start_date <= key.date <= draft.end_date:
        raise Conflict("Cette demi-journée est hors de la période du planning.")
    if any(key_of(a).clinician == key.clinician and key_of(a).half_day == key.half_day for a in draft.assignments):
        raise Conflict("Ce praticien a déjà une séance cette demi-journée.")
    if not _known(build_problem(session, draft.start_date, draft.end_date), key):
        raise Conflict("Praticien ou antenne inconnu(e) ou inactif(ve) sur cette période.")
    draft.assignments, draft.status = [*draft.assignments, item_of(key, pinned=True)], "draft"
    session.commit()
    problem = build_problem(session, draft.start_date, draft.end_date, draft=draft)
    return [v for v in validation.check(problem, [key_of(a) for a in draft.assignments]) if v.session == key]


def destinations(session: Session, draft: RotaDraft, key: rd.SessionKey, limit: int = 60) -> list[rd.SessionKey]:
    """Where this clinician's session could go instead: their other available half-days and
    allowed open sites in the period, where they hold no other session."""
    from scheduling.rota.index import ProblemIndex

    problem = build_problem(session, draft.start_date, draft.end_date, draft=draft)
    busy = {key_of(a).half_day for a in draft.assignments if key_of(a).clinician == key.clinician} - {key.half_day}
    found = [
        k
        for k in ProblemIndex(problem).candidate_sessions
        if k.clinician == key.clinician and k != key and k.half_day not in busy
    ]
    return sorted(found, key=lambda k: (k.date, k.period, k.site))[:limit]


def move(session: Session, draft: RotaDraft, key: rd.SessionKey, new_key: rd.SessionKey) -> list[rd.Violation]:
    """Move one session (same clinician) to another site or half-day; the moved session is pinned.
    Returns the hard rules the result breaks (the edit is kept; publishing stays blocked)."""
    if new_key.clinician != key.clinician:
        raise Conflict("Un déplacement garde le même praticien.")
    if _find(draft, key) is None:
        raise Conflict("Cette séance n'est plus dans le projet de planning.")
    draft.assignments = [a for a in draft.assignments if key_of(a) != key]
    return add(session, draft, new_key)


def suggestions(session: Session, draft: RotaDraft, site: str, day: dt.date, period: str) -> list[rd.Candidate]:
    problem = build_problem(session, draft.start_date, draft.end_date, draft=draft)
    if site not in problem.site_by_id:
        raise Conflict("Antenne inconnue ou désactivée.")
    return suggest_candidates(problem, [key_of(a) for a in draft.assignments], site, day, period)


@dataclass
class PublishReport:
    created: int = 0
    kept: int = 0
    moved: int = 0
    cancelled: int = 0
    to_rebook: int = 0


def _make_slots(session: Session, rs: RotaSession, slot_minutes: int) -> None:
    start, end = rs.starts_at, rs.ends_at
    step = dt.timedelta(minutes=slot_minutes)
    t = start
    while t + step <= end:
        session.add(Slot(session_id=rs.id, starts_at=t, ends_at=t + step, status="open"))
        t += step


def _close_slots(session: Session, rs: RotaSession, reason: str) -> int:
    """Cancel a session's slots; its live bookings go to the "to rebook" list. Returns how many.

    Slots first: from then on the database refuses any new booking on them, so a booking made
    while this runs either lands before (and is moved below) or is refused."""
    session.execute(update(Slot).where(Slot.session_id == rs.id).values(status="cancelled"))
    slot_ids = select(Slot.id).where(Slot.session_id == rs.id)
    moved = cast(
        "CursorResult[Any]",
        session.execute(
            update(Booking)
            .where(Booking.slot_id.in_(slot_ids), Booking.status == "booked")
            .values(status="to_rebook", rebook_reason=reason)
        ),
    ).rowcount
    return int(moved or 0)


def publish(session: Session, draft: RotaDraft, published_by: str) -> PublishReport:
    """Apply the draft to the published rota of its period. Refused while a hard rule is broken.

    Unchanged sessions keep their slots and bookings; a session whose site changed or that
    disappeared is cancelled (SEQUENCE raised) and its bookings go to the "to rebook" list —
    nothing is cancelled silently.
    """
    immediate(session)  # a long read, then many writes: take the write lock first (SQLite)
    ensure_idle(session, draft)
    checked = review(session, draft)
    if checked.violations:
        raise Conflict(
            f"Publication impossible : {len(checked.violations)} règle(s) non respectée(s). "
            + checked.violations[0].message
        )
    now = dt.datetime.now(dt.UTC)
    report = PublishReport()
    current = {
        (str(p.clinician_id), p.date, p.period): p
        for p in published_sessions(session, draft.start_date, draft.end_date)
    }
    wanted = {(k.clinician, k.date, k.period): (k, k in checked.pinned) for k in checked.assignments}
    sites = {str(s.id): s for s in session.scalars(select(Site))}
    for slot_key, live in current.items():
        target = wanted.get(slot_key)
        if target is not None and str(live.site_id) == target[0].site:
            live.pinned = target[1]
            report.kept += 1
            continue
        if target is not None:
            # Same clinician and half-day, another site: the session moves (same id, so the same
            # calendar UID; SEQUENCE goes up), its bookings go to the "to rebook" list.
            new_site = sites[target[0].site]
            report.to_rebook += _close_slots(session, live, f"Séance déplacée vers {new_site.name}")
            live.site_id, live.pinned, live.sequence = new_site.id, target[1], live.sequence + 1
            session.flush()
            _make_slots(session, live, new_site.slot_minutes)
            report.moved += 1
            continue
        report.to_rebook += _close_slots(session, live, "Séance supprimée du planning")
        live.status, live.cancelled_at, live.sequence = "cancelled", now, live.sequence + 1
        report.cancelled += 1
    session.flush()
    for slot_key, (key, pinned) in wanted.items():
        if slot_key in current:
            continue
        site = sites[key.site]
        starts, ends = bounds(key.date, key.period)
        rs = RotaSession(
            site_id=site.id,
            clinician_id=uuid.UUID(key.clinician),
            date=key.date,
            period=key.period,
            starts_at=starts,
            ends_at=ends,
            status="published",
            pinned=pinned,
            published_at=now,
        )
        session.add(rs)
        session.flush()
        _make_slots(session, rs, site.slot_minutes)
        report.created += 1
    draft.status, draft.published_at = "published", now
    session.commit()
    return report


def latest_draft(session: Session) -> RotaDraft | None:
    return session.scalar(select(RotaDraft).order_by(RotaDraft.created_at.desc()).limit(1))


def draft_summary(draft: RotaDraft) -> dict[str, Any]:
    return {
        "id": str(draft.id),
        "start": draft.start_date.isoformat(),
        "end": draft.end_date.isoformat(),
        "sessions": len(draft.assignments),
        "status": draft.status,
    }
