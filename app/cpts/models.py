"""The CPTS census: the territory's GPs (not SMP staff), every contact with them, and the
proposals sent to patients."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class Accepts(StrEnum):
    YES = "yes"
    NO = "no"
    CONDITIONS = "conditions"


ACCEPTS_LABELS = {
    Accepts.YES: "accepte de nouveaux patients",
    Accepts.NO: "n'accepte pas de nouveaux patients",
    Accepts.CONDITIONS: "accepte sous conditions",
}
ACCEPTS_SHORT = {Accepts.YES: "oui", Accepts.NO: "non", Accepts.CONDITIONS: "sous conditions"}


class Departure(StrEnum):
    NONE = ""
    RETIREMENT = "retirement"
    MOVE = "move"
    ACTIVITY = "activity"


DEPARTURE_LABELS = {
    Departure.RETIREMENT: "départ à la retraite",
    Departure.MOVE: "déménagement",
    Departure.ACTIVITY: "changement d'activité",
}

CONTACT_ANSWERS = {
    "yes": "accepte de nouveaux patients",
    "conditions": "accepte sous conditions",
    "no": "n'accepte pas de nouveaux patients",
    "no_answer": "pas de réponse (à rappeler)",
}
"""What a contact may record; ``no_answer`` keeps the GP's offer as it was."""


class CensusGp(Base):
    """A general practitioner of the territory, as the CPTS last heard from them."""

    __tablename__ = "census_gp"
    __table_args__ = (
        CheckConstraint("accepts IN ('yes', 'no', 'conditions')", name="accepts_known"),
        CheckConstraint("departure IN ('', 'retirement', 'move', 'activity')", name="departure_known"),
        CheckConstraint("radius_km IS NULL OR radius_km > 0", name="radius_positive"),
    )

    last_name: Mapped[str] = mapped_column(String(80))
    first_name: Mapped[str] = mapped_column(String(80))
    search_name: Mapped[str] = mapped_column(String(200), index=True)
    rpps: Mapped[str] = mapped_column(String(11), unique=True)
    address: Mapped[str] = mapped_column(String(255), default="")
    commune_insee: Mapped[str] = mapped_column(String(5), index=True)
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    accepts: Mapped[str] = mapped_column(String(12), default=Accepts.NO)
    conditions: Mapped[str] = mapped_column(String(255), default="")
    """What "under conditions" means for this GP (only children, only the commune, …)."""
    radius_km: Mapped[float | None] = mapped_column(Float, nullable=True)
    perimeter_communes: Mapped[list[str]] = mapped_column(JSON, default=list)
    """INSEE codes: the perimeter as a list of communes (with or instead of the radius)."""
    home_visits: Mapped[bool] = mapped_column(Boolean, default=False)
    pmr: Mapped[bool] = mapped_column(Boolean, default=False)
    activity: Mapped[str] = mapped_column(String(255), default="")
    """A particular activity (paediatrics, gerontology, sports medicine, …)."""
    departure: Mapped[str] = mapped_column(String(12), default="", server_default="")
    departure_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True, index=True)
    last_contact_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True, index=True)
    """Copied from the latest contact, so that the "to re-contact" list reads an index."""

    @property
    def name(self) -> str:
        return f"Dr {self.first_name} {self.last_name}"


class CensusEvent(Base):
    """One line of a GP's history: a contact (date, by whom, answer, notes) or an edit of the
    record. The offer at that moment is kept, so the history shows how it changed."""

    __tablename__ = "census_event"
    __table_args__ = (Index("ix_census_event_gp_on", "gp_id", "occurred_on"),)

    gp_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("census_gp.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    """``contact`` or ``edit``."""
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(80))
    answer: Mapped[str] = mapped_column(String(12), default="")
    accepts: Mapped[str] = mapped_column(String(12))
    conditions: Mapped[str] = mapped_column(String(255), default="")
    notes: Mapped[str] = mapped_column(Text, default="")


class CptsProposal(Base):
    """A census GP proposed to a patient, the GP's answer, and the outcome."""

    __tablename__ = "cpts_proposal"
    __table_args__ = (
        CheckConstraint("answer IN ('pending', 'accepted', 'refused')", name="answer_known"),
        Index("ix_cpts_proposal_patient", "patient_id", "sent_at"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    gp_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("census_gp.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    km: Mapped[float]
    reasons: Mapped[str] = mapped_column(String(500), default="")
    sent_at: Mapped[dt.date] = mapped_column(Date)
    sent_by: Mapped[str] = mapped_column(String(80))
    answer: Mapped[str] = mapped_column(String(10), default="pending")
    answered_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    answered_by: Mapped[str] = mapped_column(String(80), default="")


class CptsProfile(Base):
    """The CPTS itself, as printed on posters and flyers (one row per installation)."""

    __tablename__ = "cpts_profile"

    name: Mapped[str] = mapped_column(String(160))
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    address: Mapped[str] = mapped_column(String(255), default="")
