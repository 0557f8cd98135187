"""The rota's rules: one function per rule, named as the rule.

Each function adds its part to a :class:`ModelBuilder` (a CP-SAT model plus the session
variables). Hard rules are constraints; soft rules add *exact* penalty terms to one weighted
objective (a penalty variable always equals the size of the violation, so the solver's
objective equals :func:`scheduling.rota.validation.objective` for every solution it reports,
not only at the optimum).

Hard rules 1, 4 and 7 are mostly enforced by sparsity: the builder only creates a variable for
a (clinician, site, half-day) that passes them. Their functions only bite on pinned sessions,
which always get a variable so that an impossible pin is reported, not silently dropped.

In *explain* mode every hard rule is guarded by an assumption literal per input group (one per
pin, per site's rooms, per clinician's weekly maximum, ...), so CP-SAT can name a small set of
conflicting inputs; the soft rules are left out.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeAlias

from ortools.sat.python import cp_model

from scheduling.rota import index as ix
from scheduling.rota.domain import Problem, SessionKey
from scheduling.rota.halfdays import IsoWeek, format_date_fr, format_half_day_fr, format_half_day_key_fr, iso_week
from scheduling.rota.index import ProblemIndex

# The weights live in a tiny module of their own so that validation reads them without OR-Tools;
# they are re-exported here, next to the rules that use them.
from scheduling.rota.weights import (
    HARD_RULES,  # noqa: F401  (re-exported: the rule ids, beside the rules)
    SOFT_RULES,  # noqa: F401
    WEIGHT_ABOVE_SITE_TARGET,
    WEIGHT_CHANGE,
    WEIGHT_NOT_PREFERRED,
    WEIGHT_NOT_PREFERRED_SITE,
    WEIGHT_OVER_WEEKLY_TARGET,
    WEIGHT_TRAVEL_PER_KM,
    WEIGHT_UNDER_WEEKLY_TARGET,
    WEIGHT_UNMET_TARGET,
)

Literal = cp_model.IntVar
Expr: TypeAlias = cp_model.LinearExpr | int


@dataclass
class ModelBuilder:
    """A CP-SAT model of one problem: session variables, guards, objective terms."""

    problem: Problem
    explain: bool = False
    model: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    x: dict[SessionKey, Literal] = field(default_factory=dict)
    guards: dict[str, tuple[Literal, str]] = field(default_factory=dict)
    """Explain mode: input-group id -> (assumption literal, French label)."""
    objective_terms: list[tuple[str, int, Expr]] = field(default_factory=list)
    """(rule, weight, expression): the objective is the weighted sum plus the constant below."""
    objective_constant: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def __post_init__(self) -> None:
        self.index = ProblemIndex(self.problem)
        self._counters: dict[tuple, Expr] = {}
        sessions = list(self.index.candidate_sessions)
        known = set(sessions)
        sessions += [s for s in dict.fromkeys(self.problem.pinned) if s not in known]
        for s in sessions:
            self.x[s] = self.model.new_bool_var(f"x[{s.clinician},{s.site},{s.date},{s.period}]")

    # --- groupings of the session variables ---

    @cached_property
    def by_clinician_half_day(self) -> dict[tuple[str, dt.date, str], list[SessionKey]]:
        return _group(self.x, lambda s: (s.clinician, s.date, s.period))

    @cached_property
    def by_site_half_day(self) -> dict[tuple[str, dt.date, str], list[SessionKey]]:
        return _group(self.x, lambda s: (s.site, s.date, s.period))

    @cached_property
    def by_clinician_week(self) -> dict[tuple[str, IsoWeek], list[SessionKey]]:
        return _group(self.x, lambda s: (s.clinician, iso_week(s.date)))

    def count(self, sessions: Sequence[SessionKey]) -> Expr:
        return sum(self.x[s] for s in sessions)

    def counter(self, key: tuple, sessions: Sequence[SessionKey], most: int) -> Expr:
        """An integer variable equal to the number of chosen ``sessions`` (at most ``most``),
        made once per key. Penalty steps are reified on it (``n <= k``), which CP-SAT links to
        its own order encoding of ``n`` instead of repeating the whole sum in every step."""
        if len(sessions) <= 1:
            return self.count(sessions)
        if key not in self._counters:
            n = self.model.new_int_var(0, most, f"n{key}")
            self.model.add(n == self.count(sessions))
            self._counters[key] = n
        return self._counters[key]

    # --- explain mode ---

    def guard(self, group: str, label: str) -> list[Literal]:
        """The enforcement literals of an input group: none normally, one assumption when explaining."""
        if not self.explain:
            return []
        if group not in self.guards:
            self.guards[group] = (self.model.new_bool_var(f"guard[{group}]"), label)
        return [self.guards[group][0]]

    # --- objective ---

    def penalise(self, rule: str, weight: int, expr: Expr) -> None:
        self.objective_terms.append((rule, weight, expr))

    def penalise_constant(self, rule: str, cost: int) -> None:
        self.objective_constant[rule] += cost

    def shortfall_steps(self, n: Expr, goal: int, most: int, name: str) -> tuple[list[Literal], int]:
        """Literals ``s_j <=> n <= goal - j`` (j = 1..goal), so that their sum is exactly
        ``max(0, goal - n)``; steps that are certain (``n`` can reach at most ``most``) are returned
        as a count instead of literals."""
        steps: list[Literal] = []
        certain = 0
        for j in range(1, goal + 1):
            if most <= goal - j:
                certain += 1
                continue
            s = self.model.new_bool_var(f"{name}_short{j}")
            self.model.add(n <= goal - j).only_enforce_if(s)
            self.model.add(n >= goal - j + 1).only_enforce_if(~s)
            steps.append(s)
        self._tighten(steps, certain, n, goal, below=True)
        return steps, certain

    def excess_steps(self, n: Expr, goal: int, most: int, name: str) -> list[Literal]:
        """Literals ``e_j <=> n >= goal + j`` (j = 1..most - goal): their sum is ``max(0, n - goal)``."""
        steps: list[Literal] = []
        for j in range(1, most - goal + 1):
            e = self.model.new_bool_var(f"{name}_excess{j}")
            self.model.add(n >= goal + j).only_enforce_if(e)
            self.model.add(n <= goal + j - 1).only_enforce_if(~e)
            steps.append(e)
        self._tighten(steps, 0, n, goal, below=False)
        return steps

    def _tighten(self, steps: list[Literal], certain: int, n: Expr, goal: int, *, below: bool) -> None:
        # Ordered steps and the plain linear bound: redundant, but they give the LP the bound
        # ``sum(steps) >= goal - n`` that the reified form alone does not.
        for earlier, later in itertools.pairwise(steps):
            self.model.add_implication(later, earlier)
        if steps:
            total = cp_model.LinearExpr.sum(steps)
            if below:
                self.model.add(total + n >= goal - certain)
            else:
                self.model.add(total - n >= -goal)


def _group(keys, by: Callable[[SessionKey], tuple]) -> dict:
    groups: dict = defaultdict(list)
    for s in keys:
        groups[by(s)].append(s)
    return groups


def _name(b: ModelBuilder, clinician_id: str) -> str:
    return b.index.clinician(clinician_id).name


def _site_name(b: ModelBuilder, site_id: str) -> str:
    return b.index.site(site_id).name


def describe_pin(problem: Problem, s: SessionKey) -> str:
    clinician = problem.clinician_by_id[s.clinician].name
    site = problem.site_by_id[s.site].name
    return f"Séance imposée : {clinician} à {site} le {format_half_day_fr(s.date, s.period)}"


# =============================================================================================
# Hard rules
# =============================================================================================


def _forbid_failing_pins(b: ModelBuilder, failure: str, group: Callable[[SessionKey], tuple[str, str]]) -> None:
    for s, var in b.x.items():
        if failure in b.index.filter_failures(s):
            gid, label = group(s)
            b.model.add(var == 0).only_enforce_if(b.guard(gid, label))


def works_only_declared_half_days(b: ModelBuilder) -> None:
    """1. A clinician works only half-days they declared available or preferred."""
    _forbid_failing_pins(
        b,
        ix.NOT_AVAILABLE,
        lambda s: (
            f"availability:{s.clinician}:{s.date}:{s.period}",
            f"Disponibilités : {_name(b, s.clinician)} ne s'est pas déclaré·e disponible "
            f"le {format_half_day_fr(s.date, s.period)}",
        ),
    )
    _forbid_failing_pins(
        b,
        ix.OUTSIDE_HORIZON,
        lambda s: (f"horizon:{s.date}", f"Période : le {format_date_fr(s.date)} est hors de la période planifiée"),
    )


def one_session_per_half_day(b: ModelBuilder) -> None:
    """2. At most one session per clinician per half-day."""
    for (clinician_id, _date, _period), sessions in b.by_clinician_half_day.items():
        if len(sessions) > 1:
            b.model.add(b.count(sessions) <= 1).only_enforce_if(
                b.guard(
                    f"one_per_half_day:{clinician_id}",
                    f"Règle : {_name(b, clinician_id)} ne peut tenir qu'une séance par demi-journée",
                )
            )


def sessions_within_site_rooms(b: ModelBuilder) -> None:
    """3. Sessions at a site in a half-day never exceed the site's rooms."""
    for (site_id, _date, _period), sessions in b.by_site_half_day.items():
        rooms = b.index.site(site_id).rooms
        if len(sessions) > rooms:
            b.model.add(b.count(sessions) <= rooms).only_enforce_if(
                b.guard(f"rooms:{site_id}", f"Salles : {_site_name(b, site_id)} compte {rooms} salle(s)")
            )


