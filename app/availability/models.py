"""Clinicians' availability: a versioned weekly pattern, date-range exceptions, one-off half-days.

Editing a pattern adds a new version valid from a date (never rewriting an old one), so past and
published half-days keep the availability they were planned with.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base

LEVELS = ("preferred", "available", "unavailable")
LEVEL_LABELS = {"preferred": "préférée", "available": "possible", "unavailable": "indisponible"}
EXCEPTION_REASONS = {
    "leave": "congés",
    "illness": "maladie",
    "training": "formation",
    "busy": "occupé (agenda importé)",
    "other": "autre",
}


class AvailabilityPattern(Base):
    __tablename__ = "availability_pattern"
    __table_args__ = (UniqueConstraint("clinician_id", "valid_from"),)

    clinician_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinician.id", ondelete="CASCADE"), index=True)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    levels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    """Weekly half-day key → ``preferred`` or ``available``; a key absent means unavailable."""
    preferred_site_ids: Mapped[list[str]] = mapped_column(JSON, default=list)


class AvailabilityException(Base):
    """The clinician is away from ``start_date`` to ``end_date`` inclusive (leave, illness…)."""

    __tablename__ = "availability_exception"
    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="range_ordered"),
        CheckConstraint("period IS NULL OR period IN ('am', 'pm')", name="period_known"),
    )

    clinician_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinician.id", ondelete="CASCADE"), index=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    period: Mapped[str | None] = mapped_column(String(2), nullable=True)
    """``None``: whole days; ``am`` or ``pm``: only that half-day of each date (busy times imported from .ics)."""
    reason: Mapped[str] = mapped_column(String(20), default="leave")
    note: Mapped[str] = mapped_column(String(255), default="")


class AvailabilityExtra(Base):
    """A one-off half-day the clinician offers at a named site (retired GPs rarely keep a regular week)."""

    __tablename__ = "availability_extra"
    __table_args__ = (
        UniqueConstraint("clinician_id", "date", "period"),
        CheckConstraint("period IN ('am', 'pm')", name="period_known"),
    )

    clinician_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinician.id", ondelete="CASCADE"), index=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    period: Mapped[str] = mapped_column(String(2))
    site_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(12), default="available")
