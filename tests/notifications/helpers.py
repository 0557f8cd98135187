"""Small helpers shared by the notification tests."""

from __future__ import annotations

import dataclasses
import datetime as dt
import socket
import uuid

from app.core.dates import PARIS
from app.notifications.view import AppointmentView


def free_port() -> int:
    """A TCP port nothing listens on right now (on 127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def paris(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """That wall-clock time in Europe/Paris, timezone-aware."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS)


# 14:20 in Paris in winter (UTC+1) and in summer (UTC+2).
WINTER = dt.datetime(2026, 3, 3, 13, 20, tzinfo=dt.UTC)
SUMMER = dt.datetime(2026, 7, 7, 12, 20, tzinfo=dt.UTC)


def view(**changes: object) -> AppointmentView:
    base = AppointmentView(
        booking_id=uuid.UUID("01960000-0000-7000-8000-000000000001"),
        starts_at=WINTER,
        ends_at=WINTER + dt.timedelta(minutes=20),
        kind="office",
        patient_first_name="Léa",
        patient_last_name="Moreau",
        patient_reference="SMP-2026-000042",
        clinician_name="Dr Anne Roy",
        site_name="Laval",
        site_address="12 rue de la Paix",
        site_town="53000 Laval",
        site_phone="02 43 00 10 00",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]
