"""The audit log: who read or changed which patient record, and when. Rows are never edited."""

from __future__ import annotations

import datetime as dt
import uuid

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class AuditEntry(Base):
    __tablename__ = "audit_log"

    occurred_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    """Username, or ``system:<command>`` for scripts."""
    action: Mapped[str] = mapped_column(String(20))
    """read, create, update, delete, bulk_create…"""
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(40), index=True)
    detail: Mapped[str] = mapped_column(String(255), default="")
    """Never a patient's identity: field names changed, counts, the page used."""
