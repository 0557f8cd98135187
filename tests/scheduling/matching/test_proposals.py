"""Proposals: 2–3 doctors per patient with distances and reasons, for the SMP and the CPTS."""

import random

from scheduling.matching import Problem, propose, solve
from tests.scheduling.matching.helpers import LAVAL, doctor, north_of, patient, random_problem


def _ids(props):
    return [p.doctor for p in props]


def test_an_assigned_patient_sees_their_doctor_first_then_the_nearest_with_places_then_full_ones():
    problem = Problem(
        doctors=(
            doctor("full_near", north_of(LAVAL, 1), capacity=0),
            doctor("chosen", north_of(LAVAL, 2), capacity=1),
            doctor("free_far", north_of(LAVAL, 9), capacity=5),
            doctor("free_mid", north_of(LAVAL, 6), capacity=5),
        ),
        patients=(patient("p", LAVAL),),
        proposals=3,
    )
    props = solve(problem).proposals["p"]
    assert _ids(props) == ["chosen", "free_mid", "free_far"]
    assert props[0].assigned and props[0].reasons[-1] == "place attribuée par l'affectation"
    assert props[1].reasons == ("à 6 km (rayon de 30 km)", "accepte de nouveaux patients (5 places libres)")
    assert [round(p.km, 1) for p in props] == [2.0, 6.0, 9.0]


def test_an_unassigned_patient_is_offered_the_nearest_full_doctors():
    problem = Problem(
        doctors=(
            doctor("b", north_of(LAVAL, 3), capacity=0),
            doctor("a", north_of(LAVAL, 2), capacity=0),
            doctor("c", north_of(LAVAL, 8), capacity=0),
        ),
        patients=(patient("p"),),
        proposals=2,
    )
    props = solve(problem).proposals["p"]
    assert _ids(props) == ["a", "b"]
    assert all(not p.has_capacity and p.reasons[-1] == "liste complète pour le moment" for p in props)


def test_the_number_of_proposals_follows_the_problem_and_the_doctors_in_reach():
    doctors = tuple(doctor(f"d{i}", north_of(LAVAL, i)) for i in range(5))
    for k in (0, 1, 2, 3):
        solution = solve(Problem(doctors=doctors, patients=(patient("p"),), proposals=k))
        assert len(solution.proposals.get("p", ())) == k
    lonely = solve(Problem(doctors=doctors[:1], patients=(patient("p"), patient("out", north_of(LAVAL, 99)))))
    assert len(lonely.proposals["p"]) == 1
    assert lonely.proposals["out"] == ()


def test_proposals_name_the_needs_they_meet():
    problem = Problem(
        doctors=(doctor("d", home_visits=True, pmr=True, radius_km=25.5),),
        patients=(patient("p", north_of(LAVAL, 4.25), needs_home_visit=True, needs_pmr=True),),
    )
    (prop,) = solve(problem).proposals["p"]
    assert prop.reasons[:3] == (
        "à 4,3 km (rayon de 25,5 km)",
        "fait des visites à domicile",
        "cabinet accessible PMR",
    )


def test_cpts_proposals_keep_only_accepting_gps_who_fit_the_request():
    gps = (
        doctor("refuses", north_of(LAVAL, 1), capacity=None, accepting=False, home_visits=True),
        doctor("no_visits", north_of(LAVAL, 2), capacity=None),
        doctor("visits_far", north_of(LAVAL, 14), capacity=None, home_visits=True),
        doctor("visits_near", north_of(LAVAL, 5), capacity=None, home_visits=True),
        doctor("visits_out", north_of(LAVAL, 40), capacity=None, home_visits=True),
        doctor(
            "visits_town",
            north_of(LAVAL, 50),
            capacity=None,
            home_visits=True,
            radius_km=None,
            communes=frozenset({"53130"}),
        ),
    )
    request = patient("p", LAVAL, needs_home_visit=True, commune="53130")
    props = propose(request, gps, k=3)
    assert _ids(props) == ["visits_near", "visits_far", "visits_town"]
    assert props[0].reasons == (
        "à 5 km (rayon de 30 km)",
        "fait des visites à domicile",
        "accepte de nouveaux patients",
    )
    assert props[2].reasons[0] == "à 50 km, commune dans son périmètre"


def test_cpts_proposals_skip_full_gps_unless_asked():
    gps = (doctor("full", capacity=0), doctor("open", north_of(LAVAL, 3), capacity=2))
    assert _ids(propose(patient("p"), gps)) == ["open"]
    assert _ids(propose(patient("p"), gps, include_full=True)) == ["open", "full"]


def test_the_solver_proposals_equal_propose_with_the_places_left():
    rng = random.Random(7)
    for _ in range(60):
        problem = random_problem(rng, max_patients=12, max_doctors=5, max_capacity=3)
        solution = solve(problem)
        doctor_of = {a.patient: a.doctor for a in solution.assignments}
        for p in problem.patients:
            expected = propose(
                p,
                problem.doctors,
                k=problem.proposals,
                remaining=solution.remaining,
                include_full=True,
                assigned_to=doctor_of.get(p.id),
            )
            got = solution.proposals[p.id]
            assert [(x.doctor, x.reasons) for x in got] == [(x.doctor, x.reasons) for x in expected]
