"""Each soft rule: a small case where it bites (it costs something and changes the rota), and one
where it stays silent (it costs nothing)."""

from __future__ import annotations

from scheduling.rota import validation
from scheduling.rota.weights import (
    WEIGHT_ABOVE_SITE_TARGET,
    WEIGHT_CHANGE,
    WEIGHT_NOT_PREFERRED,
    WEIGHT_OVER_WEEKLY_TARGET,
    WEIGHT_UNDER_WEEKLY_TARGET,
    WEIGHT_UNMET_TARGET,
)

from .helpers import LAVAL, MAYENNE, TUESDAY, WEDNESDAY, available, clinician, problem, session, site, solved


def cost(solution, rule: str) -> int:
    return sum(p.cost for p in solution.penalties if p.rule == rule)


def test_an_empty_target_session_costs_the_dominant_weight():
    p = problem([site(target={"tue-am": 2})], [clinician("ana")], [available("ana", TUESDAY, "am")])
    solution = solved(p)
    assert len(solution.assignments) == 1
    assert cost(solution, "meet_site_targets") == WEIGHT_UNMET_TARGET
    [penalty] = [x for x in solution.penalties if x.rule == "meet_site_targets"]
    assert penalty.detail == "Laval, mardi 5 janvier 2027 matin : 1 séance(s) manquante(s) sur 2"


def test_a_met_target_costs_nothing():
    p = problem([site(target={"tue-am": 1})], [clinician("ana")], [available("ana", TUESDAY, "am")])
    assert cost(solved(p), "meet_site_targets") == 0


def test_the_target_outweighs_a_long_trip_and_a_half_day_not_preferred():
    far = (47.2, -1.55)  # Nantes, about 100 km away
    p = problem([site(target={"tue-am": 1})], [clinician("ana", home=far)], [available("ana", TUESDAY, "am")])
    assert len(solved(p).assignments) == 1


def test_a_preferred_half_day_is_chosen_over_a_merely_available_one():
    p = problem(
        [site(target={"tue-am": 1, "tue-pm": 1})],
        [clinician("ana", max_per_week=1)],
        [available("ana", TUESDAY, "am"), available("ana", TUESDAY, "pm", "preferred")],
    )
    solution = solved(p)
    assert set(solution.assignments) == {session("ana", "laval", TUESDAY, "pm")}
    assert cost(solution, "use_preferred_half_days") == 0


def test_a_session_on_a_merely_available_half_day_costs_a_little():
    p = problem([site(target={"tue-am": 1})], [clinician("ana")], [available("ana", TUESDAY, "am")])
    assert cost(solved(p), "use_preferred_half_days") == WEIGHT_NOT_PREFERRED


def test_sessions_are_shared_out_towards_each_clinicians_weekly_target():
    near, a_bit_further = LAVAL, (48.10, -0.77)  # about 4 km apart
    p = problem(
        [site(target={"tue-am": 1, "wed-am": 1})],
        [clinician("ana", target_per_week=2, home=near), clinician("bob", target_per_week=2, home=a_bit_further)],
        [available(c, d, "am") for c in ("ana", "bob") for d in (TUESDAY, WEDNESDAY)],
    )
    solution = solved(p)
    assert {s.clinician for s in solution.assignments} == {"ana", "bob"}
    # Each is one session short of a goal of 2: the first missing session costs 1 × weight.
    assert cost(solution, "keep_clinicians_near_weekly_target") == 2 * WEIGHT_UNDER_WEEKLY_TARGET


def test_weekly_targets_that_are_met_cost_nothing():
    near, a_bit_further = LAVAL, (48.10, -0.77)
    p = problem(
        [site(target={"tue-am": 1, "wed-am": 1})],
        [clinician("ana", target_per_week=2, home=a_bit_further), clinician("bob", target_per_week=0, home=near)],
        [available(c, d, "am") for c in ("ana", "bob") for d in (TUESDAY, WEDNESDAY)],
    )
    solution = solved(p)
    assert {s.clinician for s in solution.assignments} == {"ana"}
    assert cost(solution, "keep_clinicians_near_weekly_target") == 0


def test_sessions_above_the_weekly_target_cost_but_coverage_wins():
    p = problem(
        [site(target={"tue-am": 1, "wed-am": 1})],
        [clinician("ana", max_per_week=3, target_per_week=1)],
        [available("ana", TUESDAY, "am"), available("ana", WEDNESDAY, "am")],
    )
    solution = solved(p)
    assert len(solution.assignments) == 2
    assert cost(solution, "keep_clinicians_near_weekly_target") == WEIGHT_OVER_WEEKLY_TARGET


def test_the_clinician_living_nearest_gets_the_session_even_over_a_preference():
    # 30 km more driving outweighs a preferred half-day (worth 20 km).
    p = problem(
        [site(target={"tue-am": 1})],
        [clinician("far", home=MAYENNE), clinician("near", home=(48.07, -0.76))],
        [available("far", TUESDAY, "am", "preferred"), available("near", TUESDAY, "am")],
    )
    solution = solved(p)
    assert {s.clinician for s in solution.assignments} == {"near"}
    assert 0 < cost(solution, "little_travel_from_home") < 5