def only_open_half_days_never_holidays(b: ModelBuilder) -> None:
    """4. Sessions only on the site's opening half-days, never on a public holiday."""
    _forbid_failing_pins(
        b,
        ix.SITE_CLOSED,
        lambda s: (
            f"opening:{s.site}:{s.key}",
            f"Horaires : {_site_name(b, s.site)} est fermé le {format_half_day_key_fr(s.key)}",
        ),
    )
    _forbid_failing_pins(
        b,
        ix.HOLIDAY,
        lambda s: (f"holiday:{s.date}", f"Jour férié : {format_date_fr(s.date)}"),
    )


def weekly_maximum_respected(b: ModelBuilder) -> None:
    """5. Sessions per clinician per ISO week never exceed their maximum."""
    for (clinician_id, _week), sessions in b.by_clinician_week.items():
        most = b.index.clinician(clinician_id).max_per_week
        if len(sessions) > most:
            b.model.add(b.count(sessions) <= most).only_enforce_if(
                b.guard(
                    f"max_per_week:{clinician_id}",
                    f"Maximum hebdomadaire : {_name(b, clinician_id)}, {most} séance(s) par semaine",
                )
            )


def intern_needs_supervisor_on_site(b: ModelBuilder) -> None:
    """6. An intern's session needs a supervisor (the coordinator or a clinician flagged
    supervisor) in session at the same site the same half-day."""
    for s, var in b.x.items():
        intern = b.index.clinician(s.clinician)
        if not intern.needs_supervisor:
            continue
        supervisors = [
            b.x[o]
            for o in b.by_site_half_day[(s.site, s.date, s.period)]
            if o.clinician != s.clinician and b.index.clinician(o.clinician).can_supervise
        ]
        b.model.add(sum(supervisors) >= 1).only_enforce_if(
            [
                var,
                *b.guard(
                    f"supervision:{s.clinician}",
                    f"Supervision : l'interne {intern.name} doit avoir "
                    "un superviseur en séance sur le même site la même demi-journée",
                ),
            ]
        )


