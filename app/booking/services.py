"""Booking consultations into published sessions: search, propose, book, move, cancel, no-show.

The database has the last word on conflicts (a unique index per live slot, an exclusion
constraint or triggers per patient and per cancelled slot): the service checks first to give a
precise message, and turns any integrity error raised by a concurrent request into a clear
``Conflict`` — never a 500, never two bookings on one slot.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass

from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, defaultload
from uuid_utils.compat import uuid7

from app.clinicians.models import Clinician
from app.core.dates import PARIS
from app.core.errors import Conflict, FieldErrors
from app.core.identifiers import clean_nir
from app.core.parsing import clean_query
from app.db.engine import immediate
from app.notifications.service import compose, insert_rows, notify
from app.patients.models import Patient
from app.rota.models import Booking, RotaSession, Slot
from app.sites.models import Site
from sites.communes import normalise
from sites.geo import haversine_km

KINDS = {"office": "au cabinet", "home_visit": "visite à domicile", "teleconsultation": "téléconsultation"}
CANCEL_REASONS = {
    "patient": "à la demande du patient",
    "clinician": "empêchement du praticien",
    "duplicate": "rendez-vous en double",
    "other": "autre",
}
TAKEN = "Ce créneau vient d'être réservé par quelqu'un d'autre : choisissez-en un autre."
OVERLAP = "Ce patient a déjà un rendez-vous qui chevauche ce créneau."
NOT_BOOKABLE = "Ce créneau n'est plus réservable (séance annulée ou modifiée)."
PAST = "Ce créneau est déjà passé."


# --- finding patients ---------------------------------------------------------------------------
def search_patients(session: Session, query: str, limit: int = 10) -> list[Patient]:
    """Patients by part of their name (accent- and case-insensitive), a birth date (JJ/MM/AAAA or
    AAAA-MM-JJ) or a NIR. Every patient returned is a read, and is audited."""
    q = clean_query(query)
    if len(q) < 2:
        return []
    stmt = select(Patient)
    date = _parse_date(q)
    nir = clean_nir(q)
    if date is not None:
        stmt = stmt.where(Patient.birth_date == date)
    elif re.fullmatch(r"[0-9]{6,13}(2A|2B)?[0-9]*", nir) and len(nir) >= 6:
        stmt = stmt.where(Patient.nir.startswith(nir))
    else:
        for word in normalise(q).split():
            stmt = stmt.where(Patient.search_name.contains(word, autoescape=True))
    return list(session.scalars(stmt.order_by(Patient.search_name, Patient.birth_date).limit(limit)))


def _parse_date(text: str) -> dt.date | None:
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
    try:
        if m:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        return dt.date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        return None


# --- free slots ---------------------------------------------------------------------------------
def _live_booking(slot: type[Slot] | Slot) -> object:
    b = aliased(Booking)
    return exists().where(b.slot_id == slot.id, b.status == "booked")  # type: ignore[union-attr]


def free_slots_query(
    *,
    site_id: uuid.UUID | None = None,
    clinician_id: uuid.UUID | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    free: bool = True,
):  # type: ignore[no-untyped-def]
    stmt = (
        select(Slot, RotaSession)
        .join(RotaSession, RotaSession.id == Slot.session_id)
        .where(Slot.status == "open", RotaSession.status == "published")
    )
    if free:
        stmt = stmt.where(~_live_booking(Slot))  # type: ignore[operator]
    if site_id:
        stmt = stmt.where(RotaSession.site_id == site_id)
    if clinician_id:
        stmt = stmt.where(RotaSession.clinician_id == clinician_id)
    if start:
        stmt = stmt.where(Slot.starts_at >= start)
    if end:
        stmt = stmt.where(Slot.starts_at < end)
    return stmt.order_by(Slot.starts_at)


@dataclass(frozen=True)
class Proposal:
    slot: Slot
    rota_session: RotaSession
    why: str
    km: float | None = None


def proposals(session: Session, patient: Patient, now: dt.datetime, *, limit: int = 8) -> list[Proposal]:
    """The patient's referring doctor's next free slots first, then other clinicians at the nearest
    sites, soonest first."""
    from app.web.territory import current_territory

    found: list[Proposal] = []
    seen: set[uuid.UUID] = set()
    if patient.referring_clinician_id:
        rows = session.execute(free_slots_query(clinician_id=patient.referring_clinician_id, start=now).limit(4))
        for slot, rs in rows:
            found.append(Proposal(slot, rs, "son médecin traitant"))
            seen.add(slot.id)
    home = current_territory().by_insee(patient.commune_insee)
    sites = session.scalars(select(Site).where(Site.active.is_(True))).all()
    by_distance = sorted(sites, key=lambda s: haversine_km(home.lat, home.lon, s.lat, s.lon) if home else 0)
    for site in by_distance[:3]:
        km = round(haversine_km(home.lat, home.lon, site.lat, site.lon), 1) if home else None
        rows = session.execute(free_slots_query(site_id=site.id, start=now).limit(limit))
        for slot, rs in rows:
            if slot.id in seen:
                continue
            found.append(Proposal(slot, rs, f"antenne à {km:g} km" if km is not None else "antenne proche", km))
            seen.add(slot.id)
    head = [p for p in found if p.why == "son médecin traitant"]
    rest = sorted((p for p in found if p.why != "son médecin traitant"), key=lambda p: p.slot.starts_at)
    return (head + rest)[:limit]


# --- booking ------------------------------------------------------------------------------------
_SESSION_AND_NAMES = (
    defaultload(RotaSession.clinician).lazyload(Clinician.sites),
    defaultload(RotaSession.clinician).lazyload(Clinician.main_site),
    defaultload(RotaSession.clinician).lazyload(Clinician.supervisor),
)
"""A session with its site and clinician, without the clinician's own sites, main site and
supervisor (eager by default for the pages, and not needed to book: half the cost of the load)."""


def _bookable(session: Session, slot_id: uuid.UUID, now: dt.datetime) -> tuple[Slot, RotaSession]:
    """The slot and its session, when the slot can be booked now. Keep both while they are needed:
    the session's identity map holds its objects weakly, and one let go is read again."""
    row = session.execute(
        select(Slot, RotaSession)
        .join(RotaSession, RotaSession.id == Slot.session_id)
        .where(Slot.id == slot_id)
        .options(*_SESSION_AND_NAMES)
    ).one_or_none()
    if row is None:
        raise FieldErrors({"slot": "Créneau inconnu."})
    slot, rs = row
    if slot.status != "open" or rs.status != "published":
        raise Conflict(NOT_BOOKABLE, "slot")
    if slot.starts_at <= now:
        raise Conflict(PAST, "slot")
    return slot, rs


