"""Look-ups shared by the solver, the validator, the greedy baseline, suggestions and explanations.

Everything here is derived from the :class:`Problem` alone, so that the CP-SAT model and the
solver-independent validation read the input the same way (same filters, same weekly targets,
same distances).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

from scheduling.rota.domain import Clinician, Problem, SessionKey, Site
from scheduling.rota.halfdays import IsoWeek, half_day_key, half_days, iso_week
from sites.geo import haversine_km

HalfDay = tuple[dt.date, str]

# Why a session is impossible before any other session is placed (the "filters").
NOT_AVAILABLE = "not_available"
SITE_NOT_ALLOWED = "site_not_allowed"
SITE_CLOSED = "site_closed"
HOLIDAY = "holiday"
OUTSIDE_HORIZON = "outside_horizon"


@dataclass(frozen=True)
class ProblemIndex:
    problem: Problem

    @cached_property
    def half_days(self) -> tuple[HalfDay, ...]:
        return tuple(half_days(self.problem.start, self.problem.end))

    @cached_property
    def weeks(self) -> tuple[IsoWeek, ...]:
        return tuple(sorted({iso_week(d) for d, _ in self.half_days}))

    @cached_property
    def level(self) -> dict[tuple[str, dt.date, str], str]:
        """(clinician, date, period) -> "available" | "preferred"; preferred wins over duplicates."""
        levels: dict[tuple[str, dt.date, str], str] = {}
        for a in self.problem.availability:
            key = (a.clinician, a.date, a.period)
            if levels.get(key) != "preferred":
                levels[key] = a.level
        return levels

    @cached_property
    def only_sites(self) -> dict[tuple[str, dt.date, str], frozenset[str]]:
        """(clinician, date, period) -> the sites it is restricted to, when every availability
        line for that half-day names a site (absent: any of the clinician's allowed sites)."""
        named: dict[tuple[str, dt.date, str], set[str]] = defaultdict(set)
        anywhere: set[tuple[str, dt.date, str]] = set()
        for a in self.problem.availability:
            key = (a.clinician, a.date, a.period)
            if a.site is None:
                anywhere.add(key)
            else:
                named[key].add(a.site)
        return {k: frozenset(v) for k, v in named.items() if k not in anywhere}

    def site(self, site_id: str) -> Site:
        return self.problem.site_by_id[site_id]

    def clinician(self, clinician_id: str) -> Clinician:
        return self.problem.clinician_by_id[clinician_id]

    def is_open(self, site: Site, date: dt.date, period: str) -> bool:
        return half_day_key(date, period) in site.open and date not in self.problem.closed_dates

    def target(self, site: Site, date: dt.date, period: str) -> int:
        """Wanted sessions at a site for a concrete half-day (0 when closed or a holiday)."""
        if not self.is_open(site, date, period):
            return 0
        return site.target_for(half_day_key(date, period))

    def filter_failures(self, session: SessionKey) -> list[str]:
        """Which input filters rule this session out (empty when it passes them all).

        These are hard rules 1 (declared half-days), 4 (opening, holidays) and 7 (allowed sites),
        checked on the session alone.
        """
        p = self.problem
        failures = []
        if not p.start <= session.date <= p.end:
            failures.append(OUTSIDE_HORIZON)
        if (session.clinician, session.date, session.period) not in self.level:
            failures.append(NOT_AVAILABLE)
        only = self.only_sites.get((session.clinician, session.date, session.period))
        if session.site not in self.clinician(session.clinician).sites or (
            only is not None and session.site not in only
        ):
            failures.append(SITE_NOT_ALLOWED)
        site = self.site(session.site)
        if half_day_key(session.date, session.period) not in site.open:
            failures.append(SITE_CLOSED)
        if session.date in p.closed_dates:
            failures.append(HOLIDAY)
        return failures

    @cached_property
    def _passing(self) -> tuple[SessionKey, ...]:
        """Sessions that pass every filter, ignoring supervision."""
        p = self.problem
        found = []
        for (clinician_id, date, period), _level in sorted(
            self.level.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])
        ):
            if not p.start <= date <= p.end or date in p.closed_dates:
                continue
            clinician = p.clinician_by_id.get(clinician_id)
            if clinician is None:
                continue
            key = half_day_key(date, period)
            only = self.only_sites.get((clinician_id, date, period))
            for site_id in clinician.sites:
                if only is not None and site_id not in only:
                    continue
                site = p.site_by_id.get(site_id)
                if site is not None and key in site.open:
                    found.append(SessionKey(clinician_id, site_id, date, period))
        return tuple(found)

    @cached_property
    def possible_supervisors(self) -> dict[tuple[str, dt.date, str], list[str]]:
        """(site, date, period) -> supervisors who could be in session there."""
        found: dict[tuple[str, dt.date, str], list[str]] = defaultdict(list)
        for s in self._passing:
            if self.clinician(s.clinician).can_supervise:
                found[(s.site, s.date, s.period)].append(s.clinician)
        return found

    @cached_property
    def candidate_sessions(self) -> tuple[SessionKey, ...]:
        """Every session the solver may choose: the filters pass and, for an intern, some
        supervisor could be in session at the same site and half-day. Sorted by half-day."""
        return tuple(
            s
            for s in self._passing
            if not self.clinician(s.clinician).needs_supervisor
            or any(sup != s.clinician for sup in self.possible_supervisors.get((s.site, s.date, s.period), ()))
        )

    @cached_property
    def workable_half_days(self) -> dict[tuple[str, IsoWeek], int]:
        """(clinician, week) -> how many distinct half-days of that week they could work."""
        seen: dict[tuple[str, IsoWeek], set[HalfDay]] = defaultdict(set)
        for s in self.candidate_sessions:
            seen[(s.clinician, iso_week(s.date))].add(s.half_day)
        return {k: len(v) for k, v in seen.items()}

    def weekly_goal(self, clinician: Clinician, week: IsoWeek) -> int:
        """The weekly target a clinician can actually reach: their target, capped by their
        maximum and by the half-days they could work that week (a week of absence asks nothing)."""
        reachable = self.workable_half_days.get((clinician.id, week), 0)
        return min(clinician.target_per_week, clinician.max_per_week, reachable)

    @cached_property
    def _km(self) -> dict[tuple[str, str], int]:
        km = {}
        for c in self.problem.clinicians:
            for s in self.problem.sites:
                if c.home is None:
                    km[(c.id, s.id)] = 0
                else:
                    km[(c.id, s.id)] = round(haversine_km(c.home.lat, c.home.lon, s.lat, s.lon))
        return km

    def km(self, clinician_id: str, site_id: str) -> int:
        """Whole kilometres (great circle) from the clinician's home to the site; 0 without a home."""
        return self._km[(clinician_id, site_id)]

    @cached_property
    def previous_in_horizon(self) -> frozenset[SessionKey]:
        p = self.problem
        return frozenset(s for s in p.previous if p.start <= s.date <= p.end)

    @cached_property
    def previous_span(self) -> tuple[dt.date, dt.date]:
        """The dates the published rota covers within the horizon (only when it is not empty)."""
        dates = [s.date for s in self.previous_in_horizon]
        return min(dates), max(dates)
