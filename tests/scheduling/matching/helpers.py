"""Small builders and an exhaustive reference solver for the matching tests."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

from scheduling.matching import Doctor, Patient, Problem, Solution, tier
from sites.geo import haversine_km

LAVAL = (48.06104, -0.76582)


def north_of(origin: tuple[float, float], km: float) -> tuple[float, float]:
    """A point ``km`` due north of ``origin`` (1° of latitude ≈ 111.195 km on this sphere)."""
    return origin[0] + km / 111.19508, origin[1]


def doctor(
    did: str,
    at: tuple[float, float] = LAVAL,
    capacity: int | None = 10,
    radius_km: float | None = 30,
    **kw: object,
) -> Doctor:
    return Doctor(id=did, lat=at[0], lon=at[1], capacity=capacity, radius_km=radius_km, **kw)  # type: ignore[arg-type]


def patient(pid: str, at: tuple[float, float] = LAVAL, age: int | None = 40, **kw: object) -> Patient:
    return Patient(id=pid, lat=at[0], lon=at[1], age=age, **kw)  # type: ignore[arg-type]


def eligible(p: Patient, d: Doctor) -> bool:
    km = haversine_km(p.lat, p.lon, d.lat, d.lon)
    in_perimeter = (d.radius_km is not None and km <= d.radius_km) or (
        bool(d.communes) and p.commune is not None and p.commune in d.communes
    )
    return d.accepting and in_perimeter and (d.home_visits or not p.needs_home_visit) and (d.pmr or not p.needs_pmr)


def metres(p: Patient, d: Doctor) -> int:
    return round(haversine_km(p.lat, p.lon, d.lat, d.lon) * 1000)


def brute_force_key(problem: Problem) -> tuple[int, int, int, int]:
    """The best (−tier1, −tier12, −assigned, metres) over every assignment, by enumeration."""
    pats, docs = problem.patients, problem.doctors
    options = [[j for j, d in enumerate(docs) if eligible(p, d)] for p in pats]
    tiers = [tier(p) for p in pats]
    load = [0] * len(docs)
    best = (0, 0, 0, 0)

    def walk(i: int, n1: int, n12: int, n: int, m: int) -> None:
        nonlocal best
        if i == len(pats):
            best = min(best, (-n1, -n12, -n, m))
            return
        walk(i + 1, n1, n12, n, m)
        for j in options[i]:
            cap = docs[j].capacity
            if cap is None or load[j] < cap:
                load[j] += 1
                walk(i + 1, n1 + (tiers[i] == 1), n12 + (tiers[i] <= 2), n + 1, m + metres(pats[i], docs[j]))
                load[j] -= 1

    walk(0, 0, 0, 0, 0)
    return best


def solution_key(problem: Problem, solution: Solution) -> tuple[int, int, int, int]:
    pats = {p.id: p for p in problem.patients}
    docs = {d.id: d for d in problem.doctors}
    o = solution.objective
    m = sum(metres(pats[a.patient], docs[a.doctor]) for a in solution.assignments)
    return (-o.tier1, -o.tier12, -o.assigned, m)


def loads(solution: Solution) -> Counter[str]:
    return Counter(a.doctor for a in solution.assignments)


def random_problem(
    rng: random.Random, max_patients: int = 8, max_doctors: int = 3, max_capacity: int = 3, proposals: int = 3
) -> Problem:
    """A small random problem around Laval: shared places, needs, communes, waits."""
    places = [
        (LAVAL[0] + rng.uniform(-0.15, 0.15), LAVAL[1] + rng.uniform(-0.2, 0.2), f"53{k:03d}")
        for k in range(rng.randint(1, 5))
    ]
    doctors = []
    for j in range(rng.randint(1, max_doctors)):
        by_commune = rng.random() < 0.2
        doctors.append(
            Doctor(
                id=f"d{j}",
                lat=LAVAL[0] + rng.uniform(-0.2, 0.2),
                lon=LAVAL[1] + rng.uniform(-0.3, 0.3),
                capacity=rng.randint(0, max_capacity) if rng.random() < 0.9 else None,
                radius_km=None if by_commune and rng.random() < 0.5 else rng.uniform(8, 30),
                home_visits=rng.random() < 0.5,
                pmr=rng.random() < 0.6,
                accepting=rng.random() < 0.95,
                communes=frozenset(rng.sample([c for *_, c in places], k=min(2, len(places)))) if by_commune else None,
            )
        )
    patients = []
    for i in range(rng.randint(min(2, max_patients), max_patients)):
        lat, lon, insee = rng.choice(places)
        patients.append(
            Patient(
                id=f"p{i}",
                lat=lat,
                lon=lon,
                ald=rng.random() < 0.2,
                c2s=rng.random() < 0.2,
                age=rng.choice([None, 5, 30, 45, 65, 80]),
                fragile=rng.random() < 0.1,
                needs_home_visit=rng.random() < 0.12,
                needs_pmr=rng.random() < 0.12,
                commune=insee,
                waiting_since=rng.choice([None, date(2025, 1, 1), date(2025, 6, 1), date(2026, 1, 1)]),
            )
        )
    return Problem(doctors=tuple(doctors), patients=tuple(patients), proposals=proposals)
