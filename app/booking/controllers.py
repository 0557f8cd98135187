"""The secretary's booking pages and the booking API."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy import func, select

from app.accounts.models import Role, User
from app.audit.recorder import record
from app.booking import services
from app.booking.schemas import BookingCreate, BookingOut, SlotOut
from app.clinicians.models import Clinician
from app.core.dates import PARIS, date_fr
from app.core.errors import Conflict, FieldErrors, user_message
from app.db.engine import immediate
from app.notifications.appointment import appointment_filename, appointment_ics, printable_note
from app.notifications.models import OutboxMessage
from app.notifications.sms import mobile_e164
from app.notifications.view import appointment_view
from app.patients.models import Patient
from app.rota.models import Booking, RotaSession, Slot
from app.rota.times import days, monday_of, sane_date
from app.settings import get_settings
from app.sites.models import Site
from app.web.auth import STAFF, require_roles
from app.web.forms import DbSession, FormData
from app.web.pagination import paginate
from app.web.territory import commune_name


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _booking(db_session: DbSession, booking_id: uuid.UUID) -> Booking:
    booking = db_session.get(Booking, booking_id)
    if booking is None:
        raise NotFoundException("Rendez-vous introuvable.")
    return booking


def _view(db_session: DbSession, booking: Booking) -> dict[str, Any]:
    slot = db_session.get(Slot, booking.slot_id)
    rs = db_session.get(RotaSession, slot.session_id) if slot else None
    patient = db_session.get(Patient, booking.patient_id)
    return {
        "booking": booking,
        "slot": slot,
        "rs": rs,
        "patient": patient,
        "kinds": services.KINDS,
        # Confirmations and reminders go by email or SMS to a French mobile; without either the
        # secretary must tell the patient herself.
        "notifiable": patient is not None and bool(patient.email or mobile_e164(patient.phone)),
    }


def _opt_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


def _opt_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _live(booking: Booking) -> None:
    if booking.status != "booked":
        raise Conflict("Ce rendez-vous n'est plus prévu : pas de convocation à imprimer ni d'agenda à envoyer.")


def _day_context(db_session: DbSession, day: dt.date, rows: list[Any]) -> dict[str, Any]:
    """What a day list shows: the sessions' slots, the booked patients, and the days around."""
    wanted = [b.patient_id for _, slots in rows for _, b in slots if b is not None]
    return {
        "day": day,
        "rows": rows,
        "patients": {p.id: p for p in db_session.scalars(select(Patient).where(Patient.id.in_(wanted)))},
        "kinds": services.KINDS,
        "previous": day - dt.timedelta(days=1),
        "next": day + dt.timedelta(days=1),
    }


def _new_page(db_session: DbSession, patient_id: uuid.UUID, error: str = "", status: int = 200) -> Template:
    person = db_session.get(Patient, patient_id)
    if person is None:
        raise NotFoundException("Patient introuvable.")
    doctor = db_session.get(Clinician, person.referring_clinician_id) if person.referring_clinician_id else None
    current = db_session.scalars(
        select(Booking)
        .where(Booking.patient_id == person.id, Booking.status == "booked", Booking.starts_at > now_utc())
        .order_by(Booking.starts_at)
    ).all()
    return Template(
        "booking/new.html",
        status_code=status,
        context={
            "patient": person,
            "doctor": doctor,
            "proposals": services.proposals(db_session, person, now_utc()),
            "kinds": services.KINDS,
            "current": current,
            "error": error,
            "commune_name": commune_name,
        },
    )


def _move_page(db_session: DbSession, booking: Booking, error: str = "", status: int = 200) -> Template:
    view = _view(db_session, booking)
    return Template(
        "booking/move.html",
        status_code=status,
        context={
            **view,
            "error": error,
            "proposals": [
                p
                for p in services.proposals(db_session, view["patient"], now_utc(), limit=12)
                if p.slot.id != booking.slot_id
            ],
        },
    )


