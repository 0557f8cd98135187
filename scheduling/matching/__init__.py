"""Patients without a GP → referring doctors: an exact, sparse min-cost flow (see docs/matching.md).

The app calls::

    problem = parse_problem(json_data)            # or load_problem(path); ProblemFormatError
    solution = solve(problem)                     # exact lexicographic optimum
    payload = solution_to_json(solution)          # format v1
    proposals = propose(patient, census_gps, k=3) # CPTS: 2–3 GPs that fit, with reasons
    solution = reassign_departing(problem, "d7", panel)

and, for ``smp bench``, ``scheduling.matching.bench.run_benchmark`` / ``format_table``.
"""

from scheduling.matching.departure import reassign_departing
from scheduling.matching.domain import (
    Assignment,
    Doctor,
    Objective,
    Patient,
    Problem,
    Proposal,
    Solution,
    Unassigned,
    tier,
)
from scheduling.matching.flow import REASONS, MatchingError, solve
from scheduling.matching.formats import (
    ProblemFormatError,
    load_problem,
    parse_problem,
    problem_to_json,
    solution_to_json,
)
from scheduling.matching.proposals import propose
from scheduling.matching.validation import certify, check_solution

__all__ = [
    "REASONS",
    "Assignment",
    "Doctor",
    "MatchingError",
    "Objective",
    "Patient",
    "Problem",
    "ProblemFormatError",
    "Proposal",
    "Solution",
    "Unassigned",
    "certify",
    "check_solution",
    "load_problem",
    "parse_problem",
    "problem_to_json",
    "propose",
    "reassign_departing",
    "solution_to_json",
    "solve",
    "tier",
]
