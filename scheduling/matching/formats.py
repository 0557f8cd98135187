"""JSON format v1 of a matching problem and of its solution (the ``smp match`` contract).

Problem::

    {"doctors": [{"id": "d1", "lat": 48.06, "lon": -0.77, "capacity": 800, "radius_km": 25,
                  "home_visits": true, "pmr": true}],
     "patients": [{"id": "p1", "lat": 48.1, "lon": -0.7, "ald": false, "c2s": true, "age": 72,
                   "fragile": false, "needs_home_visit": false, "needs_pmr": false}],
     "proposals": 3}

Optional fields: doctors ``accepting`` (default true), ``communes`` (INSEE codes of the
perimeter; then ``radius_km`` may be omitted); patients ``commune`` (INSEE code),
``waiting_since`` (ISO date, orders a tier: longest wait first); ``age`` may be ``null``
(unknown); the patient flags default to false; root ``version`` (1) and ``proposals``
(default 3). Unknown keys are refused, so a misspelt flag cannot silently default to false.

Solution::

    {"status": "OPTIMAL", "wall_s": 0.0,
     "assignments": [{"patient": "p1", "doctor": "d1", "km": 4.2, "tier": 2}],
     "unassigned": [{"patient": "p9", "reason": "…", "code": "capacity", "tier": 3}],
     "proposals": {"p1": [{"doctor": "d1", "km": 4.2, "reasons": ["…"]}]},
     "objective": {"tier1": 0, "tier12": 1, "assigned": 1, "total_km": 4.2}}

``tier``, ``code``, ``reasons`` and ``objective`` extend the contract; the contract's keys are
all there with the contract's meaning.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from scheduling.matching.domain import MAX_PROPOSALS, Doctor, Patient, Problem, Proposal, Solution

FORMAT_VERSION = 1

_DOCTOR_KEYS = {"id", "lat", "lon", "capacity", "radius_km", "home_visits", "pmr", "accepting", "communes"}
_PATIENT_KEYS = {
    "id",
    "lat",
    "lon",
    "ald",
    "c2s",
    "age",
    "fragile",
    "needs_home_visit",
    "needs_pmr",
    "commune",
    "waiting_since",
}
_ROOT_KEYS = {"version", "doctors", "patients", "proposals"}


class ProblemFormatError(ValueError):
    """A problem file that does not follow format v1; ``path`` names the JSON location."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path} : {message}")
        self.path = path
        self.message = message

    def to_dict(self) -> dict[str, str]:
        """The error as the API and ``smp match --json`` report it."""
        return {"error": "problem_format", "path": self.path, "message": self.message}


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else json.dumps(value[:40])
    return text if len(text) <= 60 else text[:57] + "…"


def _number(
    obj: Mapping[str, Any],
    key: str,
    path: str,
    lo: float,
    hi: float,
    *,
    required: bool = True,
    strict_lo: bool = False,
) -> float | None:
    if key not in obj:
        if required:
            raise ProblemFormatError(f"{path}.{key}", "champ obligatoire manquant")
        return None
    v = obj[key]
    if (
        isinstance(v, bool)
        or not isinstance(v, int | float)
        or not math.isfinite(v)
        or v < lo
        or v > hi
        or (strict_lo and v <= lo)
    ):
        bound = f"strictement supérieur à {lo:g}" if strict_lo else f"entre {lo:g} et {hi:g}"
        raise ProblemFormatError(f"{path}.{key}", f"doit être un nombre {bound} (reçu {_shown(v)})")
    return float(v)


def _integer(
    obj: Mapping[str, Any],
    key: str,
    path: str,
    lo: int,
    hi: int | None = None,
    *,
    default: int | None = None,
    nullable: bool = False,
) -> int | None:
    if key not in obj:
        if default is None and not nullable:
            raise ProblemFormatError(f"{path}.{key}", "champ obligatoire manquant")
        return default
    v = obj[key]
    if v is None and nullable:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
        bound = f"entre {lo} et {hi}" if hi is not None else f"supérieur ou égal à {lo}"
        raise ProblemFormatError(f"{path}.{key}", f"doit être un entier {bound} (reçu {_shown(v)})")
    return v


