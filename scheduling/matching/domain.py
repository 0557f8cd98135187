"""Plain data for matching patients without a GP to referring doctors.

Nothing here knows about storage, HTTP or the solver: the app builds these from rows, the
solver returns them, the formats module turns them into JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

MAX_PROPOSALS = 10
"""Upper bound on proposals per patient (the CPTS procedure uses 2–3)."""


@dataclass(frozen=True, slots=True)
class Doctor:
    """A clinician who can become a patient's referring doctor ("médecin traitant").

    ``capacity`` is the number of *new* patients the doctor can still take: their panel cap
    minus their current panel (see :meth:`from_panel`). ``None`` means "not limited" (a CPTS
    census GP who accepts new patients without giving a number).

    The perimeter is a radius around the main site (``radius_km``), a set of communes (INSEE
    codes, ``communes``), or both — a patient is within the perimeter when either holds.
    """

    id: str
    lat: float
    lon: float
    capacity: int | None
    radius_km: float | None = None
    home_visits: bool = False
    pmr: bool = False
    accepting: bool = True
    communes: frozenset[str] | None = None

    def __post_init__(self) -> None:
        _check_coordinates(self.lat, self.lon, f"médecin {self.id}")
        if self.capacity is not None and self.capacity < 0:
            raise ValueError(f"médecin {self.id} : capacité négative")
        if self.radius_km is not None and not (self.radius_km > 0 and math.isfinite(self.radius_km)):
            raise ValueError(f"médecin {self.id} : rayon invalide")
        if self.radius_km is None and not self.communes:
            raise ValueError(f"médecin {self.id} : il faut un rayon ou une liste de communes")

    @staticmethod
    def remaining_capacity(panel_cap: int, current_panel: int) -> int:
        """Places left: the panel cap minus the current panel, never below zero."""
        return max(0, panel_cap - current_panel)


@dataclass(frozen=True, slots=True)
class Patient:
    """A patient waiting for a referring doctor.

    ``lat``/``lon`` are the patient's commune (its centroid), ``commune`` its INSEE code when
    known (needed only for doctors whose perimeter is a list of communes). ``age`` may be
    unknown (``None``): then age is not a priority criterion. ``waiting_since`` orders
    patients within a tier (the longest wait first); unknown dates come last.
    """

    id: str
    lat: float
    lon: float
    ald: bool = False
    c2s: bool = False
    age: int | None = None
    fragile: bool = False
    needs_home_visit: bool = False
    needs_pmr: bool = False
    commune: str | None = None
    waiting_since: date | None = None

    def __post_init__(self) -> None:
        _check_coordinates(self.lat, self.lon, f"patient {self.id}")
        if self.age is not None and not 0 <= self.age <= 130:
            raise ValueError(f"patient {self.id} : âge invalide")


def tier(patient: Patient) -> int:
    """Priority tier: 1 = ALD or fragile/dependent; 2 = C2S, aged 60+ or under 16; 3 = others."""
    if patient.ald or patient.fragile:
        return 1
    if patient.c2s or (patient.age is not None and (patient.age >= 60 or patient.age < 16)):
        return 2
    return 3


def priority_weight(tier_: int) -> int:
    """Weight of a tier in the flow objective: 3, 2, 1 (see README, "exactness")."""
    return 4 - tier_


@dataclass(frozen=True, slots=True)
class Problem:
    doctors: tuple[Doctor, ...]
    patients: tuple[Patient, ...]
    proposals: int = 3
    """How many proposals to give each patient (0 to skip them)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "doctors", tuple(self.doctors))
        object.__setattr__(self, "patients", tuple(self.patients))
        if not 0 <= self.proposals <= MAX_PROPOSALS:
            raise ValueError(f"nombre de propositions hors de 0..{MAX_PROPOSALS}")
        _check_unique([d.id for d in self.doctors], "médecin")
        _check_unique([p.id for p in self.patients], "patient")


@dataclass(frozen=True, slots=True)
class Assignment:
    patient: str
    doctor: str
    km: float
    tier: int


@dataclass(frozen=True, slots=True)
class Unassigned:
    patient: str
    reason: str
    """Why, in French, for the coordinator."""
    code: str
    """The same, for programs: out_of_reach, no_home_visits, no_pmr, no_home_visits_pmr, capacity."""
    tier: int


@dataclass(frozen=True, slots=True)
class Proposal:
    """One doctor offered to a patient, with the reasons it fits (French, for the coordinator)."""

    doctor: str
    km: float
    reasons: tuple[str, ...]
    assigned: bool = False
    """True for the doctor the optimal assignment chose."""
    has_capacity: bool = True
    """False when the doctor's list is currently full (offered only as a fallback)."""


@dataclass(frozen=True, slots=True)
class Objective:
    """The lexicographic objective, in its order: tier 1, tiers 1+2, everyone, then distance."""

    tier1: int
    tier12: int
    assigned: int
    total_km: float

    def key(self) -> tuple[int, int, int, float]:
        """Smaller is better."""
        return (-self.tier1, -self.tier12, -self.assigned, self.total_km)


@dataclass(frozen=True, slots=True)
class Solution:
    status: str
    """OPTIMAL when every part of the problem was solved to optimality."""
    wall_s: float
    assignments: tuple[Assignment, ...]
    """In priority order (tier, then longest wait): the order to confirm them one by one."""
    unassigned: tuple[Unassigned, ...]
    proposals: Mapping[str, tuple[Proposal, ...]]
    objective: Objective
    remaining: Mapping[str, int | None]
    """Places left per doctor after the assignment (``None``: not limited)."""
    stats: Mapping[str, float | int] = field(default_factory=dict)


def _check_coordinates(lat: float, lon: float, who: str) -> None:
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise ValueError(f"{who} : coordonnées hors limites")


def _check_unique(ids: list[str], what: str) -> None:
    if len(set(ids)) != len(ids):
        seen: set[str] = set()
        dup = next(i for i in ids if i in seen or seen.add(i))  # type: ignore[func-returns-value]
        raise ValueError(f"identifiant de {what} en double : {dup}")
