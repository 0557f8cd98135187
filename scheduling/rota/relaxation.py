"""Network-flow relaxations of the rota: a coverage upper bound and a near-optimal starting rota.

Without interns, the rota problem *is* a min-cost flow::

    source ─(weekly maximum; convex costs)→ clinician-week ─(1)→ clinician-half-day
           ─(1; preference, travel, change)→ site-half-day ─(min(target, rooms); −unmet weight)→ sink
                                                            └(rooms − target; +above weight)─┘

Every soft rule is an arc cost (the weekly-target fairness is convex, so it is a bundle of unit
arcs of increasing cost), every hard rule but supervision and pins is a capacity. So:

- :func:`coverage_upper_bound` (max flow with target capacities) bounds the target sessions any
  valid rota can cover;
- :func:`flow_rota` solves the min-cost flow, drops intern sessions left without a supervisor
  and tops the rota up first-fit. CP-SAT starts from it (a solution hint) and only has the
  supervision coupling left to improve on.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ortools.graph.python import max_flow, min_cost_flow

from scheduling.rota.domain import Assignment, Problem, SessionKey
from scheduling.rota.greedy import first_fit
from scheduling.rota.halfdays import iso_week
from scheduling.rota.index import ProblemIndex
from scheduling.rota.weights import (
    WEIGHT_ABOVE_SITE_TARGET,
    WEIGHT_CHANGE,
    WEIGHT_NOT_PREFERRED,
    WEIGHT_NOT_PREFERRED_SITE,
    WEIGHT_OVER_WEEKLY_TARGET,
    WEIGHT_TRAVEL_PER_KM,
    WEIGHT_UNDER_WEEKLY_TARGET,
    WEIGHT_UNMET_TARGET,
)


class _Nodes:
    def __init__(self) -> None:
        self.ids: dict[Any, int] = {"source": 0, "sink": 1}

    def __call__(self, key: Any) -> int:
        return self.ids.setdefault(key, len(self.ids))


def coverage_upper_bound(problem: Problem) -> int:
    """An upper bound on the target sessions any valid rota can cover (max flow; it ignores
    supervision beyond "some supervisor could be there", and pins)."""
    idx = ProblemIndex(problem)
    node = _Nodes()
    flow = max_flow.SimpleMaxFlow()
    for clinician in problem.clinicians:
        for week in idx.weeks:
            flow.add_arc_with_capacity(0, node(("week", clinician.id, week)), clinician.max_per_week)
    seen = set()
    for s in idx.candidate_sessions:
        site = idx.site(s.site)
        capacity = min(idx.target(site, s.date, s.period), site.rooms)
        if capacity == 0:
            continue
        half_day = ("half", s.clinician, s.date, s.period)
        if half_day not in seen:
            seen.add(half_day)
            flow.add_arc_with_capacity(node(("week", s.clinician, iso_week(s.date))), node(half_day), 1)
        slot = ("slot", s.site, s.date, s.period)
        if slot not in node.ids:
            flow.add_arc_with_capacity(node(slot), 1, capacity)
        flow.add_arc_with_capacity(node(half_day), node(slot), 1)
    if flow.solve(0, 1) != flow.OPTIMAL:
        raise RuntimeError("max flow failed")
    return int(flow.optimal_flow())


def min_cost_flow_rota(problem: Problem) -> list[Assignment]:
    """The optimal rota when supervision is ignored (interns may be left unsupervised) and pins
    are ignored: exact for every other rule and every soft rule."""
    idx = ProblemIndex(problem)
    node = _Nodes()
    flow = min_cost_flow.SimpleMinCostFlow()
    previous = idx.previous_in_horizon
    span = idx.previous_span if previous else None

    sessions_of: dict[tuple, list[SessionKey]] = defaultdict(list)
    for s in idx.candidate_sessions:
        sessions_of[(s.clinician, iso_week(s.date))].append(s)

    arcs: dict[int, SessionKey] = {}
    slots = set()
    for (clinician_id, week), sessions in sessions_of.items():
        clinician = idx.clinician(clinician_id)
        week_node = node(("week", clinician_id, week))
        goal = idx.weekly_goal(clinician, week)
        for k in range(1, clinician.max_per_week + 1):
            cost = -WEIGHT_UNDER_WEEKLY_TARGET * (goal - k + 1) if k <= goal else 0
            if k > clinician.target_per_week:
                cost += WEIGHT_OVER_WEEKLY_TARGET
            flow.add_arc_with_capacity_and_unit_cost(0, week_node, 1, cost)
        for half_day in sorted({s.half_day for s in sessions}):
            flow.add_arc_with_capacity_and_unit_cost(week_node, node(("half", clinician_id, *half_day)), 1, 0)
        for s in sessions:
            cost = WEIGHT_TRAVEL_PER_KM * idx.km(s.clinician, s.site)
            if idx.level.get((s.clinician, s.date, s.period)) != "preferred":
                cost += WEIGHT_NOT_PREFERRED
            preferred_sites = idx.clinician(s.clinician).preferred_sites
            if preferred_sites and s.site not in preferred_sites:
                cost += WEIGHT_NOT_PREFERRED_SITE
            if span is not None:
                if s in previous:
                    cost -= WEIGHT_CHANGE
                elif span[0] <= s.date <= span[1]:
                    cost += WEIGHT_CHANGE
            slot = ("slot", s.site, s.date, s.period)
            slots.add(slot)
            arc = flow.add_arc_with_capacity_and_unit_cost(
                node(("half", s.clinician, s.date, s.period)), node(slot), 1, cost
            )
            arcs[arc] = s
    total = 0
    for slot in slots:
        _, site_id, date, period = slot
        site = idx.site(site_id)
        covered = min(idx.target(site, date, period), site.rooms)
        if covered:
            flow.add_arc_with_capacity_and_unit_cost(node(slot), 1, covered, -WEIGHT_UNMET_TARGET)
        if site.rooms > covered:
            flow.add_arc_with_capacity_and_unit_cost(node(slot), 1, site.rooms - covered, WEIGHT_ABOVE_SITE_TARGET)
        total += site.rooms
    flow.add_arc_with_capacity_and_unit_cost(0, 1, total, 0)  # sessions not worth holding
    flow.set_node_supply(0, total)
    flow.set_node_supply(1, -total)
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("min-cost flow failed")
    return sorted(s for arc, s in arcs.items() if flow.flow(arc) > 0)


def flow_rota(problem: Problem) -> list[Assignment]:
    """A good valid rota fast: the min-cost flow rota, with pins added, unsupervised intern
    sessions (and clashes with pins) dropped, then topped up first-fit."""
    idx = ProblemIndex(problem)
    pins = set(problem.pinned)
    pinned_half_days = {(s.clinician, s.date, s.period) for s in pins}
    kept = [
        s for s in min_cost_flow_rota(problem) if s in pins or (s.clinician, s.date, s.period) not in pinned_half_days
    ]
    supervisors: dict[tuple, set[str]] = defaultdict(set)
    for s in [*kept, *pins]:
        if idx.clinician(s.clinician).can_supervise:
            supervisors[(s.site, s.date, s.period)].add(s.clinician)
    kept = [
        s
        for s in kept
        if not idx.clinician(s.clinician).needs_supervisor or supervisors[(s.site, s.date, s.period)] - {s.clinician}
    ]
    return first_fit(problem, start=kept)


def coverage_lp_bound(problem: Problem, *, integer: bool = False, time_limit_s: float = 60) -> float:
    """An upper bound on coverable target sessions from the coverage problem *with* supervision
    (an intern's session at most the supervisors' sessions there), pins ignored.

    As an LP (GLOP) it is a relaxation; with ``integer=True`` it is the exact coverage MIP solved
    by SCIP, independently of CP-SAT, and the value returned is SCIP's proven dual bound at the
    time limit (the exact maximum when SCIP finishes)."""
    from ortools.linear_solver import pywraplp

    idx = ProblemIndex(problem)
    lp = pywraplp.Solver.CreateSolver("SCIP" if integer else "GLOP")
    lp.SetTimeLimit(int(time_limit_s * 1000))
    x = {s: (lp.BoolVar("") if integer else lp.NumVar(0, 1, "")) for s in idx.candidate_sessions}
    by_slot: dict[tuple, list[SessionKey]] = defaultdict(list)
    by_half_day: dict[tuple, list[SessionKey]] = defaultdict(list)
    by_week: dict[tuple, list[SessionKey]] = defaultdict(list)
    for s in x:
        by_slot[(s.site, s.date, s.period)].append(s)
        by_half_day[(s.clinician, s.date, s.period)].append(s)
        by_week[(s.clinician, iso_week(s.date))].append(s)
    for sessions in by_half_day.values():
        lp.Add(sum(x[s] for s in sessions) <= 1)
    for (clinician_id, _week), sessions in by_week.items():
        lp.Add(sum(x[s] for s in sessions) <= idx.clinician(clinician_id).max_per_week)
    covered = []
    for (site_id, date, period), sessions in by_slot.items():
        site = idx.site(site_id)
        lp.Add(sum(x[s] for s in sessions) <= site.rooms)
        wanted = min(idx.target(site, date, period), site.rooms)
        if wanted:
            y = lp.NumVar(0, wanted, "")
            lp.Add(y <= sum(x[s] for s in sessions))
            covered.append(y)
        supervisors = [s for s in sessions if idx.clinician(s.clinician).can_supervise]
        for s in sessions:
            if idx.clinician(s.clinician).needs_supervisor:
                lp.Add(x[s] <= sum(x[o] for o in supervisors if o.clinician != s.clinician))
    lp.Maximize(sum(covered))
    status = lp.Solve()
    if integer and status in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE, pywraplp.Solver.NOT_SOLVED):
        return float(lp.Objective().BestBound())
    if status != pywraplp.Solver.OPTIMAL:
        raise RuntimeError("coverage LP failed")
    return float(lp.Objective().Value())
