"""The assignment keeps every rule: priority, capacity, perimeter, home visits, PMR, reasons."""

from datetime import date

from scheduling.matching import Problem, solve
from scheduling.matching.validation import check_solution
from tests.scheduling.matching.helpers import LAVAL, doctor, loads, north_of, patient


def assigned(solution):
    return {a.patient: a.doctor for a in solution.assignments}


def test_a_farther_tier_1_patient_takes_the_last_place_over_a_nearer_tier_3():
    problem = Problem(
        doctors=(doctor("d1", capacity=1, radius_km=30),),
        patients=(
            patient("near", north_of(LAVAL, 1), age=40),
            patient("far_ald", north_of(LAVAL, 20), ald=True),
        ),
    )
    solution = solve(problem)
    assert assigned(solution) == {"far_ald": "d1"}
    assert [(u.patient, u.code) for u in solution.unassigned] == [("near", "capacity")]


def test_a_tier_2_patient_beats_a_tier_3_and_loses_to_a_tier_1():
    problem = Problem(
        doctors=(doctor("d1", capacity=2),),
        patients=(
            patient("t3", north_of(LAVAL, 1)),
            patient("t2", north_of(LAVAL, 9), age=8),
            patient("t1", north_of(LAVAL, 25), fragile=True),
        ),
    )
    assert set(assigned(solve(problem))) == {"t1", "t2"}


def test_more_patients_beat_a_shorter_total_distance():
    # "a" alone at 1 km would be cheapest; "a" at 20 km lets "b" in too.
    d_near, d_far = north_of(LAVAL, 0), north_of(LAVAL, 21)
    problem = Problem(
        doctors=(doctor("A", d_near, capacity=1, radius_km=5), doctor("B", d_far, capacity=1, radius_km=25)),
        patients=(patient("a", north_of(LAVAL, 1)), patient("b", north_of(LAVAL, 2), needs_pmr=True)),
    )
    problem = Problem(
        doctors=(
            problem.doctors[0].__class__(**{**_fields(problem.doctors[0]), "pmr": True}),
            problem.doctors[1],
        ),
        patients=problem.patients,
    )
    solution = solve(problem)
    assert assigned(solution) == {"a": "B", "b": "A"}


def _fields(d):
    return {f: getattr(d, f) for f in d.__slots__}


def test_among_equal_priorities_the_total_distance_is_the_least():
    problem = Problem(
        doctors=(
            doctor("north", north_of(LAVAL, 10), capacity=1),
            doctor("south", north_of(LAVAL, -10), capacity=1),
        ),
        patients=(patient("n", north_of(LAVAL, 9)), patient("s", north_of(LAVAL, -9))),
    )
    solution = solve(problem)
    assert assigned(solution) == {"n": "north", "s": "south"}
    assert abs(solution.objective.total_km - 2.0) < 0.01


def test_the_longest_wait_takes_the_place_among_interchangeable_patients():
    place = north_of(LAVAL, 3)
    problem = Problem(
        doctors=(doctor("d1", capacity=1),),
        patients=(
            patient("recent", place, waiting_since=date(2026, 1, 5)),
            patient("unknown", place),
            patient("oldest", place, waiting_since=date(2024, 11, 2)),
        ),
    )
    assert assigned(solve(problem)) == {"oldest": "d1"}


def test_no_doctor_takes_more_patients_than_their_places():
    problem = Problem(
        doctors=(
            doctor("d1", capacity=3),
            doctor("d2", north_of(LAVAL, 5), capacity=2),
            doctor("d0", capacity=0),
        ),
        patients=tuple(patient(f"p{i}", north_of(LAVAL, i % 7)) for i in range(20)),
    )
    solution = solve(problem)
    assert loads(solution) == {"d1": 3, "d2": 2}
    assert solution.remaining == {"d1": 0, "d2": 0, "d0": 0}
    assert not check_solution(problem, solution)


def test_a_patient_just_outside_the_radius_is_not_assigned_and_one_just_inside_is():
    problem = Problem(
        doctors=(doctor("d1", radius_km=20),),
        patients=(patient("inside", north_of(LAVAL, 19.99)), patient("outside", north_of(LAVAL, 20.01))),
    )
    solution = solve(problem)
    assert assigned(solution) == {"inside": "d1"}
    assert [(u.patient, u.code, u.reason) for u in solution.unassigned] == [
        ("outside", "out_of_reach", "aucun médecin dans le rayon")
    ]