def _flag(obj: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
    v = obj.get(key, default)
    if not isinstance(v, bool):
        raise ProblemFormatError(f"{path}.{key}", f"doit être true ou false (reçu {_shown(v)})")
    return v


def _insee(v: Any, path: str) -> str:
    if (
        not isinstance(v, str)
        or len(v) != 5
        or not (v.isdigit() or (v[:2].upper() in {"2A", "2B"} and v[2:].isdigit()))
    ):
        raise ProblemFormatError(path, f"doit être un code INSEE de commune à 5 caractères (reçu {_shown(v)})")
    return v.upper()


def _object(v: Any, path: str, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(v, dict):
        raise ProblemFormatError(path, "doit être un objet JSON")
    unknown = sorted(set(v) - allowed)
    if unknown:
        raise ProblemFormatError(
            f"{path}.{unknown[0]}", f"champ inconnu (champs permis : {', '.join(sorted(allowed))})"
        )
    return v


def _id(obj: Mapping[str, Any], path: str, seen: set[str]) -> str:
    if "id" not in obj:
        raise ProblemFormatError(f"{path}.id", "champ obligatoire manquant")
    v = obj["id"]
    if not isinstance(v, str) or not v.strip():
        raise ProblemFormatError(f"{path}.id", "doit être une chaîne non vide")
    if v in seen:
        raise ProblemFormatError(f"{path}.id", f"identifiant en double : {_shown(v)}")
    seen.add(v)
    return v


def _list(root: Mapping[str, Any], key: str) -> list[Any]:
    if key not in root:
        raise ProblemFormatError(f"$.{key}", "champ obligatoire manquant")
    v = root[key]
    if not isinstance(v, list):
        raise ProblemFormatError(f"$.{key}", "doit être une liste")
    return v


def _doctor(raw: Any, path: str, seen: set[str]) -> Doctor:
    obj = _object(raw, path, _DOCTOR_KEYS)
    did = _id(obj, path, seen)
    lat = _number(obj, "lat", path, -90, 90)
    lon = _number(obj, "lon", path, -180, 180)
    capacity = _integer(obj, "capacity", path, 0)
    communes: frozenset[str] | None = None
    if "communes" in obj:
        v = obj["communes"]
        if not isinstance(v, list):
            raise ProblemFormatError(f"{path}.communes", "doit être une liste de codes INSEE")
        communes = frozenset(_insee(x, f"{path}.communes[{i}]") for i, x in enumerate(v))
    radius = _number(obj, "radius_km", path, 0, 20_100, required=not communes, strict_lo=True)
    assert lat is not None and lon is not None
    return Doctor(
        id=did,
        lat=lat,
        lon=lon,
        capacity=capacity,
        radius_km=radius,
        home_visits=_flag(obj, "home_visits", path, False),
        pmr=_flag(obj, "pmr", path, False),
        accepting=_flag(obj, "accepting", path, True),
        communes=communes or None,
    )


def _patient(raw: Any, path: str, seen: set[str]) -> Patient:
    obj = _object(raw, path, _PATIENT_KEYS)
    pid = _id(obj, path, seen)
    lat = _number(obj, "lat", path, -90, 90)
    lon = _number(obj, "lon", path, -180, 180)
    assert lat is not None and lon is not None
    commune = _insee(obj["commune"], f"{path}.commune") if obj.get("commune") is not None else None
    since: date | None = None
    if obj.get("waiting_since") is not None:
        v = obj["waiting_since"]
        try:
            since = date.fromisoformat(v) if isinstance(v, str) and len(v) == 10 else None
        except ValueError:
            since = None
        if since is None:
            raise ProblemFormatError(f"{path}.waiting_since", f"doit être une date AAAA-MM-JJ (reçu {_shown(v)})")
    return Patient(
        id=pid,
        lat=lat,
        lon=lon,
        ald=_flag(obj, "ald", path, False),
        c2s=_flag(obj, "c2s", path, False),
        age=_integer(obj, "age", path, 0, 130, nullable=True),
        fragile=_flag(obj, "fragile", path, False),
        needs_home_visit=_flag(obj, "needs_home_visit", path, False),
        needs_pmr=_flag(obj, "needs_pmr", path, False),
        commune=commune,
        waiting_since=since,
    )


def parse_problem(data: Mapping[str, Any] | str | bytes) -> Problem:
    """A :class:`Problem` from format v1 (a decoded object or JSON text).

    Raises :class:`ProblemFormatError` naming the first faulty JSON path; nothing is partial.
    """
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise ProblemFormatError("$", f"JSON invalide ligne {exc.lineno} colonne {exc.colno} : {exc.msg}") from None
        except UnicodeDecodeError:
            raise ProblemFormatError("$", "le fichier n'est pas en UTF-8") from None
    root = _object(data, "$", _ROOT_KEYS)
    if "version" in root and (isinstance(root["version"], bool) or root["version"] != FORMAT_VERSION):
        raise ProblemFormatError("$.version", f"version de format non prise en charge (attendu {FORMAT_VERSION})")
    seen_d: set[str] = set()
    doctors = tuple(_doctor(d, f"$.doctors[{i}]", seen_d) for i, d in enumerate(_list(root, "doctors")))
    seen_p: set[str] = set()
    patients = tuple(_patient(p, f"$.patients[{i}]", seen_p) for i, p in enumerate(_list(root, "patients")))
    k = _integer(root, "proposals", "$", 0, MAX_PROPOSALS, default=3)
    assert k is not None
    return Problem(doctors=doctors, patients=patients, proposals=k)


def load_problem(path: str | Path) -> Problem:
    """Read and parse a problem file (``smp match --problem FILE.json``)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ProblemFormatError("$", f"fichier illisible : {exc.strerror}") from None
    return parse_problem(raw)


def problem_to_json(problem: Problem) -> dict[str, Any]:
    """Format v1 of a problem (for fixtures, benchmarks and round trips)."""

    def doctor(d: Doctor) -> dict[str, Any]:
        out: dict[str, Any] = {"id": d.id, "lat": d.lat, "lon": d.lon, "capacity": d.capacity}
        if d.radius_km is not None:
            out["radius_km"] = d.radius_km
        out |= {"home_visits": d.home_visits, "pmr": d.pmr}
        if not d.accepting:
            out["accepting"] = False
        if d.communes:
            out["communes"] = sorted(d.communes)
        return out

    def patient(p: Patient) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": p.id,
            "lat": p.lat,
            "lon": p.lon,
            "ald": p.ald,
            "c2s": p.c2s,
            "age": p.age,
            "fragile": p.fragile,
            "needs_home_visit": p.needs_home_visit,
            "needs_pmr": p.needs_pmr,
        }
        if p.commune is not None:
            out["commune"] = p.commune
        if p.waiting_since is not None:
            out["waiting_since"] = p.waiting_since.isoformat()
        return out

    return {
        "version": FORMAT_VERSION,
        "doctors": [doctor(d) for d in problem.doctors],
        "patients": [patient(p) for p in problem.patients],
        "proposals": problem.proposals,
    }


def _km(x: float) -> float:
    return round(x, 1)


def solution_to_json(solution: Solution) -> dict[str, Any]:
    """Format v1 of a solution (distances rounded to 0.1 km), ready for ``json.dumps``.

    Patients of one place share their proposal objects, so their JSON dicts are shared too
    (it keeps a million-patient answer fast): treat the result as read-only.
    """
    memo: dict[int, dict[str, Any]] = {}

    def proposal(p: Proposal) -> dict[str, Any]:
        found = memo.get(id(p))
        if found is None:
            found = memo[id(p)] = {"doctor": p.doctor, "km": _km(p.km), "reasons": list(p.reasons)}
        return found

    return {
        "status": solution.status,
        "wall_s": round(solution.wall_s, 3),
        "assignments": [
            {"patient": a.patient, "doctor": a.doctor, "km": _km(a.km), "tier": a.tier} for a in solution.assignments
        ],
        "unassigned": [
            {"patient": u.patient, "reason": u.reason, "code": u.code, "tier": u.tier} for u in solution.unassigned
        ],
        "proposals": {pid: [proposal(p) for p in props] for pid, props in solution.proposals.items()},
        "objective": {
            "tier1": solution.objective.tier1,
            "tier12": solution.objective.tier12,
            "assigned": solution.objective.assigned,
            "total_km": _km(solution.objective.total_km),
        },
    }
