"""Sites (antennes): where consultations happen."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class Site(Base):
    __tablename__ = "site"
    __table_args__ = (
        CheckConstraint("rooms >= 0", name="rooms_not_negative"),
        CheckConstraint("slot_minutes BETWEEN 5 AND 120", name="slot_minutes_range"),
    )

    name: Mapped[str] = mapped_column(String(120), unique=True)
    commune_insee: Mapped[str] = mapped_column(String(5), index=True)
    address: Mapped[str] = mapped_column(String(255), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    rooms: Mapped[int] = mapped_column(Integer, default=1)
    opening_halfdays: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Keys such as ``mon-am``, ``sat-am``: the half-days the site opens."""
    pmr_access: Mapped[bool] = mapped_column(Boolean, default=False)
    """Wheelchair access (personnes à mobilité réduite)."""
    slot_minutes: Mapped[int] = mapped_column(Integer, default=20)
    phone: Mapped[str] = mapped_column(String(30), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_targets: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    """Wanted sessions per opening half-day (``{"mon-am": 3}``); absent means as many as rooms."""

    def target_for(self, key: str) -> int:
        if key not in self.opening_halfdays:
            return 0
        return min(self.rooms, self.session_targets.get(key, self.rooms))
