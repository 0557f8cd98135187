"""Benchmark: realistic instances from real communes, CP-SAT against greedy first-fit.

Instances are deterministic from a seed:

- ``demo``: 15 clinicians (12 retired GPs, 2 SASPAS interns, 1 coordinator), 5 Mayenne sites
  (Laval, Château-Gontier-sur-Mayenne, Mayenne, Évron, Ernée), 4 weeks;
- ``departement``: 100 clinicians, 20 sites (the 5 most populous communes of each of Mayenne,
  Sarthe, Maine-et-Loire and Ille-et-Vilaine), 13 weeks (Easter Monday inside).

Homes are real communes drawn with probability proportional to population. Retired GPs declare
2–5 half-days a week, irregularly, around a few usual half-days (some preferred) and take the odd
week off; interns are available on weekdays except their university half-days; coordinators
keep a few administrative half-days.

Coverage is measured against three valid upper bounds on coverable target sessions, loosest
first (see :mod:`scheduling.rota.relaxation`): the max flow (source → clinician-week, capacity
the weekly maximum → clinician-half-day, capacity 1 → site-half-day, capacity min(target, rooms)
→ sink), which ignores supervision; the LP relaxation with supervision (GLOP); and the exact
coverage MIP with supervision solved by SCIP (its dual bound), independently of CP-SAT. None of
them uses the pins, so they stay valid bounds.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from collections.abc import Sequence
from typing import Any

from scheduling.rota import validation
from scheduling.rota.domain import Availability, Clinician, Point, Problem, SessionKey, Site
from scheduling.rota.greedy import solve_greedy
from scheduling.rota.halfdays import HALF_DAY_KEYS, iso_week
from scheduling.rota.index import ProblemIndex
from scheduling.rota.relaxation import coverage_lp_bound, coverage_upper_bound
from scheduling.rota.solver import solve
from sites.communes import Commune, load_communes
from sites.geo import haversine_km

DEMO_SITES = ("Laval", "Château-Gontier-sur-Mayenne", "Mayenne", "Évron", "Ernée")
DEPARTEMENT_DEPARTEMENTS = ("53", "72", "49", "35")
START = dt.date(2027, 1, 4)
WEEKDAY_KEYS = tuple(k for k in HALF_DAY_KEYS if k[:3] in ("mon", "tue", "wed", "thu", "fri"))
SURNAMES = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
    "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
    "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller", "Lefèvre", "Faure", "André",
    "Mercier", "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Garcia",
)  # fmt: skip


# --- instances -------------------------------------------------------------------------------


def make_instance(size: str = "demo", seed: int = 0) -> Problem:
    """A realistic problem, the same for the same size and seed."""
    if size == "demo":
        communes = load_communes(["53"])
        by_name = {c.name: c for c in communes}
        towns = [by_name[name] for name in DEMO_SITES]
        return _instance(seed, towns, communes, weeks=4, gps=12, interns=2, coordinators=1, supervisors=4, radius_km=45)
    if size == "departement":
        communes = load_communes(list(DEPARTEMENT_DEPARTEMENTS))
        towns = []
        for dep in DEPARTEMENT_DEPARTEMENTS:
            towns += sorted((c for c in communes if c.departement == dep), key=lambda c: -c.population)[:5]
        return _instance(
            seed, towns, communes, weeks=13, gps=84, interns=12, coordinators=4, supervisors=20, radius_km=40
        )
    raise ValueError(f"unknown size {size!r} (expected 'demo' or 'departement')")


def _site_id(commune: Commune) -> str:
    return f"site-{commune.insee}"


def _instance(
    seed: int,
    towns: Sequence[Commune],
    communes: Sequence[Commune],
    *,
    weeks: int,
    gps: int,
    interns: int,
    coordinators: int,
    supervisors: int,
    radius_km: float,
) -> Problem:
    rng = random.Random(seed)
    start, end = START, START + dt.timedelta(weeks=weeks) - dt.timedelta(days=1)
    # The main site of each département is its most populous town; a coordinator lives there.
    main_towns: dict[str, Commune] = {}
    for town in towns:
        if town.departement not in main_towns or town.population > main_towns[town.departement].population:
            main_towns[town.departement] = town
    hubs = {c.insee for c in main_towns.values()}
    coordinator_towns = list(main_towns.values())

    sites = []
    for town in towns:
        if town.insee in hubs:  # main site: every weekday + Saturday morning
            opening = [*WEEKDAY_KEYS, "sat-am"]
            target = {k: (3 if k.endswith("am") else 2) for k in WEEKDAY_KEYS} | {"sat-am": 1}
            rooms = 4
        else:
            opening = sorted(rng.sample(WEEKDAY_KEYS, rng.randint(4, 7)), key=HALF_DAY_KEYS.index)
            big = town.population > 10_000
            target = {k: rng.choice((1, 2)) if big else 1 for k in opening}
            rooms = 3 if big else 2
        sites.append(Site(_site_id(town), town.name, town.lat, town.lon, rooms, frozenset(opening), target))

    weights = [c.population for c in communes]
    clinicians: list[Clinician] = []
    availability: list[Availability] = []
    week_starts = [start + dt.timedelta(weeks=w) for w in range(weeks)]
    roles = ["coordinator"] * coordinators + ["intern"] * interns + ["retired_gp"] * gps
    names = rng.sample([f"{a}-{b}" for a in SURNAMES for b in SURNAMES if a != b], len(roles))
    supervisor_gps = set(rng.sample(range(gps), supervisors))
    for number, role in enumerate(roles):
        home_town = (
            coordinator_towns[number % len(coordinator_towns)]
            if role == "coordinator"
            else rng.choices(communes, weights=weights)[0]
        )
        home = Point(home_town.lat + rng.uniform(-0.01, 0.01), home_town.lon + rng.uniform(-0.01, 0.01))
        by_distance = sorted(sites, key=lambda s: haversine_km(home.lat, home.lon, s.lat, s.lon))
        near = [s.id for s in by_distance if haversine_km(home.lat, home.lon, s.lat, s.lon) <= radius_km]
        allowed = near if len(near) >= 2 else [s.id for s in by_distance[:2]]
        cid = f"{role[:3]}{number + 1:03d}"
        title = "Dr "
        if role == "retired_gp":
            max_per_week = rng.choice((3, 4, 4, 5))
            weekly_target = max_per_week - rng.choice((0, 1, 1))
            clinicians.append(
                Clinician(
                    cid,
                    title + names[number],
                    "retired_gp",
                    (number - coordinators - interns) in supervisor_gps,
                    tuple(allowed),
                    max_per_week,
                    weekly_target,
                    home,
                )
            )
            availability += _retired_gp_availability(rng, cid, week_starts, end)
        elif role == "intern":
            allowed = allowed[:3]
            clinicians.append(Clinician(cid, title + names[number], "intern", False, tuple(allowed), 7, 6, home))
            availability += _intern_availability(rng, cid, week_starts, end)
        else:
            clinicians.append(
                Clinician(cid, title + names[number], "coordinator", True, tuple(allowed[:4]), 6, 5, home)
            )
            availability += _coordinator_availability(rng, cid, week_starts, end)
    return Problem(
        start=start,
        end=end,
        sites=tuple(sites),
        clinicians=tuple(clinicians),
        availability=tuple(availability),
    )


def _on(monday: dt.date, key: str) -> tuple[dt.date, str]:
    day, period = key.split("-")
    return monday + dt.timedelta(days=("mon", "tue", "wed", "thu", "fri", "sat", "sun").index(day)), period


def _retired_gp_availability(
    rng: random.Random, cid: str, week_starts: list[dt.date], end: dt.date
) -> list[Availability]:
    usual = rng.sample(WEEKDAY_KEYS, rng.randint(3, 5))
    found = []
    for monday in week_starts:
        if rng.random() < 0.08:  # a week off
            continue
        count = rng.randint(2, 5)
        pool = [*WEEKDAY_KEYS, "sat-am"]
        chosen: set[str] = set()
        while len(chosen) < count:
            chosen.add(rng.choices(pool, weights=[4 if k in usual else 1 for k in pool])[0])
        for key in sorted(chosen, key=HALF_DAY_KEYS.index):
            date, period = _on(monday, key)
            if date <= end:
                level = "preferred" if key in usual and rng.random() < 0.6 else "available"
                found.append(Availability(cid, date, period, level))  # type: ignore[arg-type]
    return found


def _intern_availability(rng: random.Random, cid: str, week_starts: list[dt.date], end: dt.date) -> list[Availability]:
    university_day = rng.choice(("mon", "tue", "wed", "thu", "fri"))
    off = {f"{university_day}-am", f"{university_day}-pm", rng.choice(WEEKDAY_KEYS)}
    return [
        Availability(cid, *_on(monday, key), "available")
        for monday in week_starts
        for key in WEEKDAY_KEYS
        if key not in off and _on(monday, key)[0] <= end
    ]


def _coordinator_availability(
    rng: random.Random, cid: str, week_starts: list[dt.date], end: dt.date
) -> list[Availability]:
    admin = set(rng.sample(WEEKDAY_KEYS, 3))
    return [
        Availability(cid, *_on(monday, key), "preferred" if key.endswith("am") else "available")
        for monday in week_starts
        for key in WEEKDAY_KEYS
        if key not in admin and _on(monday, key)[0] <= end
    ]


# --- measures --------------------------------------------------------------------------------


def absence_scenario(problem: Problem, previous: Sequence[SessionKey]) -> tuple[Problem, str, tuple[int, int]]:
    """The problem re-posed after the busiest retired GP is away for the busiest week of the
    published rota ``previous``: returns (new problem, clinician id, ISO week)."""
    busiest = max(
        (
            (s.clinician, iso_week(s.date))
            for s in previous
            if problem.clinician_by_id[s.clinician].role == "retired_gp"
        ),
        key=lambda cw: (sum(1 for s in previous if (s.clinician, iso_week(s.date)) == cw), cw),
    )
    clinician_id, week = busiest
    availability = tuple(
        a for a in problem.availability if not (a.clinician == clinician_id and iso_week(a.date) == week)
    )
    return (
        Problem(
            start=problem.start,
            end=problem.end,
            holidays=problem.holidays,
            sites=problem.sites,
            clinicians=problem.clinicians,
            availability=availability,
            pinned=problem.pinned,
            previous=tuple(previous),
            time_limit_s=problem.time_limit_s,
        ),
        clinician_id,
        week,
    )


def changes_for_others(before: Sequence[SessionKey], after: Sequence[SessionKey], absent: str) -> tuple[int, int]:
    """(sessions of the other clinicians that changed — removed, moved or added —, their sessions before)."""
    old = {s for s in before if s.clinician != absent}
    new = {s for s in after if s.clinician != absent}
    return len(old ^ new), len(old)


def _measure(problem: Problem, *, time_limit_s: float, seed: int, workers: int) -> dict[str, Any]:
    idx = ProblemIndex(problem)
    wanted = sum(idx.target(s, d, p) for s in problem.sites for d, p in idx.half_days)
    flow_bound = coverage_upper_bound(problem)
    lp_bound = math.floor(coverage_lp_bound(problem) + 1e-6)
    started = time.perf_counter()
    mip_bound = math.floor(coverage_lp_bound(problem, integer=True, time_limit_s=time_limit_s) + 1e-6)
    mip_s = time.perf_counter() - started
    upper = min(flow_bound, lp_bound, mip_bound)
    figures: dict[str, Any] = {
        "clinicians": len(problem.clinicians),
        "sites": len(problem.sites),
        "weeks": len(idx.weeks),
        "variables": len(idx.candidate_sessions),
        "target_sessions": wanted,
        "coverage_bound_flow": flow_bound,
        "coverage_bound_lp": lp_bound,
        "coverage_bound_mip": mip_bound,
        "coverage_bound_mip_s": round(mip_s, 2),
        "coverage_upper_bound": upper,
    }

    greedy = solve_greedy(problem)
    covered, _ = validation.coverage(problem, greedy.assignments)
    figures["greedy"] = {
        "wall_s": round(greedy.wall_s, 3),
        "covered": covered,
        "coverage_of_bound": round(covered / upper, 4) if upper else 1.0,
        "coverage_of_flow_bound": round(covered / flow_bound, 4) if flow_bound else 1.0,
        "objective": greedy.objective,
        "hard_violations": len(validation.check(problem, greedy.assignments)),
    }

    solution = solve(problem, time_limit_s=time_limit_s, seed=seed, workers=workers)
    covered, _ = validation.coverage(problem, solution.assignments)
    gap = abs(solution.objective - solution.bound) / max(1, abs(solution.objective)) if solution.has_rota else None
    figures["cpsat"] = {
        "status": solution.status,
        "first_feasible_s": round(solution.first_solution_s, 3) if solution.first_solution_s is not None else None,
        "wall_s": round(solution.wall_s, 3),
        "optimal_s": round(solution.wall_s, 3) if solution.status == "OPTIMAL" else None,
        "gap": round(gap, 6) if gap is not None else None,
        "objective": solution.objective,
        "bound": solution.bound,
        "covered": covered,
        "coverage_of_bound": round(covered / upper, 4) if upper else 1.0,
        "coverage_of_flow_bound": round(covered / flow_bound, 4) if flow_bound else 1.0,
        "hard_violations": len(validation.check(problem, solution.assignments)),
        "objective_matches_validation": solution.objective == validation.objective(problem, solution.assignments),
    }

    resolved_problem, absent, week = absence_scenario(problem, solution.assignments)
    resolved = solve(resolved_problem, time_limit_s=time_limit_s, seed=seed, workers=workers)
    changed, others = changes_for_others(solution.assignments, resolved.assignments, absent)
    covered_after, _ = validation.coverage(resolved_problem, resolved.assignments)
    figures["resolve"] = {
        "absent": absent,
        "week": f"{week[0]}-W{week[1]:02d}",
        "absent_sessions_lost": sum(
            1 for s in solution.assignments if s.clinician == absent and iso_week(s.date) == week
        ),
        "status": resolved.status,
        "wall_s": round(resolved.wall_s, 3),
        "other_sessions": others,
        "other_sessions_changed": changed,
        "changed_share": round(changed / others, 4) if others else 0.0,
        "covered": covered_after,
        "hard_violations": len(validation.check(resolved_problem, resolved.assignments)),
    }
    return figures


def run_benchmark(
    sizes: Sequence[str] = ("demo", "departement"),
    time_limit_s: float = 60,
    *,
    seed: int = 0,
    workers: int = 8,
) -> dict[str, Any]:
    """Figures for each size: the instance, its coverage bound, greedy, CP-SAT and a re-solve."""
    started = time.perf_counter()
    figures: dict[str, Any] = {"time_limit_s": time_limit_s, "seed": seed, "workers": workers, "sizes": {}}
    for size in sizes:
        problem = make_instance(size, seed)
        figures["sizes"][size] = _measure(problem, time_limit_s=time_limit_s, seed=seed, workers=workers)
    figures["total_wall_s"] = round(time.perf_counter() - started, 1)
    return figures


def format_table(figures: dict[str, Any]) -> str:
    """The figures as a plain-text table for humans."""
    sizes = list(figures["sizes"])
    rows: list[tuple[str, ...]] = [("", *sizes)]

    def row(label: str, get) -> None:
        cells = []
        for size in sizes:
            try:
                value = get(figures["sizes"][size])
            except (KeyError, TypeError):
                value = None
            cells.append("—" if value is None else str(value))
        rows.append((label, *cells))

    def pct(x: float | None) -> str | None:
        return None if x is None else f"{100 * x:.2f} %"

    row("clinicians / sites / weeks", lambda f: f"{f['clinicians']} / {f['sites']} / {f['weeks']}")
    row("session variables", lambda f: f["variables"])
    row("target sessions", lambda f: f["target_sessions"])
    row("coverage bound: max flow", lambda f: f["coverage_bound_flow"])
    row("coverage bound: LP + supervision", lambda f: f["coverage_bound_lp"])
    row("coverage bound: MIP (SCIP) (s)", lambda f: f"{f['coverage_bound_mip']} ({f['coverage_bound_mip_s']})")
    row("CP-SAT status", lambda f: f["cpsat"]["status"])
    row("CP-SAT first feasible (s)", lambda f: f["cpsat"]["first_feasible_s"])
    row("CP-SAT proven optimal (s)", lambda f: f["cpsat"]["optimal_s"])
    row("CP-SAT wall (s)", lambda f: f["cpsat"]["wall_s"])
    row("CP-SAT gap at end", lambda f: pct(f["cpsat"]["gap"]))
    row("CP-SAT objective / bound", lambda f: f"{f['cpsat']['objective']} / {f['cpsat']['bound']}")
    row("CP-SAT covered", lambda f: f["cpsat"]["covered"])
    row("CP-SAT coverage / best bound", lambda f: pct(f["cpsat"]["coverage_of_bound"]))
    row("CP-SAT coverage / max-flow bound", lambda f: pct(f["cpsat"]["coverage_of_flow_bound"]))
    row("CP-SAT hard violations", lambda f: f["cpsat"]["hard_violations"])
    row("objective = validation", lambda f: f["cpsat"]["objective_matches_validation"])
    row("greedy wall (s)", lambda f: f["greedy"]["wall_s"])
    row("greedy covered", lambda f: f["greedy"]["covered"])
    row("greedy coverage / best bound", lambda f: pct(f["greedy"]["coverage_of_bound"]))
    row("greedy coverage / max-flow bound", lambda f: pct(f["greedy"]["coverage_of_flow_bound"]))
    row("greedy objective", lambda f: f["greedy"]["objective"])
    row("greedy hard violations", lambda f: f["greedy"]["hard_violations"])
    row("re-solve: absent, week", lambda f: f"{f['resolve']['absent']} {f['resolve']['week']}")
    row("re-solve: absent's sessions lost", lambda f: f["resolve"]["absent_sessions_lost"])
    row("re-solve: status, wall (s)", lambda f: f"{f['resolve']['status']} {f['resolve']['wall_s']}")
    row(
        "re-solve: other sessions changed",
        lambda f: (
            f"{f['resolve']['other_sessions_changed']} / {f['resolve']['other_sessions']} "
            f"({pct(f['resolve']['changed_share'])})"
        ),
    )
    row("re-solve: hard violations", lambda f: f["resolve"]["hard_violations"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    header = (
        f"time limit {figures['time_limit_s']} s, seed {figures['seed']}, {figures['workers']} workers, "
        f"total {figures.get('total_wall_s', '?')} s"
    )
    return "\n".join([header, *lines])


__all__ = [
    "absence_scenario",
    "changes_for_others",
    "format_table",
    "make_instance",
    "run_benchmark",
]
