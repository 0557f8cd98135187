"""Bookings the rota displaced: the "to rebook" list the secretaries work through.

(The booking pages themselves — search, book, move, cancel — come with the booking work.)
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, get
from litestar.params import FromQuery
from litestar.response import Template
from sqlalchemy import select

from app.patients.models import Patient
from app.rota.models import Booking, RotaSession, Slot
from app.settings import get_settings
from app.web.auth import STAFF, require_roles
from app.web.forms import DbSession
from app.web.pagination import paginate


class ToRebookPage(Controller):
    path = "/bookings/to-rebook"
    guards = [require_roles(*STAFF)]
    include_in_schema = False

    @get("/", sync_to_thread=True, name="to_rebook")
    def to_rebook(self, db_session: DbSession, page: FromQuery[int] = 1) -> Template:
        stmt = (
            select(Booking)
            .join(Slot, Slot.id == Booking.slot_id)
            .where(Booking.status == "to_rebook")
            .order_by(Slot.starts_at)
        )
        result = paginate(db_session, stmt, page, get_settings().page_size)
        rows: list[dict[str, Any]] = []
        for booking in result.items:
            slot = db_session.get(Slot, booking.slot_id)
            session = db_session.get(RotaSession, slot.session_id) if slot else None
            patient = db_session.get(Patient, booking.patient_id)  # each read is audited
            rows.append({"booking": booking, "slot": slot, "session": session, "patient": patient})
        return Template("booking/to_rebook.html", context={"page": result, "rows": rows})