def _check_free(session: Session, slot: Slot, patient_id: uuid.UUID, ignore: uuid.UUID | None = None) -> None:
    live = select(Booking.id).where(Booking.slot_id == slot.id, Booking.status == "booked")
    overlap = select(Booking.id).where(
        Booking.patient_id == patient_id,
        Booking.status == "booked",
        Booking.starts_at < slot.ends_at,
        slot.starts_at < Booking.ends_at,
    )
    if ignore:
        live = live.where(Booking.id != ignore)
        overlap = overlap.where(Booking.id != ignore)
    taken, busy = session.execute(select(live.exists(), overlap.exists())).one()  # one round trip
    if taken:
        raise Conflict(TAKEN, "slot")
    if busy:
        raise Conflict(OVERLAP, "patient")


def _integrity(exc: IntegrityError) -> Conflict:
    text = str(exc.orig).lower()
    if "patient_overlap" in text or "ex_booking_patient_overlap" in text:
        return Conflict(OVERLAP, "patient")
    if "slot_not_bookable" in text:
        return Conflict(NOT_BOOKABLE, "slot")
    return Conflict(TAKEN, "slot")


def book(
    session: Session, slot_id: uuid.UUID, patient_id: uuid.UUID, kind: str, by: str, now: dt.datetime | None = None
) -> Booking:
    """Book ``slot_id`` for the patient, with its confirmation messages, in one transaction.

    On SQLite one writer holds the database at a time and every other booking waits for it, so all
    that only reads comes first: the patient, the slot, the checks that give a precise refusal
    (slot no longer bookable, already taken, patient busy then) and the messages' text. The write
    lock covers the inserts alone. A booking that raced this one between the checks and the insert
    is refused by the database itself (unique index, overlap and bookable-slot constraints), and
    :func:`_integrity` turns that into the same refusal. (A published session never changes
    clinician or site in place, so the messages built before the lock stay true.)"""
    now = now or dt.datetime.now(dt.UTC)
    if kind not in KINDS:
        raise FieldErrors({"kind": "Type de consultation inconnu : office, home_visit ou teleconsultation."})
    patient = session.get(Patient, patient_id)  # held: the messages read it again
    if patient is None:
        raise FieldErrors({"patient": "Patient inconnu."})
    slot, _rota_session = _bookable(session, slot_id, now)  # both held: compose() reads them again
    _check_free(session, slot, patient_id)
    booking = Booking.for_slot(slot, patient_id, id=_new_id(), kind=kind, booked_by=by[:80])
    messages = compose(session, booking, "confirmation", now, slot=slot)

    immediate(session)
    session.add(booking)
    try:
        session.flush()
        insert_rows(session, messages)  # in the same transaction as the booking
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise _integrity(exc) from None
    return booking


