"""JSON contract v1: problem in, solution out.

:func:`parse_problem` accepts exactly the documented shape (extra fields are ignored) and raises
:class:`ProblemFormatError` naming the JSON path of the first bad value, e.g.
``clinicians[3].max_per_week: must be an integer ≥ 0``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

from scheduling.rota.domain import (
    LEVELS,
    ROLES,
    Availability,
    Clinician,
    Point,
    Problem,
    SessionKey,
    Site,
    Solution,
)
from scheduling.rota.halfdays import HALF_DAY_KEYS, PERIODS

FORMAT_VERSION = 1
MAX_HORIZON_DAYS = 366
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ProblemFormatError(ValueError):
    """A problem document that does not follow format v1; ``path`` names the bad value."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


# --- small typed readers -------------------------------------------------------------------


def _get(obj: Mapping[str, Any], key: str, path: str, *, required: bool = True, default: Any = None) -> Any:
    if key not in obj or obj[key] is None:
        if required:
            raise ProblemFormatError(_join(path, key), "is required")
        return default
    return obj[key]


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ProblemFormatError(path, "must be an object")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise ProblemFormatError(path, "must be a list")
    return list(value)


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProblemFormatError(path, "must be a non-empty string")
    return value


def _int(value: Any, path: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ProblemFormatError(path, f"must be an integer ≥ {minimum}")
    return value


def _number(value: Any, path: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProblemFormatError(path, "must be a number")
    if not low <= value <= high:
        raise ProblemFormatError(path, f"must be between {low:g} and {high:g}")
    return float(value)


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ProblemFormatError(path, "must be true or false")
    return value


def _date(value: Any, path: str) -> dt.date:
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ProblemFormatError(path, "must be an ISO date YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ProblemFormatError(path, f"is not a real date: {value}") from None


def _choice(value: Any, path: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ProblemFormatError(path, f"must be one of {'|'.join(allowed)}")
    return value  # type: ignore[no-any-return]


# --- problem -------------------------------------------------------------------------------


def parse_problem(data: Any) -> Problem:
    """Problem format v1 (a dict decoded from JSON) -> :class:`Problem`."""
    root = _object(data, "$")
    start = _date(_get(root, "start", ""), "start")
    end = _date(_get(root, "end", ""), "end")
    if end < start:
        raise ProblemFormatError("end", f"must not be before start ({start.isoformat()})")
    if (end - start).days + 1 > MAX_HORIZON_DAYS:
        raise ProblemFormatError("end", f"the horizon must be at most {MAX_HORIZON_DAYS} days")

    holidays = None
    if root.get("holidays") is not None:
        holidays = frozenset(_date(v, _join("holidays", i)) for i, v in enumerate(_list(root["holidays"], "holidays")))

    sites = tuple(_parse_site(v, _join("sites", i)) for i, v in enumerate(_list(_get(root, "sites", ""), "sites")))
    _unique([s.id for s in sites], "sites")
    site_ids = {s.id for s in sites}

    clinicians = tuple(
        _parse_clinician(v, _join("clinicians", i), site_ids)
        for i, v in enumerate(_list(_get(root, "clinicians", ""), "clinicians"))
    )
    _unique([c.id for c in clinicians], "clinicians")
    clinician_ids = {c.id for c in clinicians}

    availability = tuple(
        _parse_availability(v, _join("availability", i), clinician_ids, site_ids)
        for i, v in enumerate(_list(root.get("availability") or [], "availability"))
    )
    pinned = tuple(
        _parse_session(v, _join("pinned", i), clinician_ids, site_ids)
        for i, v in enumerate(_list(root.get("pinned") or [], "pinned"))
    )
    for i, s in enumerate(pinned):
        if not start <= s.date <= end:
            raise ProblemFormatError(_join(_join("pinned", i), "date"), "is outside the start–end horizon")
    if len(set(pinned)) != len(pinned):
        first_dup = next(i for i, s in enumerate(pinned) if s in pinned[:i])
        raise ProblemFormatError(_join("pinned", first_dup), "the same session is pinned twice")
    previous = tuple(
        _parse_session(v, _join("previous", i), clinician_ids, site_ids)
        for i, v in enumerate(_list(root.get("previous") or [], "previous"))
    )

    time_limit_s = None
    if root.get("time_limit_s") is not None:
        time_limit_s = _number(root["time_limit_s"], "time_limit_s", 0.001, 86_400)

    return Problem(
        start=start,
        end=end,
        holidays=holidays,
        sites=sites,
        clinicians=clinicians,
        availability=availability,
        pinned=pinned,
        previous=tuple(dict.fromkeys(previous)),
        time_limit_s=time_limit_s,
    )


def _unique(ids: list[str], path: str) -> None:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if ident in seen:
            raise ProblemFormatError(_join(_join(path, i), "id"), f"duplicate id {ident!r}")
        seen.add(ident)


def _parse_site(value: Any, path: str) -> Site:
    obj = _object(value, path)
    opening = _list(_get(obj, "open", path), _join(path, "open"))
    open_keys = frozenset(_choice(k, _join(_join(path, "open"), i), HALF_DAY_KEYS) for i, k in enumerate(opening))
    raw_target = _object(obj.get("target") or {}, _join(path, "target"))
    target: dict[str, int] = {}
    for key, wanted in raw_target.items():
        key_path = _join(_join(path, "target"), str(key))
        _choice(key, key_path, HALF_DAY_KEYS)
        if key not in open_keys:
            raise ProblemFormatError(key_path, "the site is not open that half-day")
        target[key] = _int(wanted, key_path)
    return Site(
        id=_text(_get(obj, "id", path), _join(path, "id")),
        name=_text(_get(obj, "name", path), _join(path, "name")),
        lat=_number(_get(obj, "lat", path), _join(path, "lat"), -90, 90),
        lon=_number(_get(obj, "lon", path), _join(path, "lon"), -180, 180),
        rooms=_int(_get(obj, "rooms", path), _join(path, "rooms")),
        open=open_keys,
        target=target,
    )


def _parse_clinician(value: Any, path: str, site_ids: set[str]) -> Clinician:
    obj = _object(value, path)
    sites = []
    for i, site_id in enumerate(_list(_get(obj, "sites", path), _join(path, "sites"))):
        item = _join(_join(path, "sites"), i)
        if _text(site_id, item) not in site_ids:
            raise ProblemFormatError(item, f"unknown site {site_id!r}")
        sites.append(site_id)
    max_per_week = _int(_get(obj, "max_per_week", path), _join(path, "max_per_week"))
    target_per_week = _int(_get(obj, "target_per_week", path), _join(path, "target_per_week"))
    if target_per_week > max_per_week:
        raise ProblemFormatError(_join(path, "target_per_week"), f"must be ≤ max_per_week ({max_per_week})")
    home = None
    if obj.get("home") is not None:
        home_obj = _object(obj["home"], _join(path, "home"))
        home = Point(
            lat=_number(_get(home_obj, "lat", _join(path, "home")), _join(path, "home.lat"), -90, 90),
            lon=_number(_get(home_obj, "lon", _join(path, "home")), _join(path, "home.lon"), -180, 180),
        )
    preferred = []
    for i, site_id in enumerate(_list(obj.get("preferred_sites") or [], _join(path, "preferred_sites"))):
        item = _join(_join(path, "preferred_sites"), i)
        if _text(site_id, item) not in sites:
            raise ProblemFormatError(item, f"{site_id!r} is not one of the clinician's sites")
        preferred.append(site_id)
    return Clinician(
        id=_text(_get(obj, "id", path), _join(path, "id")),
        name=_text(_get(obj, "name", path), _join(path, "name")),
        role=_choice(_get(obj, "role", path), _join(path, "role"), ROLES),  # type: ignore[arg-type]
        supervisor=_bool(obj.get("supervisor", False), _join(path, "supervisor")),
        sites=tuple(dict.fromkeys(sites)),
        max_per_week=max_per_week,
        target_per_week=target_per_week,
        home=home,
        preferred_sites=tuple(dict.fromkeys(preferred)),
    )


def _parse_availability(
    value: Any, path: str, clinician_ids: set[str], site_ids: set[str] | None = None
) -> Availability:
    obj = _object(value, path)
    clinician = _text(_get(obj, "clinician", path), _join(path, "clinician"))
    if clinician not in clinician_ids:
        raise ProblemFormatError(_join(path, "clinician"), f"unknown clinician {clinician!r}")
    site = obj.get("site")
    if site is not None:
        site = _text(site, _join(path, "site"))
        if site_ids is not None and site not in site_ids:
            raise ProblemFormatError(_join(path, "site"), f"unknown site {site!r}")
    return Availability(
        clinician=clinician,
        date=_date(_get(obj, "date", path), _join(path, "date")),
        period=_choice(_get(obj, "period", path), _join(path, "period"), PERIODS),
        level=_choice(obj.get("level", "available"), _join(path, "level"), LEVELS),  # type: ignore[arg-type]
        site=site,
    )


def _parse_session(value: Any, path: str, clinician_ids: set[str], site_ids: set[str]) -> SessionKey:
    obj = _object(value, path)
    clinician = _text(_get(obj, "clinician", path), _join(path, "clinician"))
    if clinician not in clinician_ids:
        raise ProblemFormatError(_join(path, "clinician"), f"unknown clinician {clinician!r}")
    site = _text(_get(obj, "site", path), _join(path, "site"))
    if site not in site_ids:
        raise ProblemFormatError(_join(path, "site"), f"unknown site {site!r}")
    return SessionKey(
        clinician=clinician,
        site=site,
        date=_date(_get(obj, "date", path), _join(path, "date")),
        period=_choice(_get(obj, "period", path), _join(path, "period"), PERIODS),
    )


def session_to_dict(session: SessionKey) -> dict[str, str]:
    return {
        "clinician": session.clinician,
        "site": session.site,
        "date": session.date.isoformat(),
        "period": session.period,
    }


def problem_to_dict(problem: Problem) -> dict[str, Any]:
    """The inverse of :func:`parse_problem` (holidays written out explicitly)."""
    data: dict[str, Any] = {
        "start": problem.start.isoformat(),
        "end": problem.end.isoformat(),
        "holidays": sorted(d.isoformat() for d in problem.closed_dates),
        "sites": [
            {
                "id": s.id,
                "name": s.name,
                "lat": s.lat,
                "lon": s.lon,
                "rooms": s.rooms,
                "open": [k for k in HALF_DAY_KEYS if k in s.open],
                "target": {k: s.target[k] for k in HALF_DAY_KEYS if k in s.target},
            }
            for s in problem.sites
        ],
        "clinicians": [
            {
                "id": c.id,
                "name": c.name,
                "role": c.role,
                "supervisor": c.supervisor,
                "sites": list(c.sites),
                "max_per_week": c.max_per_week,
                "target_per_week": c.target_per_week,
                **({"home": {"lat": c.home.lat, "lon": c.home.lon}} if c.home else {}),
                **({"preferred_sites": list(c.preferred_sites)} if c.preferred_sites else {}),
            }
            for c in problem.clinicians
        ],
        "availability": [
            {
                "clinician": a.clinician,
                "date": a.date.isoformat(),
                "period": a.period,
                "level": a.level,
                **({"site": a.site} if a.site is not None else {}),
            }
            for a in problem.availability
        ],
        "pinned": [session_to_dict(s) for s in problem.pinned],
        "previous": [session_to_dict(s) for s in problem.previous],
    }
    if problem.time_limit_s is not None:
        data["time_limit_s"] = problem.time_limit_s
    return data


# --- solution ------------------------------------------------------------------------------


def solution_to_dict(solution: Solution) -> dict[str, Any]:
    """:class:`Solution` -> solution format v1 (JSON-ready)."""
    return {
        "status": solution.status,
        "objective": solution.objective,
        "bound": solution.bound,
        "wall_s": round(solution.wall_s, 3),
        "assignments": [session_to_dict(a) for a in solution.assignments],
        "unmet": [
            {
                "site": u.site,
                "date": u.date.isoformat(),
                "period": u.period,
                "missing": u.missing,
                "reasons": list(u.reasons),
            }
            for u in solution.unmet
        ],
        "penalties": [{"rule": p.rule, "cost": p.cost, "detail": p.detail} for p in solution.penalties],
        "conflicts": list(solution.conflicts),
    }