def test_a_patient_who_needs_home_visits_goes_to_a_farther_doctor_who_does_them():
    problem = Problem(
        doctors=(doctor("near", north_of(LAVAL, 1)), doctor("visits", north_of(LAVAL, 15), home_visits=True)),
        patients=(patient("p", LAVAL, needs_home_visit=True),),
    )
    assert assigned(solve(problem)) == {"p": "visits"}


def test_a_patient_who_needs_pmr_goes_to_an_accessible_site():
    problem = Problem(
        doctors=(doctor("stairs", north_of(LAVAL, 1)), doctor("ramp", north_of(LAVAL, 12), pmr=True)),
        patients=(patient("p", LAVAL, needs_pmr=True),),
    )
    assert assigned(solve(problem)) == {"p": "ramp"}


def test_a_doctor_not_accepting_new_patients_gets_none():
    problem = Problem(doctors=(doctor("closed", accepting=False),), patients=(patient("p"),))
    solution = solve(problem)
    assert solution.assignments == ()
    assert solution.unassigned[0].code == "out_of_reach"


def test_a_perimeter_given_as_communes_admits_patients_of_those_communes_only():
    far = north_of(LAVAL, 60)
    problem = Problem(
        doctors=(doctor("d1", radius_km=None, communes=frozenset({"53130"})),),
        patients=(patient("laval", far, commune="53130"), patient("other", LAVAL, commune="53062")),
    )
    solution = solve(problem)
    assert assigned(solution) == {"laval": "d1"}
    assert solution.proposals["laval"][0].reasons[0] == "à 60 km, commune dans son périmètre"


def test_each_unassigned_patient_gets_the_reason_that_applies():
    full = doctor("full", capacity=0, home_visits=False, pmr=False)
    visits = doctor("visits", north_of(LAVAL, 5), capacity=0, home_visits=True, pmr=False)
    ramp = doctor("ramp", north_of(LAVAL, -5), capacity=0, home_visits=False, pmr=True)
    problem = Problem(
        doctors=(full, visits, ramp),
        patients=(
            patient("far", north_of(LAVAL, 100)),
            patient("both", needs_home_visit=True, needs_pmr=True),
            patient("plain"),
        ),
    )
    solution = solve(problem)
    codes = {u.patient: (u.code, u.reason) for u in solution.unassigned}
    assert codes == {
        "far": ("out_of_reach", "aucun médecin dans le rayon"),
        "both": (
            "no_home_visits_pmr",
            "aucun médecin à portée ne fait les visites à domicile avec un cabinet accessible PMR",
        ),
        "plain": ("capacity", "capacité des médecins à portée épuisée"),
    }
    only_stairs = Problem(
        doctors=(full,), patients=(patient("hv", needs_home_visit=True), patient("pmr", needs_pmr=True))
    )
    codes = {u.patient: (u.code, u.reason) for u in solve(only_stairs).unassigned}
    assert codes == {
        "hv": ("no_home_visits", "aucun médecin faisant des visites à domicile à portée"),
        "pmr": ("no_pmr", "aucun cabinet accessible PMR à portée"),
    }


def test_assignments_are_listed_in_priority_order_for_confirmation():
    problem = Problem(
        doctors=(doctor("d1", capacity=10),),
        patients=(
            patient("t3"),
            patient("t2_recent", age=70, waiting_since=date(2026, 2, 1)),
            patient("t1", ald=True),
            patient("t2_old", c2s=True, waiting_since=date(2025, 2, 1)),
        ),
    )
    assert [a.patient for a in solve(problem).assignments] == ["t1", "t2_old", "t2_recent", "t3"]


def test_an_empty_problem_is_solved_with_nothing_to_do():
    solution = solve(Problem(doctors=(), patients=()))
    assert (solution.status, solution.assignments, solution.unassigned, solution.proposals) == (
        "OPTIMAL",
        (),
        (),
        {},
    )
    lonely = solve(Problem(doctors=(), patients=(patient("p"),)))
    assert lonely.unassigned[0].code == "out_of_reach"
