"""Greedy first-fit: the baseline the CP-SAT rota is measured against.

Pinned sessions first; then half-days in time order, sites in input order, and for each missing
target session the first clinician (input order; interns after the others, so that supervisors
are placed first) who can take it without breaking a hard rule. It never looks back.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable

from scheduling.rota import validation
from scheduling.rota.domain import Assignment, Problem, Solution
from scheduling.rota.explain import unmet_targets
from scheduling.rota.halfdays import iso_week
from scheduling.rota.index import ProblemIndex


def first_fit(problem: Problem, start: Iterable[Assignment] = ()) -> list[Assignment]:
    """The first-fit rota; with ``start``, those sessions are kept first (where they break no
    hard rule) and the rota is topped up around them."""
    idx = ProblemIndex(problem)
    order = {c.id: (c.needs_supervisor, i) for i, c in enumerate(problem.clinicians)}
    candidates: dict[tuple, list[str]] = defaultdict(list)
    for s in idx.candidate_sessions:
        candidates[(s.site, s.date, s.period)].append(s.clinician)
    for key in candidates:
        candidates[key].sort(key=order.__getitem__)

    chosen: list[Assignment] = []
    busy: set[tuple] = set()
    weekly: Counter = Counter()
    here: Counter = Counter()
    supervisors: dict[tuple, set[str]] = defaultdict(set)

    def place(s: Assignment) -> None:
        chosen.append(s)
        busy.add((s.clinician, s.date, s.period))
        weekly[(s.clinician, iso_week(s.date))] += 1
        here[(s.site, s.date, s.period)] += 1
        if idx.clinician(s.clinician).can_supervise:
            supervisors[(s.site, s.date, s.period)].add(s.clinician)

    def fits(s: Assignment) -> bool:
        clinician = idx.clinician(s.clinician)
        key = (s.site, s.date, s.period)
        return not (
            (s.clinician, s.date, s.period) in busy
            or here[key] >= idx.site(s.site).rooms
            or weekly[(s.clinician, iso_week(s.date))] >= clinician.max_per_week
            or (clinician.needs_supervisor and not supervisors[key] - {s.clinician})
            or idx.filter_failures(s)
        )

    for pin in dict.fromkeys(problem.pinned):
        place(pin)
    pins = set(problem.pinned)
    for s in sorted(set(start) - pins, key=lambda s: (order[s.clinician], s)):
        if fits(s):
            place(s)

    for date, period in idx.half_days:
        for site in problem.sites:
            key = (site.id, date, period)
            wanted = min(idx.target(site, date, period), site.rooms)
            for clinician_id in candidates.get(key, []):
                if here[key] >= wanted:
                    break
                s = Assignment(clinician_id, site.id, date, period)
                if fits(s):
                    place(s)
    return sorted(chosen)


def solve_greedy(problem: Problem) -> Solution:
    """The first-fit rota as a :class:`Solution` (status FEASIBLE when it breaks no hard rule)."""
    started = time.perf_counter()
    assignments = tuple(first_fit(problem))
    wall_s = time.perf_counter() - started
    violations = validation.check(problem, assignments)
    found = validation.penalties(problem, assignments)
    return Solution(
        status="UNKNOWN" if violations else "FEASIBLE",
        objective=sum(p.cost for p in found),
        wall_s=wall_s,
        assignments=assignments,
        unmet=tuple(unmet_targets(problem, assignments)),
        penalties=tuple(found),
        first_solution_s=wall_s,
    )
