"""The solver-independent validator catches a hand-broken rota and recomputes the objective."""

from __future__ import annotations

import functools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduling.rota import validation
from scheduling.rota.bench import make_instance
from scheduling.rota.domain import SessionKey
from scheduling.rota.halfdays import HALF_DAY_KEYS
from scheduling.rota.solver import solve
from scheduling.rota.weights import HARD_RULES

from .helpers import MAYENNE, TUESDAY, WEDNESDAY, available, clinician, problem, session, site


@functools.cache
def demo():
    p = make_instance("demo", seed=1)
    return p, solve(p, time_limit_s=10)


def rules_broken(p, sessions) -> set[str]:
    return {v.rule for v in validation.check(p, sessions)}


def test_the_solvers_rota_for_the_demo_clinic_breaks_no_rule_and_its_objective_is_recomputed_exactly():
    p, solution = demo()
    assert solution.status in ("OPTIMAL", "FEASIBLE")
    assert validation.check(p, solution.assignments) == []
    assert solution.objective == validation.objective(p, solution.assignments)
    assert solution.objective == sum(x.cost for x in solution.penalties)


def test_a_session_moved_by_hand_to_an_undeclared_half_day_is_caught():
    p, solution = demo()
    declared = {(a.clinician, a.date, a.period) for a in p.availability}
    broken = next(
        SessionKey(s.clinician, s.site, s.date, other)
        for s in solution.assignments
        for other in ("am", "pm")
        if (s.clinician, s.date, other) not in declared
    )
    assert rules_broken(p, solution.assignments) == set()
    assert "works_only_declared_half_days" in rules_broken(p, [*solution.assignments, broken])


def test_a_hand_broken_rota_is_caught_rule_by_rule():
    laval = site("laval", rooms=1, target={"tue-am": 1}, open_=["tue-am", "wed-am"])
    mayenne = site("mayenne", where=MAYENNE, target={"tue-am": 1})
    p = problem(
        [laval, mayenne],
        [clinician("ana", max_per_week=1, sites=("laval",)), clinician("ines", role="intern"), clinician("bob")],
        [
            available("ana", TUESDAY, "am"),
            available("ana", WEDNESDAY, "am"),
            available("ines", TUESDAY, "am"),
            available("bob", TUESDAY, "am"),
        ],
        pinned=[session("bob", "laval")],
        holidays=[WEDNESDAY],
    )
    broken = [
        session("ana", "laval", TUESDAY, "am"),
        session("ana", "mayenne", TUESDAY, "am"),  # two places at once, and not allowed at Mayenne
        session("ana", "laval", WEDNESDAY, "am"),  # a holiday, and beyond her weekly maximum
        session("ines", "laval", TUESDAY, "am"),  # no supervisor; and two sessions for one room
        session("ana", "laval", TUESDAY, "pm"),  # not declared, and Laval is closed
    ]
    assert rules_broken(p, broken) == set(HARD_RULES)  # ... and bob's pin was dropped


def test_a_valid_rota_has_no_violation():
    p = problem([site()], [clinician("ana")], [available("ana", TUESDAY, "am")])
    assert validation.check(p, [session("ana", "laval")]) == []


def test_violations_are_worded_in_french_for_the_coordinator():
    p = problem([site(rooms=1)], [clinician("ana"), clinician("bob")], [available(c, TUESDAY, "am") for c in "ab"])
    [violation] = [
        v
        for v in validation.check(p, [session("ana", "laval"), session("bob", "laval")])
        if v.rule == "sessions_within_site_rooms"
    ]
    assert violation.message == "Laval le mardi 5 janvier 2027 matin : 2 séances pour 1 salle(s)"


# --- any small problem: the rota is valid and the objective agrees ----------------------------

PEOPLE = ("ana", "bob", "ines", "sam")


@st.composite
def small_problems(draw):
    sites = []
    for ident, where in (("laval", (48.06, -0.77)), ("mayenne", MAYENNE)):
        opening = draw(st.sets(st.sampled_from(HALF_DAY_KEYS[2:6]), min_size=1))
        target = {k: draw(st.integers(0, 2)) for k in opening}
        sites.append(site(ident, where=where, rooms=draw(st.integers(0, 2)), target=target, open_=opening))
    roles = {"ana": "retired_gp", "bob": "retired_gp", "ines": "intern", "sam": "coordinator"}
    people = []
    for ident in PEOPLE:
        most = draw(st.integers(0, 3))
        people.append(
            clinician(
                ident,
                role=roles[ident],
                supervisor=draw(st.booleans()),
                sites=draw(st.sets(st.sampled_from(["laval", "mayenne"]), min_size=1)),
                max_per_week=most,
                target_per_week=draw(st.integers(0, most)),
                home=draw(st.sampled_from([None, (48.1, -0.7), (48.2, -0.6)])),
            )
        )
    availability = [
        available(c, day, period, draw(st.sampled_from(["available", "preferred"])))
        for c in PEOPLE
        for day in (TUESDAY, WEDNESDAY)
        for period in ("am", "pm")
        if draw(st.booleans())
    ]
    previous = draw(
        st.lists(
            st.builds(
                session,
                st.sampled_from(PEOPLE),
                st.sampled_from(["laval", "mayenne"]),
                st.sampled_from([TUESDAY, WEDNESDAY]),
                st.sampled_from(["am", "pm"]),
            ),
            max_size=3,
            unique=True,
        )
    )
    return problem(sites, people, availability, previous=previous)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_for_any_small_problem_the_rota_is_valid_optimal_and_its_objective_recomputed(p):
    solution = solve(p, time_limit_s=5)
    assert solution.status == "OPTIMAL"
    assert validation.check(p, solution.assignments) == []
    assert solution.objective == validation.objective(p, solution.assignments)
    assert solution.bound == solution.objective
