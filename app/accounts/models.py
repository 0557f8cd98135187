"""User accounts, their roles and personal API tokens."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clinicians.models import Clinician
from app.db.base import Base


class Role(StrEnum):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    SECRETARY = "secretary"
    CLINICIAN = "clinician"
    COMMITTEE = "committee"
    PARTNER = "partner"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: "Administrateur",
    Role.COORDINATOR: "Médecin coordonnateur",
    Role.SECRETARY: "Secrétariat",
    Role.CLINICIAN: "Praticien",
    Role.COMMITTEE: "Comité de pilotage",
    Role.PARTNER: "Partenaire",
}


class User(Base):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'coordinator', 'secretary', 'clinician', 'committee', 'partner')",
            name="role_known",
        ),
    )

    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(160), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    clinician_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("clinician.id", ondelete="SET NULL"), nullable=True, unique=True
    )
    organisation: Mapped[str] = mapped_column(String(160), default="")
    """For partners: the pharmacy, practice, town hall or body they refer from."""
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    """Consecutive failed logins; the fifth locks the account for a quarter of an hour."""
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)

    clinician: Mapped[Clinician | None] = relationship(lazy="joined")

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[Role(self.role)]

    def has_role(self, *roles: Role | str) -> bool:
        return self.role in {str(r) for r in roles}


class ApiToken(Base):
    """A personal token for ``Authorization: Bearer …``; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)

    user: Mapped[User] = relationship(lazy="joined")
