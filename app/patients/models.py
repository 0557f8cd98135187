"""Patients without a GP. The enrolment lifecycle itself comes with the patients work."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

import app.cpts.models  # noqa: F401 - patient.departing_gp_id references census_gp: its table must be known
from app.db.base import Base


class PatientStatus(StrEnum):
    REQUESTED = "requested"
    ELIGIBLE = "eligible"
    EXCLUDED = "excluded"
    WAITING = "waiting"
    ASSIGNED = "assigned"
    DECLARED = "declared"
    LEFT = "left"
    MOVED = "moved"
    DECEASED = "deceased"


STATUS_LABELS = {
    PatientStatus.REQUESTED: "Demande reçue",
    PatientStatus.ELIGIBLE: "Éligible",
    PatientStatus.EXCLUDED: "Exclu",
    PatientStatus.WAITING: "En attente",
    PatientStatus.ASSIGNED: "Médecin attribué",
    PatientStatus.DECLARED: "Déclaration signée",
    PatientStatus.LEFT: "Sorti",
    PatientStatus.MOVED: "Déménagé",
    PatientStatus.DECEASED: "Décédé",
}


class Channel(StrEnum):
    PUBLIC_FORM = "public_form"
    PARTNER = "partner"
    DESK = "desk"
    UNSCHEDULED_CARE = "unscheduled_care"
    CPAM_IMPORT = "cpam_import"


CHANNEL_LABELS = {
    Channel.PUBLIC_FORM: "formulaire public",
    Channel.PARTNER: "orientation d'un partenaire",
    Channel.DESK: "accueil / téléphone",
    Channel.UNSCHEDULED_CARE: "soins non programmés",
    Channel.CPAM_IMPORT: "liste CPAM",
}
WAITING_STATUSES = (PatientStatus.REQUESTED.value, PatientStatus.ELIGIBLE.value, PatientStatus.WAITING.value)


class Patient(Base):
    __tablename__ = "patient"
    __table_args__ = (
        # Covers the committee's waiting-list aggregates (one index-only pass on 100,000 patients).
        Index(
            "ix_patient_waiting_figures",
            "status",
            "suspended_at",
            "commune_insee",
            "channel",
            "requested_at",
            "ald",
            "fragile",
            "c2s",
            "birth_date",
        ),
        CheckConstraint("sex IN ('F', 'M')", name="sex_known"),
        CheckConstraint(
            "status IN ('requested', 'eligible', 'excluded', 'waiting', 'assigned', 'declared', "
            "'left', 'moved', 'deceased')",
            name="status_known",
        ),
    )

    reference: Mapped[str] = mapped_column(String(20), unique=True)
    """The request number given to the patient (``SMP-2026-004213``)."""
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    search_name: Mapped[str] = mapped_column(String(200), index=True)
    """Accent- and case-insensitive ``last first`` for searching."""
    birth_date: Mapped[dt.date] = mapped_column(Date, index=True)
    sex: Mapped[str] = mapped_column(String(1))
    commune_insee: Mapped[str] = mapped_column(String(5), index=True)
    address: Mapped[str] = mapped_column(String(255), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    nir: Mapped[str | None] = mapped_column(String(15), nullable=True, unique=True)
    ald: Mapped[bool] = mapped_column(Boolean, default=False)
    c2s: Mapped[bool] = mapped_column(Boolean, default=False)
    fragile: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_home_visit: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_pmr: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(20), default=Channel.DESK)
    status: Mapped[str] = mapped_column(String(20), default=PatientStatus.REQUESTED, index=True)
    requested_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    referring_clinician_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("clinician.id", ondelete="SET NULL"), nullable=True, index=True
    )
    suspended_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    """Set after three failed contact attempts in a row: the request is kept, off the active list."""
    exclusion_reason: Mapped[str] = mapped_column(String(255), default="")
    usual_doctor: Mapped[str] = mapped_column(String(160), default="", server_default="")
    """A GP the patient sees regularly without having declared them: proposed first."""
    usual_doctor_outcome: Mapped[str] = mapped_column(String(10), default="", server_default="")
    """"" while the usual doctor is still to be proposed, then "accepted" or "refused"."""
    departing_gp_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("census_gp.id", ondelete="SET NULL"), nullable=True, index=True
    )
    """The census GP whose departure put this patient on the list (a priority patient: tier 1)."""

    @property
    def usual_doctor_pending(self) -> bool:
        """The usual doctor comes first: such a patient takes no place in the SMP's capacity yet."""
        return bool(self.usual_doctor) and not self.usual_doctor_outcome

    def age_on(self, day: dt.date) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


