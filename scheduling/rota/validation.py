"""Solver-independent re-check of a rota: every hard rule, and the objective recomputed.

Nothing here imports OR-Tools: the checks read the :class:`Problem` and a list of sessions
with plain Python, so a bug in the CP-SAT model cannot hide in its own check. The app runs
:func:`check` on every solution before showing it; the tests assert that the solver's objective
equals :func:`objective`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from scheduling.rota import index as ix
from scheduling.rota import weights as w
from scheduling.rota.domain import Assignment, Penalty, Problem, SessionKey, Violation
from scheduling.rota.halfdays import IsoWeek, format_half_day_fr, format_half_day_key_fr, format_week_fr, iso_week
from scheduling.rota.index import ProblemIndex


def _where(problem: Problem, s: SessionKey) -> str:
    clinician = problem.clinician_by_id[s.clinician].name
    site = problem.site_by_id[s.site].name
    return f"{clinician} à {site} le {format_half_day_fr(s.date, s.period)}"


def check(problem: Problem, assignments: Iterable[Assignment]) -> list[Violation]:
    """Every broken hard rule, in French, with the English rule id; empty when the rota is valid."""
    sessions = list(assignments)
    idx = ProblemIndex(problem)
    violations: list[Violation] = []

    known = []
    for s in sessions:
        if s.clinician not in problem.clinician_by_id or s.site not in problem.site_by_id:
            violations.append(
                Violation("known_references", f"Séance inconnue : {s.clinician} / {s.site} n'existe pas", s)
            )
        else:
            known.append(s)

    for s in known:
        failures = idx.filter_failures(s)
        where = _where(problem, s)
        if ix.OUTSIDE_HORIZON in failures:
            violations.append(Violation("works_only_declared_half_days", f"Hors période : {where}", s))
        if ix.NOT_AVAILABLE in failures:
            violations.append(
                Violation("works_only_declared_half_days", f"Demi-journée non déclarée disponible : {where}", s)
            )
        if ix.SITE_CLOSED in failures:
            violations.append(
                Violation(
                    "only_open_half_days_never_holidays",
                    f"Site fermé le {format_half_day_key_fr(s.key)} : {where}",
                    s,
                )
            )
        if ix.HOLIDAY in failures:
            violations.append(Violation("only_open_half_days_never_holidays", f"Jour férié : {where}", s))
        if ix.SITE_NOT_ALLOWED in failures:
            violations.append(Violation("only_allowed_sites", f"Site non autorisé : {where}", s))

    per_half_day = defaultdict(list)
    for s in known:
        per_half_day[(s.clinician, s.date, s.period)].append(s)
    for (clinician_id, date, period), group in sorted(per_half_day.items()):
        if len(group) > 1:
            name = problem.clinician_by_id[clinician_id].name
            violations.append(
                Violation(
                    "one_session_per_half_day",
                    f"{name} a {len(group)} séances le {format_half_day_fr(date, period)}",
                    group[1],
                )
            )

    per_site = Counter((s.site, s.date, s.period) for s in known)
    for (site_id, date, period), n in sorted(per_site.items()):
        site = problem.site_by_id[site_id]
        if n > site.rooms:
            violations.append(
                Violation(
                    "sessions_within_site_rooms",
                    f"{site.name} le {format_half_day_fr(date, period)} : {n} séances pour {site.rooms} salle(s)",
                )
            )

    per_week = Counter((s.clinician, iso_week(s.date)) for s in known)
    for (clinician_id, week), n in sorted(per_week.items()):
        clinician = problem.clinician_by_id[clinician_id]
        if n > clinician.max_per_week:
            violations.append(
                Violation(
                    "weekly_maximum_respected",
                    f"{clinician.name}, {format_week_fr(week)} : {n} séances pour un maximum de "
                    f"{clinician.max_per_week}",
                )
            )

    supervisors_present = defaultdict(set)
    for s in known:
        if problem.clinician_by_id[s.clinician].can_supervise:
            supervisors_present[(s.site, s.date, s.period)].add(s.clinician)
    for s in known:
        if not problem.clinician_by_id[s.clinician].needs_supervisor:
            continue
        supervised = bool(supervisors_present[(s.site, s.date, s.period)] - {s.clinician})
        if not supervised:
            violations.append(
                Violation(
                    "intern_needs_supervisor_on_site", f"Interne sans superviseur sur place : {_where(problem, s)}", s
                )
            )

    present = set(known)
    for pin in problem.pinned:
        if pin.clinician not in problem.clinician_by_id or pin.site not in problem.site_by_id:
            message = f"Séance imposée inconnue : {pin.clinician} / {pin.site} n'existe pas"
            violations.append(Violation("known_references", message, pin))
        elif pin not in present:
            violations.append(
                Violation("pinned_sessions_are_kept", f"Séance imposée absente : {_where(problem, pin)}", pin)
            )
    return violations


# --- objective -------------------------------------------------------------------------------


def penalties(problem: Problem, assignments: Iterable[Assignment]) -> list[Penalty]:
    """Which soft rule cost what, and where (French details), for any list of sessions.

    Costs use the weights of :mod:`scheduling.rota.constraints` but are computed here from the
    sessions alone. Entries with a zero cost are left out.
    """
    sessions = sorted(set(assignments))
    idx = ProblemIndex(problem)
    found: list[Penalty] = []

    per_site = Counter((s.site, s.date, s.period) for s in sessions)
    for site in problem.sites:
        for date, period in idx.half_days:
            target = idx.target(site, date, period)
            missing = target - per_site.get((site.id, date, period), 0)
            if missing > 0:
                found.append(
                    Penalty(
                        "meet_site_targets",
                        w.WEIGHT_UNMET_TARGET * missing,
                        f"{site.name}, {format_half_day_fr(date, period)} : {missing} séance(s) manquante(s) "
                        f"sur {target}",
                    )
                )

    by_clinician: dict[str, list[SessionKey]] = defaultdict(list)
    for s in sessions:
        by_clinician[s.clinician].append(s)
    for clinician in problem.clinicians:
        mine = by_clinician.get(clinician.id, [])
        not_preferred = [s for s in mine if idx.level.get((s.clinician, s.date, s.period)) != "preferred"]
        if not_preferred:
            found.append(
                Penalty(
                    "use_preferred_half_days",
                    w.WEIGHT_NOT_PREFERRED * len(not_preferred),
                    f"{clinician.name} : {len(not_preferred)} séance(s) sur des demi-journées non préférées",
                )
            )

    for clinician in problem.clinicians:
        if not clinician.preferred_sites:
            continue
        elsewhere = [s for s in by_clinician.get(clinician.id, []) if s.site not in clinician.preferred_sites]
        if elsewhere:
            found.append(
                Penalty(
                    "use_preferred_sites",
                    w.WEIGHT_NOT_PREFERRED_SITE * len(elsewhere),
                    f"{clinician.name} : {len(elsewhere)} séance(s) hors de ses antennes préférées",
                )
            )

    for clinician in problem.clinicians:
        counts: Counter[IsoWeek] = Counter(iso_week(s.date) for s in by_clinician.get(clinician.id, []))
        for week in idx.weeks:
            n = counts.get(week, 0)
            goal = idx.weekly_goal(clinician, week)
            under = max(0, goal - n)
            over = max(0, n - clinician.target_per_week)
            cost = w.WEIGHT_UNDER_WEEKLY_TARGET * under * (under + 1) // 2 + w.WEIGHT_OVER_WEEKLY_TARGET * over
            if cost:
                found.append(
                    Penalty(
                        "keep_clinicians_near_weekly_target",
                        cost,
                        f"{clinician.name}, {format_week_fr(week)} : {n} séance(s) pour un objectif de "
                        f"{clinician.target_per_week}"
                        + (f" (atteignable : {goal})" if goal < clinician.target_per_week else ""),
                    )
                )

    for clinician in problem.clinicians:
        mine = by_clinician.get(clinician.id, [])
        km = sum(idx.km(s.clinician, s.site) for s in mine if s.site in problem.site_by_id)
        if km:
            found.append(
                Penalty(
                    "little_travel_from_home",
                    w.WEIGHT_TRAVEL_PER_KM * km,
                    f"{clinician.name} : {km} km de trajet (aller) sur {len(mine)} séance(s)",
                )
            )

    previous = idx.previous_in_horizon
    if previous:
        first, last = idx.previous_span
        current = set(sessions)
        for s in sorted(previous - current):
            found.append(Penalty("few_changes_from_previous", w.WEIGHT_CHANGE, f"Retirée : {_where(problem, s)}"))
        for s in sessions:
            if s not in previous and first <= s.date <= last:
                found.append(Penalty("few_changes_from_previous", w.WEIGHT_CHANGE, f"Ajoutée : {_where(problem, s)}"))

    for (site_id, date, period), n in sorted(per_site.items()):
        site = problem.site_by_id[site_id]
        target = idx.target(site, date, period)
        if n > target:
            found.append(
                Penalty(
                    "avoid_sessions_above_target",
                    w.WEIGHT_ABOVE_SITE_TARGET * (n - target),
                    f"{site.name}, {format_half_day_fr(date, period)} : {n} séances pour un objectif de {target}",
                )
            )
    return found


def objective(problem: Problem, assignments: Iterable[Assignment]) -> int:
    """The weighted objective of a rota, recomputed without the solver."""
    return sum(p.cost for p in penalties(problem, assignments))


def cost_by_rule(found: Iterable[Penalty]) -> dict[str, int]:
    totals: dict[str, int] = dict.fromkeys(w.SOFT_RULES, 0)
    for p in found:
        totals[p.rule] = totals.get(p.rule, 0) + p.cost
    return totals


def coverage(problem: Problem, assignments: Iterable[Assignment]) -> tuple[int, int]:
    """(target sessions covered, target sessions wanted) over the horizon."""
    idx = ProblemIndex(problem)
    per_site = Counter((s.site, s.date, s.period) for s in set(assignments))
    covered = wanted = 0
    for site in problem.sites:
        for date, period in idx.half_days:
            target = idx.target(site, date, period)
            wanted += target
            covered += min(target, per_site.get((site.id, date, period), 0))
    return covered, wanted
