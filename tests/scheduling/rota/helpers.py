"""Tiny problems for rule tests: one week of January 2027 around Laval."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from scheduling.rota.domain import Availability, Clinician, Point, Problem, SessionKey, Site
from scheduling.rota.solver import solve

MONDAY = dt.date(2027, 1, 4)
TUESDAY = dt.date(2027, 1, 5)
WEDNESDAY = dt.date(2027, 1, 6)
NEXT_MONDAY = dt.date(2027, 1, 11)
LAVAL = (48.0610, -0.7658)
MAYENNE = (48.3073, -0.6147)
TIME_LIMIT_S = 5.0


def site(
    ident: str = "laval",
    *,
    name: str | None = None,
    where: tuple[float, float] = LAVAL,
    rooms: int = 4,
    target: dict[str, int] | None = None,
    open_: Iterable[str] | None = None,
) -> Site:
    target = {"tue-am": 1} if target is None else target
    return Site(
        id=ident,
        name=name or ident.capitalize(),
        lat=where[0],
        lon=where[1],
        rooms=rooms,
        open=frozenset(open_ if open_ is not None else target),
        target=target,
    )


def clinician(
    ident: str,
    *,
    role: str = "retired_gp",
    supervisor: bool = False,
    sites: Iterable[str] = ("laval",),
    max_per_week: int = 4,
    target_per_week: int = 0,
    home: tuple[float, float] | None = None,
) -> Clinician:
    return Clinician(
        id=ident,
        name=f"Dr {ident.capitalize()}",
        role=role,  # type: ignore[arg-type]
        supervisor=supervisor,
        sites=tuple(sites),
        max_per_week=max_per_week,
        target_per_week=target_per_week,
        home=Point(*home) if home else None,
    )


def available(clinician_id: str, date: dt.date, period: str, level: str = "available") -> Availability:
    return Availability(clinician_id, date, period, level)  # type: ignore[arg-type]


def session(clinician_id: str, site_id: str, date: dt.date = TUESDAY, period: str = "am") -> SessionKey:
    return SessionKey(clinician_id, site_id, date, period)


def problem(
    sites: Iterable[Site],
    clinicians: Iterable[Clinician],
    availability: Iterable[Availability],
    *,
    pinned: Iterable[SessionKey] = (),
    previous: Iterable[SessionKey] = (),
    start: dt.date = MONDAY,
    end: dt.date | None = None,
    holidays: Iterable[dt.date] = (),
) -> Problem:
    return Problem(
        start=start,
        end=end or start + dt.timedelta(days=6),
        sites=tuple(sites),
        clinicians=tuple(clinicians),
        availability=tuple(availability),
        pinned=tuple(pinned),
        previous=tuple(previous),
        holidays=frozenset(holidays),
    )


def solved(p: Problem):
    return solve(p, time_limit_s=TIME_LIMIT_S)


def rota(p: Problem) -> set[SessionKey]:
    """The sessions of the solved rota (the solve must succeed)."""
    solution = solved(p)
    assert solution.status == "OPTIMAL", solution
    return set(solution.assignments)
