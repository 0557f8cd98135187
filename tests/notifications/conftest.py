"""Fixtures for the notification tests: the outbox table, test patients and bookings in the demo
rota (removed afterwards), and a local SMTP server (aiosmtpd) that keeps what it receives.

The ``outbox_message`` table comes from the migrations; the fixture below only names the model.
"""

from __future__ import annotations

import datetime as dt
import email
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest

from tests.notifications.helpers import free_port


@pytest.fixture(scope="session")
def outbox_table(engine):  # type: ignore[no-untyped-def]
    from app.notifications.models import OutboxMessage

    return OutboxMessage


class Inbox:
    """aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=default_policy)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class SmtpServer:
    """A local SMTP server on 127.0.0.1 that can be started late (to play "server down")."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self._controller: Any = None

    def start(self, login: tuple[str, str] | None = None) -> None:
        """Listen; with ``login``, AUTH is required (over plain TCP: this is a test server)."""
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        options: dict[str, Any] = {}
        if login is not None:

            def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
                ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == login
                return AuthResult(success=ok, handled=False)

            options = {
                "authenticator": authenticator,
                "auth_required": True,
                "auth_require_tls": False,
                "auth_exclude_mechanism": ["LOGIN"],  # PLAIN only: one clear answer per attempt
            }
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **options)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """Not started: call ``start()`` (the port stays reserved for this test only by convention)."""
    server = SmtpServer(free_port())
    yield server
    server.stop()


@pytest.fixture
def notification_settings(smtp_server: SmtpServer):  # type: ignore[no-untyped-def]
    from app.notifications.settings import NotificationSettings

    return NotificationSettings(
        smtp_host="127.0.0.1", smtp_port=smtp_server.port, smtp_sender="SMP Laval <rappels@smp53.example.fr>"
    )


@dataclass
class Clinic:
    """Test patients and bookings on the demo rota; everything is deleted after the test."""

    session: Any
    patient_ids: list[uuid.UUID] = field(default_factory=list)
    booking_ids: list[uuid.UUID] = field(default_factory=list)
    used_slots: set[uuid.UUID] = field(default_factory=set)

    def patient(
        self,
        *,
        first_name: str = "Françoise",
        last_name: str = "Lefèvre",
        email: str | None = "francoise.lefevre@example.org",
        phone: str = "06 12 34 56 78",
        **health: Any,
    ) -> Any:
        from app.patients.models import Patient

        n = len(self.patient_ids) + 1
        patient = Patient(
            reference=f"TEST-N-{uuid.uuid4().hex[:8]}",
            first_name=first_name,
            last_name=last_name,
            search_name=f"{last_name} {first_name}".lower(),
            birth_date=dt.date(1950, 1, n),
            sex="F",
            commune_insee="53130",
            address="1 rue du Test",
            phone=phone,
            email=email,
            requested_at=dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC),
            **health,
        )
        self.session.add(patient)
        self.session.flush()
        self.patient_ids.append(patient.id)
        return patient

    def free_slots(self, day: dt.date, count: int = 1) -> list[Any]:
        """Open slots of published sessions on ``day`` that nobody has booked."""
        from sqlalchemy import exists, select

        from app.rota.models import Booking, RotaSession, Slot

        live = exists().where(Booking.slot_id == Slot.id, Booking.status == "booked")
        slots = [
            s
            for s in self.session.scalars(
                select(Slot)
                .join(RotaSession, RotaSession.id == Slot.session_id)
                .where(RotaSession.date == day, RotaSession.status == "published", Slot.status == "open", ~live)
                .order_by(Slot.starts_at, Slot.id)
            )
            if s.id not in self.used_slots
        ]
        assert len(slots) >= count, f"the demo rota has fewer than {count} free slots on {day}"
        chosen = slots[:count]
        self.used_slots.update(s.id for s in chosen)
        return chosen

    def book(self, slot: Any, patient: Any, kind: str = "office") -> Any:
        from app.rota.models import Booking

        if hasattr(Booking, "for_slot"):  # the booking work copies the slot's times onto the booking
            booking = Booking.for_slot(slot, patient.id, kind=kind, status="booked")
        else:
            booking = Booking(slot_id=slot.id, patient_id=patient.id, kind=kind, status="booked")
        self.session.add(booking)
        self.session.flush()
        self.booking_ids.append(booking.id)
        return booking

    def move(self, booking: Any, slot: Any) -> None:
        booking.slot_id = slot.id
        if hasattr(booking, "starts_at"):
            booking.starts_at, booking.ends_at = slot.starts_at, slot.ends_at
        self.session.flush()


@pytest.fixture
def clinic(db, demo, outbox_table) -> Iterator[Clinic]:  # type: ignore[no-untyped-def]
    from sqlalchemy import delete

    from app.notifications.models import OutboxMessage
    from app.patients.models import Patient
    from app.rota.models import Booking

    made = Clinic(db)
    yield made
    db.rollback()
    db.execute(delete(OutboxMessage))
    if made.booking_ids:
        db.execute(delete(Booking).where(Booking.id.in_(made.booking_ids)))
    for patient_id in made.patient_ids:  # one by one, so that each deletion is audited
        patient = db.get(Patient, patient_id)
        if patient is not None:
            db.delete(patient)
    db.commit()


@pytest.fixture
def rota_day(db, demo) -> dt.date:  # type: ignore[no-untyped-def]
    """A day at least two days ahead whose published sessions have a few free slots (and so has the next)."""
    from sqlalchemy import func, select

    from app.rota.models import RotaSession, Slot

    today = dt.date.today()
    counts = dict(
        db.execute(
            select(RotaSession.date, func.count(Slot.id))
            .join(Slot, Slot.session_id == RotaSession.id)
            .where(RotaSession.status == "published", Slot.status == "open", RotaSession.date >= today)
            .group_by(RotaSession.date)
        ).all()
    )
    for offset in range(2, 25):
        day = today + dt.timedelta(days=offset)
        if counts.get(day, 0) >= 6 and counts.get(day + dt.timedelta(days=1), 0) >= 6:
            return day
    pytest.fail("the demo rota has no two consecutive days with free slots in the coming weeks")