class BookingPages(Controller):
    path = "/bookings"
    guards = [require_roles(*STAFF)]
    include_in_schema = False

    @get("/", sync_to_thread=True, name="bookings")
    def find(self, request: Request[Any, Any, Any], db_session: DbSession, q: FromQuery[str] = "") -> Template:
        found = services.search_patients(db_session, q) if q else []
        context = {"q": q, "patients": found, "commune_name": commune_name}
        if request.headers.get("hx-request") and request.headers.get("hx-target") == "patient-results":
            return Template("booking/_patient_results.html", context=context)
        return Template("booking/find.html", context=context)

    @get("/new", sync_to_thread=True, name="booking_new")
    def new(self, db_session: DbSession, patient: FromQuery[uuid.UUID]) -> Template:
        return _new_page(db_session, patient)

    @post("/", sync_to_thread=True, name="booking_create")
    def create(self, request: Request[User, Any, Any], db_session: DbSession, data: FormData) -> Template | Redirect:
        try:
            patient_id = uuid.UUID(str(data.get("patient", "")))
            slot_id = uuid.UUID(str(data.get("slot", "")))
        except ValueError:
            raise NotFoundException("Patient ou créneau inconnu.") from None
        try:
            booking = services.book(
                db_session, slot_id, patient_id, str(data.get("kind") or "office"), request.user.username
            )
        except (Conflict, FieldErrors) as exc:
            db_session.rollback()
            return _new_page(db_session, patient_id, user_message(exc), 409 if isinstance(exc, Conflict) else 400)
        flash(
            request,
            f"Rendez-vous réservé le {date_fr(booking.starts_at.astimezone(PARIS))} à "
            f"{booking.starts_at.astimezone(PARIS):%H:%M}.",
            category="success",
        )
        return Redirect(path=f"/bookings/{booking.id}")

    @get("/{booking_id:uuid}", sync_to_thread=True, name="booking_detail")
    def detail(self, db_session: DbSession, booking_id: FromPath[uuid.UUID]) -> Template:
        return Template(
            "booking/detail.html",
            context={
                **_view(db_session, _booking(db_session, booking_id)),
                "reasons": services.CANCEL_REASONS,
                "now": now_utc(),
            },
        )

    @get("/{booking_id:uuid}/note", sync_to_thread=True, name="booking_note")
    def note(self, db_session: DbSession, booking_id: FromPath[uuid.UUID]) -> Template:
        booking = _booking(db_session, booking_id)
        _live(booking)
        return Template(
            "booking/note.html",
            context={"booking": booking, "note": printable_note(appointment_view(db_session, booking))},
        )

    @get("/{booking_id:uuid}/appointment.ics", sync_to_thread=True, name="booking_ics")
    def appointment(self, db_session: DbSession, booking_id: FromPath[uuid.UUID]) -> Response[bytes]:
        booking = _booking(db_session, booking_id)
        _live(booking)
        view = appointment_view(db_session, booking)
        # A moved booking keeps its UID; calendar apps replace an event only by a higher SEQUENCE,
        # so the sequence grows with the booking's last change (seconds since it was made).
        sequence = max(0, int((booking.updated_at - booking.created_at).total_seconds()))
        return Response(
            appointment_ics(view, sequence=sequence),
            media_type="text/calendar",
            headers={"Content-Disposition": f'attachment; filename="{appointment_filename(view)}"'},
        )

    @get("/outbox", sync_to_thread=True, name="booking_outbox")
    def outbox(self, db_session: DbSession, page: FromQuery[int] = 1, status: FromQuery[str] = "") -> Template:
        stmt = select(OutboxMessage).order_by(OutboxMessage.created_at.desc())
        if status in ("queued", "sent", "failed", "withdrawn"):
            stmt = stmt.where(OutboxMessage.status == status)
        immediate(db_session)  # the audit row below is a write
        result = paginate(db_session, stmt, page, get_settings().page_size)
        if result.items:
            # Recipients are patients' contact details: reading the list is recorded.
            record(db_session, "read", "outbox", "*", f"{len(result.items)} messages, page {result.number}")
            db_session.commit()
        return Template("booking/outbox.html", context={"page": result, "status": status})

    @get("/{booking_id:uuid}/move", sync_to_thread=True, name="booking_move_form")
    def move_form(self, db_session: DbSession, booking_id: FromPath[uuid.UUID]) -> Template:
        return _move_page(db_session, _booking(db_session, booking_id))

    @post("/{booking_id:uuid}/move", sync_to_thread=True, name="booking_move")
    def move(
        self, request: Request[User, Any, Any], db_session: DbSession, booking_id: FromPath[uuid.UUID], data: FormData
    ) -> Template | Redirect:
        booking = _booking(db_session, booking_id)
        try:
            services.move(db_session, booking, uuid.UUID(str(data.get("slot", ""))), request.user.username)
        except (ValueError, FieldErrors):
            raise NotFoundException("Créneau inconnu.") from None
        except Conflict as exc:
            db_session.rollback()
            return _move_page(db_session, _booking(db_session, booking_id), exc.message, 409)
        flash(
            request,
            f"Rendez-vous déplacé au {date_fr(booking.starts_at.astimezone(PARIS))} à "
            f"{booking.starts_at.astimezone(PARIS):%H:%M}.",
            category="success",
        )
        return Redirect(path=f"/bookings/{booking.id}")

    @post("/{booking_id:uuid}/cancel", sync_to_thread=True, name="booking_cancel")
    def cancel(
        self, request: Request[User, Any, Any], db_session: DbSession, booking_id: FromPath[uuid.UUID], data: FormData
    ) -> Template | Redirect:
        booking = _booking(db_session, booking_id)
        try:
            services.cancel(db_session, booking, str(data.get("reason", "")), str(data.get("note", ""))[:200])
        except FieldErrors as exc:
            return Template(
                "booking/detail.html",
                status_code=400,
                context={
                    **_view(db_session, booking),
                    "reasons": services.CANCEL_REASONS,
                    "now": now_utc(),
                    "errors": exc.errors,
                },
            )
        except Conflict as exc:
            flash(request, exc.message, category="error")
            return Redirect(path=f"/bookings/{booking.id}")
        flash(request, "Rendez-vous annulé. Le créneau est de nouveau libre.", category="success")
        return Redirect(path=f"/bookings/{booking.id}?undo=1")

    @post("/{booking_id:uuid}/undo", sync_to_thread=True, name="booking_undo")
    def undo(
        self, request: Request[User, Any, Any], db_session: DbSession, booking_id: FromPath[uuid.UUID]
    ) -> Redirect:
        booking = _booking(db_session, booking_id)
        try:
            services.undo_cancel(db_session, booking)
            flash(request, "Annulation défaite : le rendez-vous est rétabli.", category="success")
        except Conflict as exc:
            db_session.rollback()
            flash(request, "Impossible de rétablir : " + exc.message, category="error")
        return Redirect(path=f"/bookings/{booking_id}")

    @post("/{booking_id:uuid}/mark", sync_to_thread=True, name="booking_mark")
    def mark(
        self, request: Request[User, Any, Any], db_session: DbSession, booking_id: FromPath[uuid.UUID], data: FormData
    ) -> Redirect:
        booking = _booking(db_session, booking_id)
        try:
            services.mark(db_session, booking, str(data.get("status", "")))
            flash(
                request,
                "Rendez-vous marqué « " + ("honoré" if booking.status == "done" else "non venu") + " ».",
                category="success",
            )
        except (Conflict, FieldErrors) as exc:
            flash(request, exc.message if isinstance(exc, Conflict) else "Statut inconnu.", category="error")
        return Redirect(path=f"/bookings/{booking_id}")

    @post("/{booking_id:uuid}/earlier", sync_to_thread=True, name="booking_earlier")
    def earlier(
        self, request: Request[User, Any, Any], db_session: DbSession, booking_id: FromPath[uuid.UUID]
    ) -> Redirect:
        immediate(db_session)
        booking = _booking(db_session, booking_id)
        booking.wants_earlier = not booking.wants_earlier
        db_session.commit()
        flash(
            request,
            "Le patient sera rappelé si un créneau plus tôt se libère."
            if booking.wants_earlier
            else "Demande de créneau plus tôt retirée.",
            category="success",
        )
        return Redirect(path=f"/bookings/{booking_id}")

    @get("/earlier", sync_to_thread=True, name="booking_earlier_list")
    def earlier_list(self, db_session: DbSession) -> Template:
        rows = services.earlier_slot_calls(db_session, now_utc())
        patients = {
            p.id: p for p in db_session.scalars(select(Patient).where(Patient.id.in_([b.patient_id for b, _ in rows])))
        }
        return Template("booking/earlier.html", context={"rows": rows, "patients": patients})

    @get("/day", sync_to_thread=True, name="booking_day")
    def day(
        self,
        db_session: DbSession,
        date: FromQuery[str] = "",
        site: FromQuery[str] = "",
        clinician: FromQuery[str] = "",
    ) -> Template:
        # A filter form sends its empty selects as "": read them as "no filter", never as an error.
        day = sane_date(_opt_date(date)) or dt.datetime.now(PARIS).date()
        site_id, clinician_id = _opt_uuid(site), _opt_uuid(clinician)
        sites = db_session.scalars(select(Site).where(Site.active.is_(True)).order_by(Site.name)).all()
        clinicians = db_session.scalars(select(Clinician).order_by(Clinician.last_name)).unique().all()
        if site_id is None and clinician_id is None and sites:
            site_id = sites[0].id
        rows = services.day_list(db_session, day, site_id=site_id, clinician_id=clinician_id)
        return Template(
            "booking/day.html",
            context={
                **_day_context(db_session, day, rows),
                "sites": sites,
                "clinicians": clinicians,
                "site": site_id,
                "clinician": clinician_id,
            },
        )

    @get("/week", sync_to_thread=True, name="booking_week")
    def week(self, db_session: DbSession, site: FromQuery[str] = "", week: FromQuery[str] = "") -> Template:
        sites = db_session.scalars(select(Site).where(Site.active.is_(True)).order_by(Site.name)).all()
        chosen_site = _opt_uuid(site)
        current = next((s for s in sites if s.id == chosen_site), sites[0] if sites else None)
        monday = monday_of(sane_date(_opt_date(week)) or dt.datetime.now(PARIS).date())
        week_days = days(monday, monday + dt.timedelta(days=5))
        cells: dict[tuple[dt.date, str], list[dict[str, Any]]] = defaultdict(list)
        if current is not None:
            booked = (
                select(func.count(Booking.id))
                .join(Slot, Slot.id == Booking.slot_id)
                .where(Slot.session_id == RotaSession.id, Booking.status == "booked")
                .scalar_subquery()
            )
            total = (
                select(func.count(Slot.id))
                .where(Slot.session_id == RotaSession.id, Slot.status == "open")
                .scalar_subquery()
            )
            for rs, n_booked, n_total in db_session.execute(
                select(RotaSession, booked, total).where(
                    RotaSession.site_id == current.id,
                    RotaSession.status == "published",
                    RotaSession.date >= monday,
                    RotaSession.date <= week_days[-1],
                )
            ):
                cells[(rs.date, rs.period)].append({"rs": rs, "booked": n_booked, "total": n_total})
        return Template(
            "booking/week.html",
            context={
                "sites": sites,
                "current": current,
                "monday": monday,
                "week_days": week_days,
                "cells": cells,
                "previous": monday - dt.timedelta(days=7),
                "next": monday + dt.timedelta(days=7),
            },
        )


