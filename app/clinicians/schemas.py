"""API shapes for clinicians."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from app.clinicians.models import Clinician


class ClinicianOut(msgspec.Struct):
    id: uuid.UUID
    role: str
    first_name: str
    last_name: str
    rpps: str
    email: str
    phone: str
    is_supervisor: bool
    home_commune_insee: str
    site_ids: list[uuid.UUID]
    main_site_id: uuid.UUID | None
    max_halfdays_per_week: int
    target_halfdays_per_week: int
    panel_cap: int
    home_visits: bool
    home_visit_radius_km: int
    active_from: dt.date
    active_to: dt.date | None
    semester_start: dt.date | None
    semester_end: dt.date | None
    university_halfdays: list[str]
    supervisor_id: uuid.UUID | None


class ClinicianCreate(msgspec.Struct):
    role: str
    first_name: str
    last_name: str
    rpps: str
    home_commune: str
    """INSEE code or name of the commune where the clinician lives."""
    site_ids: list[uuid.UUID] = msgspec.field(default_factory=list)
    main_site_id: uuid.UUID | None = None
    email: str = ""
    phone: str = ""
    is_supervisor: bool = False
    max_halfdays_per_week: int = 4
    target_halfdays_per_week: int = 3
    panel_cap: int = 0
    home_visits: bool = False
    home_visit_radius_km: int = 0
    active_from: dt.date | None = None
    active_to: dt.date | None = None
    semester_start: dt.date | None = None
    semester_end: dt.date | None = None
    university_halfdays: list[str] = msgspec.field(default_factory=list)
    supervisor_id: uuid.UUID | None = None


class ClinicianUpdate(msgspec.Struct, omit_defaults=True):
    role: str | msgspec.UnsetType = msgspec.UNSET
    first_name: str | msgspec.UnsetType = msgspec.UNSET
    last_name: str | msgspec.UnsetType = msgspec.UNSET
    rpps: str | msgspec.UnsetType = msgspec.UNSET
    home_commune: str | msgspec.UnsetType = msgspec.UNSET
    site_ids: list[uuid.UUID] | msgspec.UnsetType = msgspec.UNSET
    main_site_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    email: str | msgspec.UnsetType = msgspec.UNSET
    phone: str | msgspec.UnsetType = msgspec.UNSET
    is_supervisor: bool | msgspec.UnsetType = msgspec.UNSET
    max_halfdays_per_week: int | msgspec.UnsetType = msgspec.UNSET
    target_halfdays_per_week: int | msgspec.UnsetType = msgspec.UNSET
    panel_cap: int | msgspec.UnsetType = msgspec.UNSET
    home_visits: bool | msgspec.UnsetType = msgspec.UNSET
    home_visit_radius_km: int | msgspec.UnsetType = msgspec.UNSET
    active_from: dt.date | msgspec.UnsetType = msgspec.UNSET
    active_to: dt.date | msgspec.UnsetType | None = msgspec.UNSET
    semester_start: dt.date | msgspec.UnsetType | None = msgspec.UNSET
    semester_end: dt.date | msgspec.UnsetType | None = msgspec.UNSET
    university_halfdays: list[str] | msgspec.UnsetType = msgspec.UNSET
    supervisor_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET


def clinician_out(c: Clinician) -> ClinicianOut:
    return ClinicianOut(
        id=c.id,
        role=c.role,
        first_name=c.first_name,
        last_name=c.last_name,
        rpps=c.rpps,
        email=c.email,
        phone=c.phone,
        is_supervisor=c.is_supervisor,
        home_commune_insee=c.home_commune_insee,
        site_ids=[s.id for s in c.sites],
        main_site_id=c.main_site_id,
        max_halfdays_per_week=c.max_halfdays_per_week,
        target_halfdays_per_week=c.target_halfdays_per_week,
        panel_cap=c.panel_cap,
        home_visits=c.home_visits,
        home_visit_radius_km=c.home_visit_radius_km,
        active_from=c.active_from,
        active_to=c.active_to,
        semester_start=c.semester_start,
        semester_end=c.semester_end,
        university_halfdays=list(c.university_halfdays),
        supervisor_id=c.supervisor_id,
    )
