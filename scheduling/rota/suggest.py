"""Who could take a session: candidates for one site and half-day, best first.

Used when a coordinator empties a session or selects a slot. A candidate must break no hard
rule if added to the current rota; the score is how much adding them lowers the objective
(the same weights as the solver), so the ranking agrees with what a re-solve would prefer.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from scheduling.rota.domain import Assignment, Candidate, Problem, SessionKey
from scheduling.rota.halfdays import iso_week
from scheduling.rota.index import ProblemIndex
from scheduling.rota.weights import (
    WEIGHT_ABOVE_SITE_TARGET,
    WEIGHT_CHANGE,
    WEIGHT_NOT_PREFERRED,
    WEIGHT_NOT_PREFERRED_SITE,
    WEIGHT_OVER_WEEKLY_TARGET,
    WEIGHT_TRAVEL_PER_KM,
    WEIGHT_UNDER_WEEKLY_TARGET,
    WEIGHT_UNMET_TARGET,
)


def suggest_candidates(
    problem: Problem,
    assignments: Iterable[Assignment],
    site_id: str,
    date: dt.date,
    period: str,
) -> list[Candidate]:
    """Clinicians who could be added at ``site_id`` on ``date`` ``period``, best first.

    ``score`` is the drop of the objective if they are added (higher is better); ``notes`` say
    why, in French (``préfère ce créneau``, ``12 km``, ``déjà 3/4 séances cette semaine``).
    Nobody is returned when the site is closed or its rooms are full.
    """
    idx = ProblemIndex(problem)
    site = idx.site(site_id)
    sessions = set(assignments)
    if not idx.is_open(site, date, period) or not problem.start <= date <= problem.end:
        return []
    here = [s for s in sessions if s.site == site_id and s.date == date and s.period == period]
    if len(here) >= site.rooms:
        return []
    busy = {s.clinician for s in sessions if s.date == date and s.period == period}
    week = iso_week(date)
    weekly = Counter(s.clinician for s in sessions if iso_week(s.date) == week)
    supervisors = {s.clinician for s in here if idx.clinician(s.clinician).can_supervise}
    previous = idx.previous_in_horizon
    target = idx.target(site, date, period)
    site_gain = WEIGHT_UNMET_TARGET if len(here) < target else -WEIGHT_ABOVE_SITE_TARGET

    found = []
    for clinician in problem.clinicians:
        session = SessionKey(clinician.id, site_id, date, period)
        if idx.filter_failures(session) or clinician.id in busy:
            continue
        n = weekly[clinician.id]
        if n >= clinician.max_per_week:
            continue
        if clinician.needs_supervisor and not supervisors - {clinician.id}:
            continue

        score = site_gain
        notes = []
        if idx.level.get((clinician.id, date, period)) == "preferred":
            notes.append("préfère ce créneau")
        else:
            score -= WEIGHT_NOT_PREFERRED
            notes.append("disponible (sans préférence)")
        if clinician.preferred_sites:
            if site_id in clinician.preferred_sites:
                notes.append("antenne préférée")
            else:
                score -= WEIGHT_NOT_PREFERRED_SITE
        if clinician.home is not None:
            km = idx.km(clinician.id, site_id)
            score -= WEIGHT_TRAVEL_PER_KM * km
            notes.append(f"{km} km")
        goal = idx.weekly_goal(clinician, week)
        notes.append(f"déjà {n}/{clinician.max_per_week} séance(s) cette semaine")
        if n < goal:
            score += WEIGHT_UNDER_WEEKLY_TARGET * (goal - n)
            notes.append(f"sous son objectif hebdomadaire ({n}/{clinician.target_per_week})")
        if n >= clinician.target_per_week:
            score -= WEIGHT_OVER_WEEKLY_TARGET
            notes.append(f"au-delà de son objectif hebdomadaire ({clinician.target_per_week})")
        if previous:
            first, last = idx.previous_span
            if session in previous:
                score += WEIGHT_CHANGE
                notes.append("était sur ce créneau dans le planning publié")
            elif first <= date <= last:
                score -= WEIGHT_CHANGE
                notes.append("modifie le planning publié")
        if clinician.can_supervise:
            notes.append("peut superviser un interne")
        found.append(Candidate(clinician.id, score, tuple(notes)))
    order = {c.id: i for i, c in enumerate(problem.clinicians)}
    return sorted(found, key=lambda c: (-c.score, order[c.clinician]))
