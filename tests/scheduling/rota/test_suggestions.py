"""Who could take a session, best first, and never someone who would break a hard rule."""

from __future__ import annotations

from scheduling.rota import validation
from scheduling.rota.bench import make_instance
from scheduling.rota.greedy import first_fit
from scheduling.rota.suggest import suggest_candidates

from .helpers import MAYENNE, TUESDAY, WEDNESDAY, available, clinician, problem, session, site


def names(candidates) -> list[str]:
    return [c.clinician for c in candidates]


def test_the_clinician_who_prefers_the_slot_and_lives_near_comes_first():
    p = problem(
        [site(target={"tue-am": 1})],
        [
            clinician("far", home=MAYENNE),
            clinician("near", home=(48.07, -0.76)),
            clinician("keen", home=(48.07, -0.76)),
        ],
        [
            available("far", TUESDAY, "am"),
            available("near", TUESDAY, "am"),
            available("keen", TUESDAY, "am", "preferred"),
        ],
    )
    candidates = suggest_candidates(p, [], "laval", TUESDAY, "am")
    assert names(candidates) == ["keen", "near", "far"]
    assert candidates[0].notes[:2] == ("préfère ce créneau", "1 km")
    assert candidates[2].notes[1] == "30 km"  # Mayenne to Laval, as the crow flies


def test_someone_below_their_weekly_target_comes_before_someone_above_it():
    p = problem(
        [site(target={"tue-am": 1, "wed-am": 1}, open_=["tue-am", "wed-am"])],
        [clinician("busy", max_per_week=4, target_per_week=1), clinician("idle", max_per_week=4, target_per_week=2)],
        [available(c, d, "am") for c in ("busy", "idle") for d in (TUESDAY, WEDNESDAY)],
    )
    candidates = suggest_candidates(p, [session("busy", "laval", WEDNESDAY)], "laval", TUESDAY, "am")
    assert names(candidates) == ["idle", "busy"]
    assert "déjà 1/4 séance(s) cette semaine" in candidates[1].notes
    assert "au-delà de son objectif hebdomadaire (1)" in candidates[1].notes
    assert "sous son objectif hebdomadaire (0/2)" in candidates[0].notes


def test_anyone_who_would_break_a_hard_rule_is_left_out():
    sites = [site("laval", target={"tue-am": 3}), site("mayenne", where=MAYENNE)]
    people = [
        clinician("elsewhere", sites=("laval", "mayenne")),
        clinician("maxed", max_per_week=1),
        clinician("not_allowed", sites=("mayenne",)),
        clinician("unavailable"),
        clinician("ines", role="intern"),
        clinician("free"),
    ]
    availability = [available(c.id, TUESDAY, "am") for c in people if c.id != "unavailable"]
    availability.append(available("maxed", WEDNESDAY, "am"))
    p = problem(sites, people, availability)
    current = [session("elsewhere", "mayenne"), session("maxed", "laval", WEDNESDAY)]
    assert names(suggest_candidates(p, current, "laval", TUESDAY, "am")) == ["free"]


def test_an_intern_is_suggested_once_a_supervisor_is_in_session_there():
    p = problem(
        [site(target={"tue-am": 2})],
        [clinician("ines", role="intern"), clinician("sam", supervisor=True)],
        [available("ines", TUESDAY, "am"), available("sam", TUESDAY, "am")],
    )
    assert names(suggest_candidates(p, [], "laval", TUESDAY, "am")) == ["sam"]
    assert names(suggest_candidates(p, [session("sam", "laval")], "laval", TUESDAY, "am")) == ["ines"]


def test_nobody_is_suggested_when_the_rooms_are_full_or_the_site_is_closed():
    p = problem(
        [site(rooms=1)], [clinician("ana"), clinician("bob")], [available(c, TUESDAY, "am") for c in ("ana", "bob")]
    )
    assert suggest_candidates(p, [session("ana", "laval")], "laval", TUESDAY, "am") == []
    assert suggest_candidates(p, [], "laval", TUESDAY, "pm") == []


def test_the_score_is_exactly_how_much_the_objective_drops():
    p = make_instance("demo", seed=3)
    current = first_fit(p)
    before = validation.objective(p, current)
    checked = 0
    for s in current[::9]:
        emptied = [x for x in current if x != s]
        for candidate in suggest_candidates(p, emptied, s.site, s.date, s.period):
            added = [*emptied, session(candidate.clinician, s.site, s.date, s.period)]
            assert validation.check(p, added) == []
            assert candidate.score == validation.objective(p, emptied) - validation.objective(p, added)
            checked += 1
    assert checked > 10 and before > 0


def test_a_resolve_suggestion_favours_the_published_clinician():
    people = [clinician("ana"), clinician("bob")]
    availability = [available("ana", TUESDAY, "am", "preferred"), available("bob", TUESDAY, "am")]
    p = problem([site()], people, availability, previous=[session("bob", "laval")])
    candidates = suggest_candidates(p, [], "laval", TUESDAY, "am")
    assert names(candidates) == ["bob", "ana"]
    assert "était sur ce créneau dans le planning publié" in candidates[0].notes
