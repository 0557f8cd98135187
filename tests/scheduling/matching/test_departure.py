"""When a clinician leaves, their panel is re-assigned to the others, priority patients first."""

from datetime import date

import pytest

from scheduling.matching import Problem, reassign_departing
from tests.scheduling.matching.helpers import LAVAL, doctor, north_of, patient


def _problem():
    return Problem(
        doctors=(
            doctor("leaving", LAVAL, capacity=50),
            doctor("stays", north_of(LAVAL, 8), capacity=2),
            doctor("other", north_of(LAVAL, -30), capacity=5, radius_km=10),
        ),
        patients=(patient("waiting"),),
    )


def test_the_departing_doctors_priority_patients_get_the_places_first():
    panel = [
        patient("plain_old_wait", waiting_since=date(2020, 1, 1)),
        patient("child", age=6),
        patient("ald", ald=True),
    ]
    solution = reassign_departing(_problem(), "leaving", panel)
    assert [(a.patient, a.doctor, a.tier) for a in solution.assignments] == [
        ("ald", "stays", 1),
        ("child", "stays", 2),
    ]
    assert [(u.patient, u.code) for u in solution.unassigned] == [("plain_old_wait", "capacity")]
    assert solution.remaining == {"stays": 0, "other": 5}


def test_the_departing_doctor_and_the_waiting_list_are_left_out():
    solution = reassign_departing(_problem(), "leaving", [patient("a")])
    assert {a.doctor for a in solution.assignments} == {"stays"}
    assert set(solution.proposals) == {"a"}


def test_an_unknown_departing_doctor_is_refused():
    with pytest.raises(ValueError, match="médecin inconnu"):
        reassign_departing(_problem(), "nobody", [])