def _new_id() -> uuid.UUID:
    return uuid.UUID(bytes=uuid7().bytes)


def move(session: Session, booking: Booking, slot_id: uuid.UUID, by: str, now: dt.datetime | None = None) -> Booking:
    """Move a booked (or to-rebook) consultation to another slot, in one step; the booking keeps its id."""
    now = now or dt.datetime.now(dt.UTC)
    _fresh(session, booking)
    if booking.status not in ("booked", "to_rebook"):
        raise Conflict("Ce rendez-vous n'est plus actif.")
    slot, _rota_session = _bookable(session, slot_id, now)
    _check_free(session, slot, booking.patient_id, ignore=booking.id)
    previous = booking.starts_at
    booking.slot_id, booking.starts_at, booking.ends_at = slot.id, slot.starts_at, slot.ends_at
    booking.status, booking.rebook_reason, booking.booked_by = "booked", "", by[:80]
    if booking.wants_earlier and slot.starts_at < previous:
        booking.wants_earlier = False  # they got their earlier slot
    try:
        session.flush()
        notify(session, booking, "move", now, previous_starts_at=previous)
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise _integrity(exc) from None
    return booking


def _fresh(session: Session, booking: Booking) -> None:
    """Take the write lock, then re-read the booking: another secretary may have changed it since
    the page loaded it (on PostgreSQL the row stays locked until the commit)."""
    immediate(session)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Booking).where(Booking.id == booking.id).with_for_update())
    session.refresh(booking)


def cancel(session: Session, booking: Booking, reason: str, note: str = "") -> Booking:
    _fresh(session, booking)
    if booking.status not in ("booked", "to_rebook"):
        raise Conflict("Ce rendez-vous est déjà annulé ou passé.")
    if reason not in CANCEL_REASONS:
        raise FieldErrors({"reason": "Indiquez le motif de l'annulation."})
    booking.status = "cancelled"
    booking.cancel_reason = (CANCEL_REASONS[reason] + (f" — {note}" if note else ""))[:255]
    session.flush()
    notify(session, booking, "cancellation", dt.datetime.now(dt.UTC))  # never the reason: no health data
    session.commit()
    return booking


