"""The home page: what each role needs first when it logs in. Figures come from live queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template
from sqlalchemy import func, select

from app.accounts.models import Role, User
from app.clinicians.models import Clinician, ClinicianRole
from app.core.dates import PARIS
from app.cpts.census import departures_soon
from app.cpts.departures import describe_departure
from app.patients.models import Patient, PatientStatus
from app.rota.models import Booking
from app.sites.models import Site
from app.web.auth import login_required
from app.web.forms import DbSession
from app.web.territory import commune_name

ENROLLED = (PatientStatus.ASSIGNED.value, PatientStatus.DECLARED.value)
TARGET_PATIENTS = 10_000
SMALL_COUNT = 5


def suppress_small(n: int) -> str:
    """Committee figures: counts below 5 are shown as « < 5 » so nobody can be singled out."""
    return "< 5" if 0 < n < SMALL_COUNT else f"{n:,}".replace(",", "\u202f")


def _patient_counts(db_session: DbSession) -> dict[str, int]:
    rows = db_session.execute(select(Patient.status, func.count()).group_by(Patient.status)).all()
    return {status: count for status, count in rows}


def _priority_counts(db_session: DbSession, today: dt.date) -> dict[str, int]:
    waiting = Patient.status.in_(
        [PatientStatus.WAITING.value, PatientStatus.REQUESTED.value, PatientStatus.ELIGIBLE.value]
    )
    under16 = dt.date(today.year - 16, today.month, min(today.day, 28))
    over70 = dt.date(today.year - 70, today.month, min(today.day, 28))
    q = select(
        func.count().filter(Patient.birth_date > under16),
        func.count().filter(Patient.ald.is_(True)),
        func.count().filter(Patient.birth_date <= over70),
        func.count().filter(Patient.c2s.is_(True)),
        func.count(),
    ).where(waiting)
    under, ald, old, c2s, total = db_session.execute(q).one()
    return {"under16": under, "ald": ald, "over70": old, "c2s": c2s, "total": total}


class HomeController(Controller):
    include_in_schema = False
    guards = [login_required]

    @get("/", sync_to_thread=True, name="home")
    def home(self, request: Request[User, Any, Any], db_session: DbSession) -> Template:
        user = request.user
        today = dt.datetime.now(PARIS).date()
        context: dict[str, Any] = {"today": today}
        if user.role in {Role.ADMIN, Role.COORDINATOR, Role.SECRETARY}:
            counts = _patient_counts(db_session)
            sites = db_session.scalars(select(Site).where(Site.active.is_(True)).order_by(Site.name)).all()
            key_am = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[today.weekday()]
            context.update(
                counts=counts,
                enrolled=sum(counts.get(s, 0) for s in ENROLLED),
                waiting=counts.get(PatientStatus.WAITING, 0) + counts.get(PatientStatus.REQUESTED, 0),
                sites=sites,
                open_today=[
                    s for s in sites if f"{key_am}-am" in s.opening_halfdays or f"{key_am}-pm" in s.opening_halfdays
                ],
                today_key=key_am,
                clinicians_by_role={
                    role: count
                    for role, count in db_session.execute(
                        select(Clinician.role, func.count())
                        .where(Clinician.active_to.is_(None) | (Clinician.active_to >= today))
                        .group_by(Clinician.role)
                    )
                },
                panel_capacity=db_session.scalar(
                    select(func.coalesce(func.sum(Clinician.panel_cap), 0)).where(
                        Clinician.active_to.is_(None) | (Clinician.active_to >= today)
                    )
                ),
                target=TARGET_PATIENTS,
                to_rebook=db_session.scalar(
                    select(func.count()).select_from(Booking).where(Booking.status == "to_rebook")
                ),
            )
            if user.role == Role.COORDINATOR:
                context.update(
                    leaving=departures_soon(db_session, today),
                    describe_departure=describe_departure,
                    commune_name=commune_name,
                )
        elif user.role == Role.CLINICIAN and user.clinician_id is not None:
            me = db_session.get(Clinician, user.clinician_id)
            panel = db_session.scalar(
                select(func.count()).where(
                    Patient.referring_clinician_id == user.clinician_id, Patient.status.in_(ENROLLED)
                )
            )
            context.update(me=me, panel=panel)
        elif user.role == Role.COMMITTEE:
            counts = _patient_counts(db_session)
            enrolled = sum(counts.get(s, 0) for s in ENROLLED)
            waiting = counts.get(PatientStatus.WAITING, 0) + counts.get(PatientStatus.REQUESTED, 0)
            priority = _priority_counts(db_session, today)
            context.update(
                target=TARGET_PATIENTS,
                enrolled=suppress_small(enrolled),
                enrolled_pct=round(100 * enrolled / TARGET_PATIENTS, 1),
                waiting=suppress_small(waiting),
                priority={k: suppress_small(v) for k, v in priority.items()},
                clinicians=suppress_small(
                    db_session.scalar(select(func.count()).select_from(Clinician).where(Clinician.active_to.is_(None)))
                    or 0
                ),
                sites=db_session.scalar(select(func.count()).select_from(Site).where(Site.active.is_(True))),
            )
        return Template(f"home/{user.role}.html", context=context)


__all__ = ["ClinicianRole", "HomeController", "suppress_small"]
