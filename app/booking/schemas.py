"""API shapes for slots and bookings."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec


class SlotOut(msgspec.Struct):
    id: uuid.UUID
    starts_at: dt.datetime
    ends_at: dt.datetime
    site_id: uuid.UUID
    site: str
    clinician_id: uuid.UUID
    clinician: str
    free: bool


class BookingCreate(msgspec.Struct):
    slot: uuid.UUID
    patient: uuid.UUID
    kind: str = "office"


class BookingOut(msgspec.Struct):
    id: uuid.UUID
    slot: uuid.UUID
    patient: uuid.UUID
    kind: str
    status: str
    starts_at: dt.datetime
    ends_at: dt.datetime


class BookingCancel(msgspec.Struct):
    reason: str = "patient"
    note: str = ""