def undo_cancel(session: Session, booking: Booking, now: dt.datetime | None = None) -> Booking:
    """Restore a cancelled booking when its slot is still free (the cheap undo)."""
    now = now or dt.datetime.now(dt.UTC)
    _fresh(session, booking)
    if booking.status != "cancelled":
        raise Conflict("Ce rendez-vous n'est pas annulé.")
    slot, _rota_session = _bookable(session, booking.slot_id, now)
    _check_free(session, slot, booking.patient_id, ignore=booking.id)
    booking.status, booking.cancel_reason = "booked", ""
    try:
        session.flush()
        notify(session, booking, "confirmation", now)
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise _integrity(exc) from None
    return booking


def mark(session: Session, booking: Booking, status: str) -> Booking:
    if status not in ("done", "no_show"):
        raise FieldErrors({"status": "Statut inconnu."})
    _fresh(session, booking)
    if booking.status != "booked":
        raise Conflict("Seul un rendez-vous actif peut être marqué.")
    if booking.starts_at > dt.datetime.now(dt.UTC):
        # Marked early, the slot would look free and could be booked a second time.
        raise Conflict("Ce rendez-vous n'a pas encore commencé.")
    booking.status = status
    session.commit()
    return booking


def earlier_slot_calls(session: Session, now: dt.datetime, limit: int = 50) -> list[tuple[Booking, Slot]]:
    """Patients who asked for an earlier slot, for whom one is now free at the same site or with the
    same clinician: whom to call, most fragile first (tier), then longest wait."""
    rows = []
    waiting = session.scalars(
        select(Booking).where(Booking.status == "booked", Booking.wants_earlier.is_(True), Booking.starts_at > now)
    ).all()
    for booking in waiting:
        slot = session.get(Slot, booking.slot_id)
        current = session.get(RotaSession, slot.session_id) if slot else None
        if current is None:
            continue
        same_place = or_(RotaSession.site_id == current.site_id, RotaSession.clinician_id == current.clinician_id)
        candidate = session.execute(
            free_slots_query(start=now, end=booking.starts_at).where(same_place).limit(1)
        ).first()
        if candidate is not None:
            rows.append((booking, candidate[0]))
    patients = {
        p.id: p for p in session.scalars(select(Patient).where(Patient.id.in_([b.patient_id for b, _ in rows])))
    }

    def priority(item: tuple[Booking, Slot]) -> tuple[int, dt.datetime]:
        p = patients[item[0].patient_id]
        age = p.age_on(now.astimezone(PARIS).date())
        tier = 1 if (p.ald or p.fragile) else 2 if (p.c2s or age >= 60 or age < 16) else 3
        return tier, p.requested_at

    return sorted(rows, key=priority)[:limit]


def day_list(
    session: Session, day: dt.date, *, site_id: uuid.UUID | None = None, clinician_id: uuid.UUID | None = None
) -> list[tuple[RotaSession, list[tuple[Slot, Booking | None]]]]:
    """A day's sessions (of a site or a clinician) with each slot and its live booking."""
    stmt = select(RotaSession).where(RotaSession.date == day, RotaSession.status == "published")
    if site_id:
        stmt = stmt.where(RotaSession.site_id == site_id)
    if clinician_id:
        stmt = stmt.where(RotaSession.clinician_id == clinician_id)
    out = []
    for rs in session.scalars(stmt.order_by(RotaSession.period, RotaSession.clinician_id)):
        slots = session.scalars(
            select(Slot).where(Slot.session_id == rs.id, Slot.status == "open").order_by(Slot.starts_at)
        ).all()
        live = {
            b.slot_id: b
            for b in session.scalars(
                select(Booking).where(
                    Booking.slot_id.in_([s.id for s in slots]), Booking.status.in_(["booked", "done", "no_show"])
                )
            )
        }
        out.append((rs, [(s, live.get(s.id)) for s in slots]))
    return out


def local(value: dt.datetime) -> dt.datetime:
    return value.astimezone(PARIS)