def only_allowed_sites(b: ModelBuilder) -> None:
    """7. Only at the clinician's allowed sites."""
    _forbid_failing_pins(
        b,
        ix.SITE_NOT_ALLOWED,
        lambda s: (
            f"sites:{s.clinician}:{s.site}",
            f"Sites autorisés : {_name(b, s.clinician)} n'est pas autorisé·e à {_site_name(b, s.site)}",
        ),
    )


def pinned_sessions_are_kept(b: ModelBuilder) -> None:
    """8. Pinned sessions are kept."""
    for s in dict.fromkeys(b.problem.pinned):
        b.model.add(b.x[s] == 1).only_enforce_if(b.guard(f"pin:{s}", describe_pin(b.problem, s)))


# =============================================================================================
# Soft rules
# =============================================================================================


def meet_site_targets(b: ModelBuilder) -> None:
    """Meet each site's target sessions per half-day (dominant): each missing session costs
    WEIGHT_UNMET_TARGET."""
    for site in b.problem.sites:
        for date, period in b.index.half_days:
            target = b.index.target(site, date, period)
            if target == 0:
                continue
            sessions = b.by_site_half_day.get((site.id, date, period), [])
            most = min(len(sessions), site.rooms)
            n = b.counter(("site", site.id, date, period), sessions, most)
            steps, certain = b.shortfall_steps(n, target, most, f"target[{site.id},{date},{period}]")
            b.penalise_constant("meet_site_targets", WEIGHT_UNMET_TARGET * certain)
            for step in steps:
                b.penalise("meet_site_targets", WEIGHT_UNMET_TARGET, step)


