"""Availability: saving patterns, exceptions and one-off half-days, and computing who can come when."""

from __future__ import annotations

import bisect
import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.availability.models import (
    EXCEPTION_REASONS,
    AvailabilityException,
    AvailabilityExtra,
    AvailabilityPattern,
)
from app.clinicians.models import Clinician, ClinicianRole
from app.core.dates import date_fr
from app.core.errors import FieldErrors
from app.core.halfdays import WORKING_HALFDAYS, halfday_label
from app.core.parsing import Collector
from app.rota.models import RotaSession
from app.rota.times import days, halfday_key, is_public_holiday
from app.sites.models import Site


@dataclass(frozen=True)
class Offer:
    """A clinician can come this half-day: at which level, and restricted to one site or not."""

    level: str
    site_id: uuid.UUID | None = None


HalfDay = tuple[dt.date, str]


class AvailabilityService:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- reading -------------------------------------------------------------------------
    def current_pattern(self, clinician_id: uuid.UUID, on: dt.date) -> AvailabilityPattern | None:
        return self.session.scalar(
            select(AvailabilityPattern)
            .where(AvailabilityPattern.clinician_id == clinician_id, AvailabilityPattern.valid_from <= on)
            .order_by(AvailabilityPattern.valid_from.desc())
            .limit(1)
        )

    def patterns(self, clinician_id: uuid.UUID) -> list[AvailabilityPattern]:
        return list(
            self.session.scalars(
                select(AvailabilityPattern)
                .where(AvailabilityPattern.clinician_id == clinician_id)
                .order_by(AvailabilityPattern.valid_from)
            )
        )

    def exceptions(self, clinician_id: uuid.UUID, since: dt.date | None = None) -> list[AvailabilityException]:
        stmt = select(AvailabilityException).where(AvailabilityException.clinician_id == clinician_id)
        if since:
            stmt = stmt.where(AvailabilityException.end_date >= since)
        return list(self.session.scalars(stmt.order_by(AvailabilityException.start_date)))

    def extras(self, clinician_id: uuid.UUID, since: dt.date | None = None) -> list[AvailabilityExtra]:
        stmt = select(AvailabilityExtra).where(AvailabilityExtra.clinician_id == clinician_id)
        if since:
            stmt = stmt.where(AvailabilityExtra.date >= since)
        return list(self.session.scalars(stmt.order_by(AvailabilityExtra.date, AvailabilityExtra.period)))

    def effective(
        self, clinicians: Iterable[Clinician], start: dt.date, end: dt.date
    ) -> dict[uuid.UUID, dict[HalfDay, Offer]]:
        """Who can come each half-day between ``start`` and ``end``: pattern in force, minus exceptions,
        university half-days, days outside the contract and public holidays, plus one-off half-days."""
        clinicians = list(clinicians)
        ids = [c.id for c in clinicians]
        patterns: dict[uuid.UUID, list[AvailabilityPattern]] = {i: [] for i in ids}
        for p in self.session.scalars(
            select(AvailabilityPattern)
            .where(AvailabilityPattern.clinician_id.in_(ids), AvailabilityPattern.valid_from <= end)
            .order_by(AvailabilityPattern.valid_from)
        ):
            patterns[p.clinician_id].append(p)
        away: dict[uuid.UUID, set[HalfDay]] = {i: set() for i in ids}
        for e in self.session.scalars(
            select(AvailabilityException).where(
                AvailabilityException.clinician_id.in_(ids),
                AvailabilityException.end_date >= start,
                AvailabilityException.start_date <= end,
            )
        ):
            for d in days(max(e.start_date, start), min(e.end_date, end)):
                for period in (e.period,) if e.period else ("am", "pm"):
                    away[e.clinician_id].add((d, period))
        extras: dict[uuid.UUID, dict[HalfDay, AvailabilityExtra]] = {i: {} for i in ids}
        for x in self.session.scalars(
            select(AvailabilityExtra).where(
                AvailabilityExtra.clinician_id.in_(ids), AvailabilityExtra.date >= start, AvailabilityExtra.date <= end
            )
        ):
            extras[x.clinician_id][(x.date, x.period)] = x

        result: dict[uuid.UUID, dict[HalfDay, Offer]] = {}
        all_days = days(start, end)
        for c in clinicians:
            offers: dict[HalfDay, Offer] = {}
            versions = patterns[c.id]
            starts = [v.valid_from for v in versions]
            university = set(c.university_halfdays or []) if c.role == ClinicianRole.INTERN else set()
            for d in all_days:
                if is_public_holiday(d) or not c.is_active_on(d):
                    continue
                in_semester = (
                    c.semester_start is None or c.semester_end is None or (c.semester_start <= d <= c.semester_end)
                )
                if c.role == ClinicianRole.INTERN and not in_semester:
                    continue
                i = bisect.bisect_right(starts, d) - 1
                levels = versions[i].levels if i >= 0 else {}
                for period in ("am", "pm"):
                    if (d, period) in away[c.id]:
                        continue
                    key = halfday_key(d, period)
                    if key in university:
                        continue
                    extra = extras[c.id].get((d, period))
                    if extra is not None:
                        offers[(d, period)] = Offer(extra.level, extra.site_id)
                    elif levels.get(key) in ("preferred", "available"):
                        offers[(d, period)] = Offer(levels[key])
            result[c.id] = offers
        return result

    def published_conflicts(
        self, clinician_id: uuid.UUID, start: dt.date, end: dt.date, period: str | None = None
    ) -> list[RotaSession]:
        """Published sessions of the clinician that an absence over these dates would hit."""
        stmt = select(RotaSession).where(
            RotaSession.clinician_id == clinician_id,
            RotaSession.status == "published",
            RotaSession.date >= start,
            RotaSession.date <= end,
        )
        if period:
            stmt = stmt.where(RotaSession.period == period)
        return list(self.session.scalars(stmt.order_by(RotaSession.date, RotaSession.period)))

    # --- writing -------------------------------------------------------------------------
    def save_pattern(self, clinician: Clinician, data: Mapping[str, Any], today: dt.date) -> AvailabilityPattern:
        """A new version of the weekly pattern from ``valid_from`` on (never before today)."""
        c = Collector(data)
        valid_from = c.date("valid_from", required=True, label="La date d'effet")
        if valid_from is not None and valid_from < today:
            c.errors["valid_from"] = "La date d'effet ne peut pas être dans le passé : l'historique est conservé."
        levels: dict[str, str] = {}
        for key in WORKING_HALFDAYS:
            value = str(data.get(f"level_{key}", "unavailable") or "unavailable")
            if value not in ("preferred", "available", "unavailable"):
                c.errors[f"level_{key}"] = f"Niveau inconnu pour le {halfday_label(key)}."
            elif value != "unavailable":
                levels[key] = value
        allowed = {str(s.id) for s in clinician.sites}
        preferred_sites = c.strings("preferred_site_ids")
        if any(s not in allowed for s in preferred_sites):
            c.errors["preferred_site_ids"] = "Une antenne préférée doit faire partie de vos antennes."
        if c.errors:
            raise FieldErrors(c.errors)
        assert valid_from is not None
        existing = self.session.scalar(
            select(AvailabilityPattern).where(
                AvailabilityPattern.clinician_id == clinician.id, AvailabilityPattern.valid_from == valid_from
            )
        )
        if existing is None:
            existing = AvailabilityPattern(clinician_id=clinician.id, valid_from=valid_from)
            self.session.add(existing)
        existing.levels = levels
        existing.preferred_site_ids = preferred_sites
        self.session.commit()
        return existing

    def add_exception(
        self, clinician: Clinician, data: Mapping[str, Any], today: dt.date, *, commit: bool = True
    ) -> AvailabilityException:
        c = Collector(data)
        start = c.date("start_date", required=True, label="La date de début")
        end = c.date("end_date", label="La date de fin") or start
        reason = c.text("reason") or "leave"
        period = c.text("period") or None
        if reason not in EXCEPTION_REASONS:
            c.errors["reason"] = "Motif inconnu."
        if period not in (None, "am", "pm"):
            c.errors["period"] = "Demi-journée inconnue."
        if start and end and end < start:
            c.errors["end_date"] = "La date de fin doit suivre la date de début."
        if start and start < today - dt.timedelta(days=31):
            c.errors["start_date"] = "Une absence ne peut pas commencer plus d'un mois dans le passé."
        if start and end and (end - start).days > 366:
            c.errors["end_date"] = "Une absence ne peut pas dépasser un an ; saisissez plutôt une date de sortie."
        note = c.text("note", max_len=255, label="La note")
        if c.errors:
            raise FieldErrors(c.errors)
        assert start is not None and end is not None
        exception = AvailabilityException(
            clinician_id=clinician.id, start_date=start, end_date=end, reason=reason, note=note, period=period
        )
        self.session.add(exception)
        if commit:
            self.session.commit()
        return exception

    def add_extra(self, clinician: Clinician, data: Mapping[str, Any], today: dt.date) -> AvailabilityExtra:
        c = Collector(data)
        day = c.date("date", required=True, label="La date")
        period = c.text("period", required=True, label="La demi-journée")
        site_id = c.uuid("site_id", label="L'antenne")
        level = c.text("level") or "available"
        if period and period not in ("am", "pm"):
            c.errors["period"] = "Demi-journée inconnue."
        if level not in ("available", "preferred"):
            c.errors["level"] = "Niveau inconnu."
        site = self.session.get(Site, site_id) if site_id else None
        if site is None and "site_id" not in c.errors:
            c.errors["site_id"] = "Choisissez l'antenne."
        elif site is not None and site.id not in {s.id for s in clinician.sites}:
            c.errors["site_id"] = "Cette antenne ne fait pas partie de vos antennes."
        if day is not None and "date" not in c.errors:
            if day < today:
                c.errors["date"] = "La date est passée."
            elif is_public_holiday(day):
                c.errors["date"] = f"Le {date_fr(day)} est un jour férié : les antennes sont fermées."
            elif site is not None and period in ("am", "pm") and halfday_key(day, period) not in site.opening_halfdays:
                c.errors["date"] = f"L'antenne {site.name} n'ouvre pas le {halfday_label(halfday_key(day, period))}."
        if c.errors:
            raise FieldErrors(c.errors)
        assert day is not None and site is not None
        self.session.execute(
            delete(AvailabilityExtra).where(
                AvailabilityExtra.clinician_id == clinician.id,
                AvailabilityExtra.date == day,
                AvailabilityExtra.period == period,
            )
        )
        extra = AvailabilityExtra(clinician_id=clinician.id, date=day, period=period, site_id=site.id, level=level)
        self.session.add(extra)
        self.session.commit()
        return extra

    def delete_exception(self, clinician: Clinician, exception_id: uuid.UUID) -> bool:
        found = self.session.get(AvailabilityException, exception_id)
        if found is None or found.clinician_id != clinician.id:
            return False
        self.session.delete(found)
        self.session.commit()
        return True

    def delete_extra(self, clinician: Clinician, extra_id: uuid.UUID) -> bool:
        found = self.session.get(AvailabilityExtra, extra_id)
        if found is None or found.clinician_id != clinician.id:
            return False
        self.session.delete(found)
        self.session.commit()
        return True