class BookingApi(Controller):
    path = "/api"
    tags = ["bookings"]
    guards = [require_roles(*STAFF)]

    @get("/slots", sync_to_thread=True, summary="Slots of published sessions (free ones with free=true)")
    def slots(
        self,
        db_session: DbSession,
        site: FromQuery[uuid.UUID | None] = None,
        clinician: FromQuery[uuid.UUID | None] = None,
        date_from: FromQuery[dt.date | None] = None,
        date_to: FromQuery[dt.date | None] = None,
        free: FromQuery[bool] = False,
        limit: FromQuery[int] = 200,
    ) -> list[SlotOut]:
        date_from, date_to = sane_date(date_from), sane_date(date_to)
        start = dt.datetime.combine(date_from, dt.time.min, PARIS) if date_from else now_utc()
        end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, PARIS) if date_to else None
        # Columns, not ORM objects: this is the hot path of the booking screen and of the API.
        booked = select(Booking.id).where(Booking.slot_id == Slot.id, Booking.status == "booked").exists()
        stmt = (
            select(
                Slot.id,
                Slot.starts_at,
                Slot.ends_at,
                RotaSession.site_id,
                Site.name,
                RotaSession.clinician_id,
                Clinician.first_name,
                Clinician.last_name,
                Clinician.role,
                booked,
            )
            .join(RotaSession, RotaSession.id == Slot.session_id)
            .join(Site, Site.id == RotaSession.site_id)
            .join(Clinician, Clinician.id == RotaSession.clinician_id)
            .where(Slot.status == "open", RotaSession.status == "published", Slot.starts_at >= start)
        )
        if end is not None:
            stmt = stmt.where(Slot.starts_at < end)
        if site:
            stmt = stmt.where(RotaSession.site_id == site)
        if clinician:
            stmt = stmt.where(RotaSession.clinician_id == clinician)
        if free:
            stmt = stmt.where(~booked)
        rows = db_session.execute(stmt.order_by(Slot.starts_at).limit(max(1, min(limit, 1000)))).all()
        db_session.commit()  # ends the read here, in this thread: the request's end has nothing left to do
        return [
            SlotOut(
                id=r[0],
                starts_at=r[1],
                ends_at=r[2],
                site_id=r[3],
                site=r[4],
                clinician_id=r[5],
                clinician=("" if r[8] == "nurse" else "Dr ") + f"{r[6]} {r[7]}",
                free=not r[9],
            )
            for r in rows
        ]

    @post(
        "/bookings",
        sync_to_thread=True,
        status_code=HTTP_201_CREATED,
        summary="Book a slot: 201, or 409 when the slot was taken or the patient is busy then",
    )
    def create(
        self, request: Request[User, Any, Any], db_session: DbSession, data: JSONBody[BookingCreate]
    ) -> BookingOut:
        b = services.book(db_session, data.slot, data.patient, data.kind, request.user.username)
        return BookingOut(
            id=b.id,
            slot=b.slot_id,
            patient=b.patient_id,
            kind=b.kind,
            status=b.status,
            starts_at=b.starts_at,
            ends_at=b.ends_at,
        )

    @delete(
        "/bookings/{booking_id:uuid}", sync_to_thread=True, status_code=200, summary="Cancel a booking, with a reason"
    )
    def cancel(
        self,
        db_session: DbSession,
        booking_id: FromPath[uuid.UUID],
        reason: FromQuery[str] = "patient",
        note: FromQuery[str] = "",
    ) -> BookingOut:
        b = services.cancel(db_session, _booking(db_session, booking_id), reason, note[:200])
        return BookingOut(
            id=b.id,
            slot=b.slot_id,
            patient=b.patient_id,
            kind=b.kind,
            status=b.status,
            starts_at=b.starts_at,
            ends_at=b.ends_at,
        )


