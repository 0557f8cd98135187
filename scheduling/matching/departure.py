"""When a clinician leaves: their panel goes to the other doctors, priority patients first."""

from __future__ import annotations

from collections.abc import Iterable

from scheduling.matching.domain import Patient, Problem, Solution
from scheduling.matching.flow import solve


def reassign_departing(problem: Problem, departing_doctor_id: str, current_panel: Iterable[Patient]) -> Solution:
    """Re-assign the departing doctor's panel to the other doctors of ``problem``.

    ``problem.doctors`` gives the other doctors with their places left; ``problem.patients``
    (the waiting list) is not part of this solve — run the regular match afterwards with the
    places in ``solution.remaining``. The same exact objective applies, so the departing
    doctor's tier-1 patients get places first, then tier 2, then the others (the longest
    wait first within a place and tier), and ``solution.assignments`` lists them in that
    order for the coordinator to confirm.
    """
    others = tuple(d for d in problem.doctors if d.id != departing_doctor_id)
    if len(others) == len(problem.doctors):
        raise ValueError(f"médecin inconnu : {departing_doctor_id}")
    return solve(Problem(doctors=others, patients=tuple(current_panel), proposals=problem.proposals))