def avoid_sessions_above_target(b: ModelBuilder) -> None:
    """Avoid sessions above a site's target: each extra session costs WEIGHT_ABOVE_SITE_TARGET."""
    for (site_id, date, period), sessions in b.by_site_half_day.items():
        site = b.index.site(site_id)
        target = b.index.target(site, date, period)
        most = min(len(sessions), site.rooms)
        if most <= target:
            continue
        if target == 0:
            b.penalise("avoid_sessions_above_target", WEIGHT_ABOVE_SITE_TARGET, b.count(sessions))
            continue
        n = b.counter(("site", site_id, date, period), sessions, most)
        for step in b.excess_steps(n, target, most, f"above[{site_id},{date},{period}]"):
            b.penalise("avoid_sessions_above_target", WEIGHT_ABOVE_SITE_TARGET, step)


def use_preferred_half_days(b: ModelBuilder) -> None:
    """Use preferred half-days: a session on a merely "available" half-day costs WEIGHT_NOT_PREFERRED."""
    for s, var in b.x.items():
        if b.index.level.get((s.clinician, s.date, s.period)) != "preferred":
            b.penalise("use_preferred_half_days", WEIGHT_NOT_PREFERRED, var)


def use_preferred_sites(b: ModelBuilder) -> None:
    """Use preferred sites: a session at a site the clinician did not prefer (when they named
    preferred sites) costs WEIGHT_NOT_PREFERRED_SITE."""
    for s, var in b.x.items():
        preferred = b.index.clinician(s.clinician).preferred_sites
        if preferred and s.site not in preferred:
            b.penalise("use_preferred_sites", WEIGHT_NOT_PREFERRED_SITE, var)


