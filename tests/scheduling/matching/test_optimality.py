"""The solver's optimum is the exact lexicographic one, whatever the graph options."""

import random
from dataclasses import replace

import pytest

from scheduling.matching import Problem, solve
from scheduling.matching.validation import certify, certify_min_cost, check_solution, max_matchable
from tests.scheduling.matching.helpers import (
    LAVAL,
    brute_force_key,
    doctor,
    north_of,
    patient,
    random_problem,
    solution_key,
)


def test_it_matches_an_exhaustive_search_on_many_small_random_problems():
    rng = random.Random(20260301)
    contested = 0
    for case in range(600):
        problem = random_problem(rng)
        solution = solve(problem)
        assert not check_solution(problem, solution), case
        assert solution_key(problem, solution) == brute_force_key(problem), f"case {case}"
        contested += bool(solution.assignments) and bool(solution.unassigned)
    assert contested > 250  # most cases have places to fight over, so the comparison has teeth


@pytest.mark.parametrize("seed", range(6))
def test_aggregated_decomposed_and_plain_graphs_reach_the_same_optimum(seed):
    rng = random.Random(seed)
    problem = random_problem(rng, max_patients=120, max_doctors=8, max_capacity=15)
    keys = {
        (aggregate, decompose): solution_key(problem, solve(problem, aggregate=aggregate, decompose=decompose))
        for aggregate in (True, False)
        for decompose in (True, False)
    }
    assert len(set(keys.values())) == 1, keys


@pytest.mark.parametrize("seed", range(4))
def test_the_priority_levels_equal_the_max_flow_of_each_tier_set(seed):
    problem = random_problem(random.Random(100 + seed), max_patients=150, max_doctors=6, max_capacity=20)
    solution = solve(problem)
    report = certify(problem, solution)
    assert report["valid"] and report["levels_optimal"] and report["min_cost"]["optimal"], report
    assert solution.objective.tier1 == max_matchable(problem, {1})


def _two_crossed_patients():
    problem = Problem(
        doctors=(
            doctor("north", north_of(LAVAL, 10), capacity=1),
            doctor("south", north_of(LAVAL, -10), capacity=1),
        ),
        patients=(patient("n", north_of(LAVAL, 9)), patient("s", north_of(LAVAL, -9), ald=True)),
    )
    return problem, solve(problem)


def test_the_min_cost_certificate_rejects_a_longer_assignment():
    problem, good = _two_crossed_patients()
    assert certify_min_cost(problem, good)["optimal"] is True
    a_n, a_s = sorted(good.assignments, key=lambda a: a.patient)
    crossed = replace(good, assignments=(replace(a_n, doctor="south", km=19.0), replace(a_s, doctor="north", km=19.0)))
    assert certify_min_cost(problem, crossed)["optimal"] is False


def test_the_level_check_rejects_a_solution_that_leaves_out_a_tier_1_patient():
    problem, good = _two_crossed_patients()
    ald = next(a for a in good.assignments if a.patient == "s")
    worse = replace(
        good,
        assignments=tuple(a for a in good.assignments if a is not ald),
        objective=replace(good.objective, tier1=0, tier12=0, assigned=1, total_km=good.objective.total_km - ald.km),
    )
    from scheduling.matching import Unassigned

    worse = replace(worse, unassigned=(Unassigned("s", "", "capacity", 1),))
    report = certify(problem, worse)
    assert report["levels"]["tier1"] == {"solution": 0, "max": 1}
    assert not report["levels_optimal"]
    assert report["min_cost"]["optimal"] is False
    assert any("reason capacity, expected ok" in v for v in report["violations"])
