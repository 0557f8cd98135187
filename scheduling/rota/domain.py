"""The rota's vocabulary: plain frozen dataclasses, no storage, no web, no solver.

The app turns its database rows into a :class:`Problem` and the :class:`Solution` back into rows.
Names are shown to users as given (``Dr Martin``); ids are the app's own keys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import holidays as holidays_lib

from scheduling.rota.halfdays import half_day_key

Role = Literal["retired_gp", "intern", "coordinator", "nurse"]
ROLES: tuple[str, ...] = ("retired_gp", "intern", "coordinator", "nurse")
Level = Literal["available", "preferred"]
LEVELS: tuple[str, ...] = ("available", "preferred")
Status = Literal["OPTIMAL", "FEASIBLE", "INFEASIBLE", "UNKNOWN"]

FRENCH_ROLES: dict[str, str] = {
    "retired_gp": "médecin retraité",
    "intern": "interne",
    "coordinator": "médecin coordonnateur",
    "nurse": "infirmier·e",
}


@dataclass(frozen=True, slots=True)
class Point:
    lat: float
    lon: float


@dataclass(frozen=True)
class Site:
    """An antenne: where sessions happen."""

    id: str
    name: str
    lat: float
    lon: float
    rooms: int
    open: frozenset[str] = frozenset()
    """Weekly half-day keys (``"mon-am"``) when the site opens."""
    target: Mapping[str, int] = field(default_factory=dict)
    """Wanted sessions per open weekly half-day; a key absent means 0."""

    def target_for(self, key: str) -> int:
        return self.target.get(key, 0) if key in self.open else 0


@dataclass(frozen=True)
class Clinician:
    id: str
    name: str
    role: Role
    supervisor: bool = False
    """A senior flagged to supervise interns (the coordinator always can)."""
    sites: tuple[str, ...] = ()
    """Site ids where this clinician may consult."""
    max_per_week: int = 0
    target_per_week: int = 0
    home: Point | None = None
    preferred_sites: tuple[str, ...] = ()
    """Sites the clinician prefers among ``sites`` (empty: no preference)."""

    @property
    def can_supervise(self) -> bool:
        """Coordinator, or a non-intern flagged supervisor. An intern never supervises."""
        return self.role == "coordinator" or (self.supervisor and self.role != "intern")

    @property
    def needs_supervisor(self) -> bool:
        return self.role == "intern"


@dataclass(frozen=True, slots=True)
class Availability:
    clinician: str
    date: dt.date
    period: str
    level: Level = "available"
    site: str | None = None
    """When set, the clinician offers this half-day at that site only (a one-off at a named site)."""


@dataclass(frozen=True, slots=True, order=True)
class SessionKey:
    """One clinician at one site for one half-day: a session (plage)."""

    clinician: str
    site: str
    date: dt.date
    period: str

    @property
    def half_day(self) -> tuple[dt.date, str]:
        return self.date, self.period

    @property
    def key(self) -> str:
        """The weekly half-day key, ``"tue-am"``."""
        return half_day_key(self.date, self.period)


Assignment = SessionKey
"""A session of the solved rota (same shape as a pinned or a previous session)."""


def french_public_holidays(start: dt.date, end: dt.date) -> frozenset[dt.date]:
    """French public holidays (metropolitan) falling between ``start`` and ``end`` inclusive."""
    years = range(start.year, end.year + 1)
    return frozenset(d for d in holidays_lib.France(years=years) if start <= d <= end)


@dataclass(frozen=True)
class Problem:
    start: dt.date
    end: dt.date
    sites: tuple[Site, ...]
    clinicians: tuple[Clinician, ...]
    availability: tuple[Availability, ...] = ()
    pinned: tuple[SessionKey, ...] = ()
    previous: tuple[SessionKey, ...] = ()
    """The published rota to stay close to when re-solving (empty for a first solve)."""
    holidays: frozenset[dt.date] | None = None
    """Dates when every site is closed; ``None`` means the French public holidays."""
    time_limit_s: float | None = None

    def __post_init__(self) -> None:
        if self.holidays is None:
            object.__setattr__(self, "holidays", french_public_holidays(self.start, self.end))

    @property
    def closed_dates(self) -> frozenset[dt.date]:
        return self.holidays or frozenset()

    @cached_property
    def site_by_id(self) -> dict[str, Site]:
        return {s.id: s for s in self.sites}

    @cached_property
    def clinician_by_id(self) -> dict[str, Clinician]:
        return {c.id: c for c in self.clinicians}


@dataclass(frozen=True, slots=True)
class Unmet:
    """A target session left empty, with the reasons in French."""

    site: str
    date: dt.date
    period: str
    missing: int
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Penalty:
    """What one soft rule cost, and where (``detail`` is French, for the coordinator)."""

    rule: str
    cost: int
    detail: str


@dataclass(frozen=True, slots=True)
class Violation:
    """A broken hard rule found by :mod:`scheduling.rota.validation`."""

    rule: str
    message: str
    session: SessionKey | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    """What the page shows while a solve runs."""

    objective: float | None
    bound: float | None
    gap: float | None
    """Relative gap ``|objective - bound| / max(1, |objective|)``; ``None`` before a first solution."""
    wall_s: float
    solutions: int


@dataclass(frozen=True, slots=True)
class Candidate:
    """Someone who could take a session, with French notes on why (higher score is better)."""

    clinician: str
    score: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Solution:
    status: Status
    objective: int = 0
    bound: int = 0
    wall_s: float = 0.0
    assignments: tuple[Assignment, ...] = ()
    unmet: tuple[Unmet, ...] = ()
    penalties: tuple[Penalty, ...] = ()
    conflicts: tuple[str, ...] = ()
    """Filled when INFEASIBLE: the smallest set of conflicting inputs, in French."""
    solutions: int = 0
    """How many improving solutions the search found."""
    first_solution_s: float | None = None
    """Wall time when the first feasible solution was found."""
    stopped: bool = False
    """True when ``should_stop`` cancelled the search."""

    @property
    def has_rota(self) -> bool:
        return self.status in ("OPTIMAL", "FEASIBLE")