class ToRebookPage(Controller):
    """Bookings the rota displaced: the "to rebook" list the secretaries work through."""

    path = "/bookings/to-rebook"
    guards = [require_roles(*STAFF)]
    include_in_schema = False

    @get("/", sync_to_thread=True, name="to_rebook")
    def to_rebook(self, db_session: DbSession, page: FromQuery[int] = 1) -> Template:
        stmt = select(Booking).where(Booking.status == "to_rebook").order_by(Booking.starts_at)
        result = paginate(db_session, stmt, page, get_settings().page_size)
        rows = [_view(db_session, booking) for booking in result.items]  # each patient read is audited
        return Template("booking/to_rebook.html", context={"page": result, "rows": rows})


class MyConsultationsPage(Controller):
    """A clinician's own consultations for one day: who comes, when, for what kind of visit."""

    path = "/my/day"
    guards = [require_roles(Role.CLINICIAN)]
    include_in_schema = False

    @get("/", sync_to_thread=True, name="my_day")
    def my_day(self, request: Request[User, Any, Any], db_session: DbSession, date: FromQuery[str] = "") -> Template:
        day = sane_date(_opt_date(date)) or dt.datetime.now(PARIS).date()
        rows = []
        if request.user.clinician_id is not None:
            rows = services.day_list(db_session, day, clinician_id=request.user.clinician_id)
        return Template("booking/my_day.html", context=_day_context(db_session, day, rows))
