"""The outbox: every message to a patient, queued, then sent (or failed, with the reason).

Secretaries read it to see what each patient was told. A message says where and when an
appointment is, never why: see :mod:`app.notifications.messages`.
"""

from __future__ import annotations

import datetime as dt
import uuid

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base

CHANNELS = ("email", "sms")
KINDS = ("reminder", "cancellation", "move", "confirmation")
STATUSES = ("queued", "sent", "failed", "withdrawn")
"""``withdrawn``: a queued reminder whose appointment was cancelled, moved or is past — never sent."""
MAX_ATTEMPTS = 3


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class OutboxMessage(Base):
    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint(_in("channel", CHANNELS), name="channel_known"),
        CheckConstraint(_in("kind", KINDS), name="kind_known"),
        CheckConstraint(_in("status", STATUSES), name="status_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("channel = 'email' OR subject = ''", name="sms_has_no_subject"),
        CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name="sent_has_sent_at"),
    )

    channel: Mapped[str] = mapped_column(String(5))
    kind: Mapped[str] = mapped_column(String(12))
    recipient: Mapped[str] = mapped_column(String(255))
    """An email address, or a mobile number in E.164 (``+33612345678``)."""
    subject: Mapped[str] = mapped_column(String(255), default="")
    body: Mapped[str] = mapped_column(Text)
    booking_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("booking.id", ondelete="SET NULL"), nullable=True, index=True
    )
    appointment_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    """Start of the appointment the message is about (a reminder past it is withdrawn, not sent)."""
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    """Makes queuing idempotent: ``reminder:<booking>:<channel>:<slot start>`` can exist once."""
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(String(500), default="")
    """Why the last attempt failed (French, shown to the secretaries); empty once sent."""
    provider_ref: Mapped[str] = mapped_column(String(100), default="")
    """What the carrier answered: the SMS provider's message id (``outbox`` for the recording provider),
    or the email's ``Message-ID``."""
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
