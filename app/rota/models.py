"""The rota: solver jobs, the draft the coordinator edits, published sessions and their slots."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clinicians.models import Clinician
from app.db.base import Base
from app.sites.models import Site

JOB_STATES = ("queued", "running", "done", "failed", "cancelled")


class RotaJob(Base):
    """One solve, run outside the request by a worker process; the page polls its progress."""

    __tablename__ = "rota_job"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed', 'cancelled')", name="status_known"),
    )

    status: Mapped[str] = mapped_column(String(12), default="queued", index=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    time_limit_s: Mapped[int] = mapped_column(Integer, default=10)
    draft_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rota_draft.id", ondelete="SET NULL"), nullable=True)
    requested_by: Mapped[str] = mapped_column(String(80), default="")
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Latest objective, bound, gap, elapsed seconds, solutions found."""
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """Solution v1 (status, objective, assignments, unmet with reasons, penalties, conflicts)."""
    error: Mapped[str] = mapped_column(String(500), default="")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    worker_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


class RotaDraft(Base):
    """The proposal under review for a period: solver output plus the coordinator's hand edits."""

    __tablename__ = "rota_draft"

    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    """``draft`` while edited, ``published`` once applied."""
    assignments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """``{"clinician", "site", "date", "period", "pinned"}`` with the app's ids as strings."""
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """The last solve's score analysis (penalties, unmet) for the page."""
    created_by: Mapped[str] = mapped_column(String(80), default="")
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)


class RotaSession(Base):
    """A published session (plage): one clinician at one site for one half-day."""

    __tablename__ = "rota_session"
    __table_args__ = (
        CheckConstraint("period IN ('am', 'pm')", name="period_known"),
        CheckConstraint("status IN ('published', 'cancelled')", name="status_known"),
        # One live session per clinician and half-day, enforced by the database itself.
        Index(
            "uq_rota_session_clinician_halfday",
            "clinician_id",
            "date",
            "period",
            unique=True,
            sqlite_where=text("status = 'published'"),
            postgresql_where=text("status = 'published'"),
        ),
    )

    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("site.id"), index=True)
    clinician_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinician.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    period: Mapped[str] = mapped_column(String(2))
    starts_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    ends_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    status: Mapped[str] = mapped_column(String(12), default="published", index=True)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    """Raised whenever time or place changes (iCal SEQUENCE)."""
    published_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)

    site: Mapped[Site] = relationship(lazy="joined")
    clinician: Mapped[Clinician] = relationship(lazy="joined")


class Slot(Base):
    """One bookable consultation time inside a session."""

    __tablename__ = "slot"
    __table_args__ = (CheckConstraint("status IN ('open', 'cancelled')", name="status_known"),)

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rota_session.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
    ends_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    status: Mapped[str] = mapped_column(String(12), default="open")


class Booking(Base):
    """A consultation booked in a slot.

    Besides the unique index below (one live booking per slot), the database itself refuses a
    patient in two overlapping live consultations and a booking on a cancelled slot or session:
    an exclusion constraint and a trigger on PostgreSQL, triggers on SQLite (see the migration
    ``booking guarantees``). ``starts_at``/``ends_at`` copy the slot's times for that purpose.
    """

    __tablename__ = "booking"
    __table_args__ = (
        CheckConstraint("status IN ('booked', 'to_rebook', 'cancelled', 'done', 'no_show')", name="status_known"),
        CheckConstraint("kind IN ('office', 'home_visit', 'teleconsultation')", name="kind_known"),
        Index(
            "uq_booking_live_slot",
            "slot_id",
            unique=True,
            sqlite_where=text("status = 'booked'"),
            postgresql_where=text("status = 'booked'"),
        ),
    )

    slot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("slot.id"), index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="office")
    status: Mapped[str] = mapped_column(String(12), default="booked", index=True)
    starts_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    ends_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    rebook_reason: Mapped[str] = mapped_column(String(255), default="")
    cancel_reason: Mapped[str] = mapped_column(String(255), default="")
    booked_by: Mapped[str] = mapped_column(String(80), default="")
    wants_earlier: Mapped[bool] = mapped_column(Boolean, default=False)
    """The patient asked to be called if an earlier slot frees."""

    @classmethod
    def for_slot(cls, slot: Slot, patient_id: uuid.UUID, **values: Any) -> Booking:
        return cls(slot_id=slot.id, patient_id=patient_id, starts_at=slot.starts_at, ends_at=slot.ends_at, **values)
