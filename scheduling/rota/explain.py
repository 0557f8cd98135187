"""Why a target session stays empty, and why a problem has no rota at all — in French.

Unmet targets are explained from the rota itself: for each empty target session, who passes the
input filters (available, allowed at the site, site open) and what keeps each of them away
(already elsewhere, weekly maximum reached, an intern with no supervisor on site, rooms full).

Infeasibility can only come from pinned sessions (an empty rota breaks no hard rule). It is
explained with CP-SAT assumptions: the model is rebuilt with one assumption literal per input
group (each pin, each site's rooms, each clinician's weekly maximum, ...), CP-SAT returns a
sufficient set with ``sufficient_assumptions_for_infeasibility``, and a deletion pass shrinks it
to a minimal one (removing any single element makes the rest feasible).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable

from ortools.sat.python import cp_model

from scheduling.rota.constraints import build_model
from scheduling.rota.domain import Assignment, Problem, SessionKey, Unmet
from scheduling.rota.halfdays import iso_week
from scheduling.rota.index import ProblemIndex

NO_ONE_AVAILABLE = "Personne n'est disponible sur ce site ce créneau"
ROOMS_FULL = "Salles pleines : {n} séance(s) pour {rooms} salle(s)"
ALL_AT_MAXIMUM = "Toutes les personnes disponibles ont atteint leur maximum hebdomadaire : {who}"
SOME_AT_MAXIMUM = "Maximum hebdomadaire atteint : {who}"
INTERN_WITHOUT_SUPERVISOR = "Interne sans superviseur en séance sur le site : {who}"
BUSY_ELSEWHERE = "Déjà en séance ailleurs ce créneau : {who}"
STILL_FREE = "Encore libre(s), non placé(s) au profit d'autres règles : {who}"
NOT_ALLOWED_HERE = "{n} personne(s) disponible(s) ce créneau mais non autorisée(s) sur ce site"


def unmet_targets(problem: Problem, assignments: Iterable[Assignment]) -> list[Unmet]:
    """Every target session left empty, with its reasons in French, in time order."""
    sessions = set(assignments)
    idx = ProblemIndex(problem)
    here: Counter = Counter((s.site, s.date, s.period) for s in sessions)
    where: dict[tuple, str] = {(s.clinician, s.date, s.period): s.site for s in sessions}
    weekly: Counter = Counter((s.clinician, iso_week(s.date)) for s in sessions)
    supervisors: dict[tuple, set[str]] = defaultdict(set)
    for s in sessions:
        if idx.clinician(s.clinician).can_supervise:
            supervisors[(s.site, s.date, s.period)].add(s.clinician)

    found = []
    for date, period in idx.half_days:
        for site in problem.sites:
            target = idx.target(site, date, period)
            n = here[(site.id, date, period)]
            if n >= target:
                continue
            reasons = []
            if n >= site.rooms:
                reasons.append(ROOMS_FULL.format(n=n, rooms=site.rooms))
            at_max, no_supervisor, elsewhere, free = [], [], [], []
            for clinician in problem.clinicians:
                if (clinician.id, date, period) in where and where[(clinician.id, date, period)] == site.id:
                    continue
                if idx.filter_failures(SessionKey(clinician.id, site.id, date, period)):
                    continue
                if (clinician.id, date, period) in where:
                    other = idx.site(where[(clinician.id, date, period)]).name
                    elsewhere.append(f"{clinician.name} ({other})")
                elif weekly[(clinician.id, iso_week(date))] >= clinician.max_per_week:
                    at_max.append(
                        f"{clinician.name} ({weekly[(clinician.id, iso_week(date))]}/{clinician.max_per_week})"
                    )
                elif clinician.needs_supervisor and not supervisors[(site.id, date, period)] - {clinician.id}:
                    no_supervisor.append(clinician.name)
                else:
                    free.append(clinician.name)
            if not (at_max or no_supervisor or elsewhere or free):
                reasons.append(NO_ONE_AVAILABLE)
                elsewhere_allowed = sum(
                    1 for c in problem.clinicians if (c.id, date, period) in idx.level and site.id not in c.sites
                )
                if elsewhere_allowed:
                    reasons.append(NOT_ALLOWED_HERE.format(n=elsewhere_allowed))
            if at_max:
                template = ALL_AT_MAXIMUM if not (no_supervisor or elsewhere or free) else SOME_AT_MAXIMUM
                reasons.append(template.format(who=", ".join(at_max)))
            if no_supervisor:
                reasons.append(INTERN_WITHOUT_SUPERVISOR.format(who=", ".join(no_supervisor)))
            if elsewhere:
                reasons.append(BUSY_ELSEWHERE.format(who=", ".join(elsewhere)))
            if free and n < site.rooms:
                reasons.append(STILL_FREE.format(who=", ".join(free)))
            found.append(Unmet(site.id, date, period, target - n, tuple(reasons)))
    return found


# --- infeasibility ---------------------------------------------------------------------------


def conflicts(problem: Problem, *, time_limit_s: float = 10.0, seed: int = 0, workers: int = 8) -> list[str]:
    """A minimal set of conflicting inputs, in French (empty when the problem is feasible).

    Pins come first, then the other input groups, each in a stable order.
    """
    deadline = time.perf_counter() + time_limit_s
    builder = build_model(problem, explain=True)
    label_of = {lit.index: label for lit, label in builder.guards.values()}
    order = {lit.index: i for i, (lit, _label) in enumerate(builder.guards.values())}
    by_index = {lit.index: lit for lit, _label in builder.guards.values()}

    def infeasible_core(indices: list[int]) -> list[int] | None:
        """The core CP-SAT found when these assumptions are infeasible, else None."""
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return None
        builder.model.clear_assumptions()
        builder.model.add_assumptions([by_index[i] for i in indices])
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = remaining
        solver.parameters.random_seed = seed
        solver.parameters.num_workers = workers
        if solver.solve(builder.model) != cp_model.INFEASIBLE:
            return None
        core = [i for i in solver.sufficient_assumptions_for_infeasibility() if i in by_index]
        return core or list(indices)

    core = infeasible_core(sorted(by_index))
    if core is None:
        return []
    # Deletion pass: drop each element in turn; keep it out when the rest is still infeasible.
    for candidate in sorted(core, key=order.__getitem__):
        if candidate not in core:
            continue
        rest = [i for i in core if i != candidate]
        smaller = infeasible_core(rest)
        if smaller is not None:
            core = [i for i in rest if i in set(smaller)]
    return [label_of[i] for i in sorted(core, key=_pins_first(label_of, order))]


def _pins_first(label_of: dict[int, str], order: dict[int, int]):
    return lambda i: (not label_of[i].startswith("Séance imposée"), order[i])
