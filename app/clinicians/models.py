"""Clinicians: retired GPs, SASPAS interns, the coordinating doctor, later nurses."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, metadata
from app.sites.models import Site


class ClinicianRole(StrEnum):
    RETIRED_GP = "retired_gp"
    INTERN = "intern"
    COORDINATOR = "coordinator"
    NURSE = "nurse"

    @property
    def label(self) -> str:
        return CLINICIAN_ROLE_LABELS[self]


CLINICIAN_ROLE_LABELS = {
    ClinicianRole.RETIRED_GP: "Médecin retraité",
    ClinicianRole.INTERN: "Interne SASPAS",
    ClinicianRole.COORDINATOR: "Médecin coordonnateur",
    ClinicianRole.NURSE: "Infirmier·ère",
}

clinician_site = Table(
    "clinician_site",
    metadata,
    Column("clinician_id", ForeignKey("clinician.id", ondelete="CASCADE"), primary_key=True),
    Column("site_id", ForeignKey("site.id", ondelete="CASCADE"), primary_key=True),
)


class Clinician(Base):
    __tablename__ = "clinician"
    __table_args__ = (
        CheckConstraint("role IN ('retired_gp', 'intern', 'coordinator', 'nurse')", name="role_known"),
        CheckConstraint("max_halfdays_per_week >= 0", name="max_not_negative"),
        CheckConstraint(
            "target_halfdays_per_week >= 0 AND target_halfdays_per_week <= max_halfdays_per_week",
            name="target_within_max",
        ),
        CheckConstraint("panel_cap >= 0", name="panel_cap_not_negative"),
        CheckConstraint("home_visit_radius_km >= 0", name="radius_not_negative"),
    )

    role: Mapped[str] = mapped_column(String(20), index=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    rpps: Mapped[str] = mapped_column(String(11), unique=True)
    email: Mapped[str] = mapped_column(String(255), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    is_supervisor: Mapped[bool] = mapped_column(Boolean, default=False)
    home_commune_insee: Mapped[str] = mapped_column(String(5))
    main_site_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("site.id", ondelete="SET NULL"), nullable=True)
    max_halfdays_per_week: Mapped[int] = mapped_column(Integer, default=4)
    target_halfdays_per_week: Mapped[int] = mapped_column(Integer, default=3)
    panel_cap: Mapped[int] = mapped_column(Integer, default=0)
    """Maximum patients for whom this clinician is the referring doctor."""
    home_visits: Mapped[bool] = mapped_column(Boolean, default=False)
    home_visit_radius_km: Mapped[int] = mapped_column(Integer, default=0)
    active_from: Mapped[dt.date] = mapped_column(Date)
    active_to: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # Interns only.
    semester_start: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    semester_end: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    intern_outcome: Mapped[str] = mapped_column(String(10), default="", server_default="")
    """After the semester: "settled" (set up practice in the territory), "left", or "" (not known yet)."""
    university_halfdays: Mapped[list[str]] = mapped_column(JSON, default=list)
    supervisor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("clinician.id", ondelete="SET NULL"), nullable=True
    )

    sites: Mapped[list[Site]] = relationship(secondary=clinician_site, lazy="selectin", order_by=Site.name)
    main_site: Mapped[Site | None] = relationship(foreign_keys=[main_site_id], lazy="joined")
    supervisor: Mapped[Clinician | None] = relationship(remote_side="Clinician.id", lazy="joined")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def display_name(self) -> str:
        prefix = "Dr" if self.role != ClinicianRole.NURSE else ""
        return f"{prefix} {self.first_name} {self.last_name}".strip()

    @property
    def role_label(self) -> str:
        return CLINICIAN_ROLE_LABELS[ClinicianRole(self.role)]

    def is_active_on(self, day: dt.date) -> bool:
        return self.active_from <= day and (self.active_to is None or day <= self.active_to)
