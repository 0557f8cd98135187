"""Calendar feeds (iCal subscriptions), addressed by secret tokens stored only as digests."""

from __future__ import annotations

import datetime as dt
import uuid

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base

FEED_KINDS = ("clinician", "site", "rota")


class CalendarFeed(Base):
    __tablename__ = "calendar_feed"
    __table_args__ = (
        CheckConstraint("kind IN ('clinician', 'site', 'rota')", name="kind_known"),
        CheckConstraint(
            "(kind = 'clinician' AND clinician_id IS NOT NULL) OR (kind = 'site' AND site_id IS NOT NULL)"
            " OR kind = 'rota'",
            name="target_given",
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    clinician_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("clinician.id", ondelete="CASCADE"), nullable=True
    )
    site_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("site.id", ondelete="CASCADE"), nullable=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
    last_fetched_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), nullable=True)