def test_travel_costs_nothing_when_no_home_is_known():
    p = problem([site(target={"tue-am": 1})], [clinician("ana")], [available("ana", TUESDAY, "am")])
    assert cost(solved(p), "little_travel_from_home") == 0


def test_a_resolve_keeps_the_published_session_over_a_slightly_better_one():
    people = [clinician("ana"), clinician("bob")]
    availability = [available("ana", TUESDAY, "am", "preferred"), available("bob", TUESDAY, "am")]
    published = session("bob", "laval")
    p = problem([site(target={"tue-am": 1})], people, availability, previous=[published])
    solution = solved(p)
    assert set(solution.assignments) == {published}
    assert cost(solution, "few_changes_from_previous") == 0


def test_a_first_solve_has_no_published_rota_to_stay_close_to():
    people = [clinician("ana"), clinician("bob")]
    availability = [available("ana", TUESDAY, "am", "preferred"), available("bob", TUESDAY, "am")]
    solution = solved(problem([site(target={"tue-am": 1})], people, availability))
    assert set(solution.assignments) == {session("ana", "laval")}
    assert cost(solution, "few_changes_from_previous") == 0


def test_a_published_session_that_can_no_longer_be_held_counts_as_a_change():
    people = [clinician("ana"), clinician("bob")]
    published = session("ana", "laval")  # ana has since withdrawn her availability
    p = problem([site(target={"tue-am": 1})], people, [available("bob", TUESDAY, "am")], previous=[published])
    solution = solved(p)
    assert set(solution.assignments) == {session("bob", "laval")}
    assert cost(solution, "few_changes_from_previous") == 2 * WEIGHT_CHANGE  # one removed, one added


def test_no_session_is_added_beyond_a_sites_target_just_to_fill_a_clinicians_week():
    p = problem(
        [site(rooms=3, target={"tue-am": 1})],
        [clinician("ana", target_per_week=1), clinician("bob", target_per_week=1)],
        [available("ana", TUESDAY, "am"), available("bob", TUESDAY, "am")],
    )
    solution = solved(p)
    assert len(solution.assignments) == 1
    assert cost(solution, "avoid_sessions_above_target") == 0


def test_a_session_forced_beyond_the_target_is_charged():
    people = [clinician("ana"), clinician("bob")]
    pins = [session("ana", "laval"), session("bob", "laval")]
    availability = [available("ana", TUESDAY, "am"), available("bob", TUESDAY, "am")]
    solution = solved(problem([site(rooms=3, target={"tue-am": 1})], people, availability, pinned=pins))
    assert set(solution.assignments) == set(pins)
    assert cost(solution, "avoid_sessions_above_target") == WEIGHT_ABOVE_SITE_TARGET


def test_the_penalties_add_up_to_the_objective():
    p = problem(
        [site(rooms=2, target={"tue-am": 2, "wed-am": 1})],
        [clinician("ana", target_per_week=3, home=MAYENNE), clinician("bob", target_per_week=1, home=LAVAL)],
        [available("ana", TUESDAY, "am"), available("bob", TUESDAY, "am"), available("bob", WEDNESDAY, "am")],
    )
    solution = solved(p)
    assert sum(x.cost for x in solution.penalties) == solution.objective
    assert solution.objective == validation.objective(p, solution.assignments)


def test_a_session_away_from_the_preferred_sites_costs_the_site_weight():
    from dataclasses import replace

    from scheduling.rota.weights import WEIGHT_NOT_PREFERRED_SITE

    # Only Laval needs someone; Ana prefers Mayenne but still comes to Laval, at a small cost.
    sites = [site("laval", target={"tue-am": 1}), site("mayenne", where=MAYENNE, target={})]
    ana = replace(clinician("ana", sites=("laval", "mayenne"), home=LAVAL), preferred_sites=("mayenne",))
    solution = solved(problem(sites, [ana], [available("ana", TUESDAY, "am")]))
    assert set(solution.assignments) == {session("ana", "laval", TUESDAY, "am")}
    assert cost(solution, "use_preferred_sites") == WEIGHT_NOT_PREFERRED_SITE


def test_the_site_preference_decides_between_two_equally_near_sites():
    sites = [site("laval", target={"tue-am": 1}), site("annexe", target={"tue-am": 1})]  # same place
    ana = clinician("ana", sites=("laval", "annexe"), home=LAVAL)
    prefers_annexe = __import__("dataclasses").replace(ana, preferred_sites=("annexe",))
    p = problem(sites, [prefers_annexe], [available("ana", TUESDAY, "am")])
    solution = solved(p)
    assert set(solution.assignments) == {session("ana", "annexe", TUESDAY, "am")}
    assert cost(solution, "use_preferred_sites") == 0


def test_no_site_preference_costs_nothing():
    sites = [site("laval", target={"tue-am": 1})]
    p = problem(sites, [clinician("ana")], [available("ana", TUESDAY, "am")])
    assert cost(solved(p), "use_preferred_sites") == 0