class PatientRequest(Base):
    """One request for a referring doctor, from any channel. A second request for the same person
    joins the first patient record; each request keeps its channel and referrer."""

    __tablename__ = "patient_request"
    __table_args__ = (
        CheckConstraint(
            "channel IN ('public_form', 'partner', 'desk', 'unscheduled_care', 'cpam_import')", name="channel_known"
        ),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    referrer: Mapped[str] = mapped_column(String(255), default="")
    """Who referred (partner's organisation and name), never the patient."""
    usual_doctor: Mapped[str] = mapped_column(String(160), default="")
    """A GP the patient sees regularly without having declared them (asked by every form)."""
    referred_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True, index=True
    )
    """The partner's or clinician's account that sent the request (a partner sees only theirs)."""
    received_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))


class PatientEvent(Base):
    """The status history: every transition, with who and when."""

    __tablename__ = "patient_event"
    __table_args__ = (Index("ix_patient_event_transitions", "to_status", "from_status", "occurred_at"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(20), default="")
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(String(255), default="")
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))


CONTACT_OUTCOMES = {
    "reached": "joint",
    "no_answer": "pas de réponse",
    "message_left": "message laissé",
    "wrong_number": "numéro erroné",
}
FAILED_CONTACTS_TO_SUSPEND = 3


class ContactAttempt(Base):
    """A call (or message) to reach a patient about their request, with its outcome."""

    __tablename__ = "contact_attempt"
    __table_args__ = (
        CheckConstraint("outcome IN ('reached', 'no_answer', 'message_left', 'wrong_number')", name="outcome_known"),
    )

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(String(255), default="")
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))


class CpamImport(Base):
    """One CPAM list imported: its counts (the CPTS action card's indicators come from them) and
    the rejected lines, kept for download until the list is fixed and imported again."""

    __tablename__ = "cpam_import"
    __table_args__ = (CheckConstraint("mode IN ('all_or_nothing', 'valid_only')", name="mode_known"),)

    filename: Mapped[str] = mapped_column(String(255))
    list_date: Mapped[dt.date] = mapped_column(Date, index=True)
    """The date of the CPAM's extraction (not of the import)."""
    mode: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(80))
    imported_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    lines: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    joined: Mapped[int] = mapped_column(Integer, default=0)
    excluded: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    written: Mapped[bool] = mapped_column(Boolean, default=False)
    """False when an all-or-nothing import was refused: nothing of it is in the database."""
    without_gp: Mapped[int] = mapped_column(Integer, default=0)
    c2s: Mapped[int] = mapped_column(Integer, default=0)
    over_70: Mapped[int] = mapped_column(Integer, default=0)
    under_16: Mapped[int] = mapped_column(Integer, default=0)
    ald: Mapped[int] = mapped_column(Integer, default=0)
    rejected_csv: Mapped[str] = mapped_column(Text, default="")
    """The rejected lines as they came, with the line number and the reasons (patient data: staff only)."""


class AssignmentProposal(Base):
    """The 2–3 doctors the last matching run proposes for a waiting patient, for the coordinator
    to confirm one by one (``chosen`` is the optimal assignment's pick) or in a batch."""

    __tablename__ = "assignment_proposal"
    __table_args__ = (UniqueConstraint("patient_id", "clinician_id", name="one_per_doctor"),)

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"), index=True)
    clinician_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinician.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    km: Mapped[float]
    chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    tier: Mapped[int] = mapped_column(Integer)


class NotDuplicate(Base):
    """Two records a person checked and found to be two different people: not proposed again."""

    __tablename__ = "not_duplicate"
    __table_args__ = (UniqueConstraint("first_id", "second_id", name="one_pair"),)

    first_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"), index=True)
    second_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(80))