def keep_clinicians_near_weekly_target(b: ModelBuilder) -> None:
    """Fairness: each clinician near their weekly target. The k-th missing session costs
    k × WEIGHT_UNDER_WEEKLY_TARGET (the goal is capped by what their availability allows);
    each session above target costs WEIGHT_OVER_WEEKLY_TARGET."""
    for (clinician_id, week), sessions in b.by_clinician_week.items():
        clinician = b.index.clinician(clinician_id)
        most = min(len({s.half_day for s in sessions}), clinician.max_per_week)
        n = b.counter(("week", clinician_id, week), sessions, most)
        goal = b.index.weekly_goal(clinician, week)
        name = f"week[{clinician_id},{week[0]}-{week[1]}]"
        steps, certain = b.shortfall_steps(n, goal, most, name)
        # Step j means "at least j sessions missing"; the j-th missing session costs j × weight.
        b.penalise_constant("keep_clinicians_near_weekly_target", WEIGHT_UNDER_WEEKLY_TARGET * _triangle(certain))
        for j, step in enumerate(steps, start=certain + 1):
            b.penalise("keep_clinicians_near_weekly_target", WEIGHT_UNDER_WEEKLY_TARGET * j, step)
        if most > clinician.target_per_week:
            for step in b.excess_steps(n, clinician.target_per_week, most, name):
                b.penalise("keep_clinicians_near_weekly_target", WEIGHT_OVER_WEEKLY_TARGET, step)


def _triangle(k: int) -> int:
    """1 + 2 + … + k: the cost (in units of WEIGHT_UNDER_WEEKLY_TARGET) of k missing sessions."""
    return k * (k + 1) // 2


def little_travel_from_home(b: ModelBuilder) -> None:
    """Little travel: each session costs WEIGHT_TRAVEL_PER_KM per km from home to site."""
    for s, var in b.x.items():
        km = b.index.km(s.clinician, s.site)
        if km:
            b.penalise("little_travel_from_home", WEIGHT_TRAVEL_PER_KM * km, var)


def few_changes_from_previous(b: ModelBuilder) -> None:
    """Few changes from the published rota: each previous session dropped, and each new session
    on a date the published rota covers, costs WEIGHT_CHANGE."""
    previous = b.index.previous_in_horizon
    if not previous:
        return
    first, last = b.index.previous_span
    for s in previous:
        b.penalise_constant("few_changes_from_previous", WEIGHT_CHANGE)
        if s in b.x:
            b.penalise("few_changes_from_previous", -WEIGHT_CHANGE, b.x[s])
    for s, var in b.x.items():
        if s not in previous and first <= s.date <= last:
            b.penalise("few_changes_from_previous", WEIGHT_CHANGE, var)


HARD_RULE_FUNCTIONS: tuple[Callable[[ModelBuilder], None], ...] = (
    works_only_declared_half_days,
    one_session_per_half_day,
    sessions_within_site_rooms,
    only_open_half_days_never_holidays,
    weekly_maximum_respected,
    intern_needs_supervisor_on_site,
    only_allowed_sites,
    pinned_sessions_are_kept,
)
SOFT_RULE_FUNCTIONS: tuple[Callable[[ModelBuilder], None], ...] = (
    meet_site_targets,
    use_preferred_half_days,
    use_preferred_sites,
    keep_clinicians_near_weekly_target,
    little_travel_from_home,
    few_changes_from_previous,
    avoid_sessions_above_target,
)


def build_model(problem: Problem, *, explain: bool = False, coverage_only: bool = False) -> ModelBuilder:
    """The whole model: every hard rule, then (unless explaining) every soft rule and the objective.

    ``coverage_only`` keeps only :func:`meet_site_targets` in the objective: the solver's first
    phase, which finds how many target sessions can be covered. Every other soft rule costs
    zero or more, so its bound is also a valid lower bound on the full objective.
    """
    b = ModelBuilder(problem, explain=explain)
    for rule in HARD_RULE_FUNCTIONS:
        rule(b)
    if not explain:
        for rule in (meet_site_targets,) if coverage_only else SOFT_RULE_FUNCTIONS:
            rule(b)
        terms = [weight * expr for _rule, weight, expr in b.objective_terms]
        b.model.minimize(sum(terms) + sum(b.objective_constant.values()))
    return b
