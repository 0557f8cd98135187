"""Progress, cancel, re-solve, and the baselines the solver is measured against."""

from __future__ import annotations

import functools

from scheduling.rota import validation
from scheduling.rota.bench import absence_scenario, changes_for_others, make_instance
from scheduling.rota.domain import Progress
from scheduling.rota.greedy import first_fit, solve_greedy
from scheduling.rota.halfdays import iso_week
from scheduling.rota.relaxation import (
    coverage_lp_bound,
    coverage_upper_bound,
    flow_rota,
    min_cost_flow_rota,
)
from scheduling.rota.solver import solve

from .helpers import TUESDAY, available, clinician, problem, session, site


@functools.cache
def demo():
    p = make_instance("demo", seed=2)
    return p, solve(p, time_limit_s=10)


def test_progress_reports_objective_bound_gap_and_solutions_as_the_search_improves():
    p, _ = demo()
    seen: list[Progress] = []
    solution = solve(p, time_limit_s=10, on_progress=seen.append)
    assert seen, "no progress was reported"
    objectives = [x.objective for x in seen if x.objective is not None]
    assert objectives
    assert objectives == sorted(objectives, reverse=True)  # only improvements
    assert seen[-1].solutions == solution.solutions >= 1
    last = seen[-1]
    assert last.objective is not None and last.bound is not None
    assert last.bound <= last.objective
    assert last.gap == abs(last.objective - last.bound) / max(1.0, abs(last.objective))


def test_should_stop_cancels_before_the_search_starts():
    p, _ = demo()
    solution = solve(p, time_limit_s=10, should_stop=lambda: True)
    assert solution.stopped and solution.status == "UNKNOWN" and solution.assignments == ()


def test_should_stop_cancels_a_running_search_and_keeps_the_best_rota_so_far():
    p = make_instance("departement", seed=0)  # far too big to be proven optimal before the cancel
    calls = {"n": 0}
    first_solution = {"seen": False}

    def stop_after_first_solution() -> bool:
        calls["n"] += 1
        return first_solution["seen"]

    def progress(x: Progress) -> None:
        if x.solutions:
            first_solution["seen"] = True

    solution = solve(p, time_limit_s=60, on_progress=progress, should_stop=stop_after_first_solution)
    assert solution.stopped
    assert calls["n"] > 0
    assert solution.status == "FEASIBLE"  # cancelled long before a proof of optimality
    assert validation.check(p, solution.assignments) == []


def test_the_demo_clinic_is_solved_to_optimality():
    _, solution = demo()
    assert solution.status == "OPTIMAL"
    assert solution.bound == solution.objective


def test_a_resolve_after_a_weeks_absence_changes_few_other_sessions():
    p, first = demo()
    after, absent, week = absence_scenario(p, first.assignments)
    second = solve(after, time_limit_s=10)
    assert validation.check(after, second.assignments) == []
    assert not any(s.clinician == absent and iso_week(s.date) == week for s in second.assignments)
    assert any(s.clinician == absent and iso_week(s.date) == week for s in first.assignments)
    changed, others = changes_for_others(first.assignments, second.assignments, absent)
    assert changed <= 0.10 * others


def test_the_greedy_baseline_breaks_no_hard_rule_and_cp_sat_covers_at_least_as_much():
    p, solution = demo()
    greedy = solve_greedy(p)
    assert greedy.status == "FEASIBLE"
    assert validation.check(p, greedy.assignments) == []
    assert validation.coverage(p, solution.assignments)[0] >= validation.coverage(p, greedy.assignments)[0]
    assert solution.objective <= greedy.objective


def test_pins_are_placed_first_by_the_greedy_baseline():
    p = problem(
        [site(rooms=1)], [clinician("ana"), clinician("bob")], [available(c, TUESDAY, "am") for c in ("ana", "bob")]
    )
    pinned = problem(p.sites, p.clinicians, p.availability, pinned=[session("bob", "laval")])
    assert first_fit(p) == [session("ana", "laval")]
    assert first_fit(pinned) == [session("bob", "laval")]


def test_the_coverage_bounds_are_never_below_what_the_solver_covers():
    p, solution = demo()
    covered, wanted = validation.coverage(p, solution.assignments)
    exact = coverage_lp_bound(p, integer=True, time_limit_s=30)
    assert covered <= exact <= coverage_lp_bound(p) + 1e-6 <= coverage_upper_bound(p) + 1e-6 <= wanted
    assert covered == exact  # the demo rota is optimal, and coverage dominates the objective


def test_without_interns_the_min_cost_flow_is_the_exact_optimum():
    p = make_instance("demo", seed=2)
    no_interns = problem(
        p.sites,
        [c for c in p.clinicians if c.role != "intern"],
        [a for a in p.availability if p.clinician_by_id[a.clinician].role != "intern"],
        start=p.start,
        end=p.end,
        holidays=p.closed_dates,
    )
    flow = min_cost_flow_rota(no_interns)
    solution = solve(no_interns, time_limit_s=10)
    assert solution.status == "OPTIMAL"
    assert validation.check(no_interns, flow) == []
    assert validation.objective(no_interns, flow) == solution.objective


def test_the_flow_rota_used_as_a_starting_point_breaks_no_hard_rule():
    p, _ = demo()
    assert validation.check(p, flow_rota(p)) == []
