"""Problem format v1 in, solution format v1 out."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest

from scheduling.rota.formats import ProblemFormatError, parse_problem, problem_to_dict, solution_to_dict
from scheduling.rota.solver import solve

EXAMPLE: dict[str, Any] = {
    "start": "2027-01-04",
    "end": "2027-01-31",
    "holidays": ["2027-01-01"],
    "sites": [
        {
            "id": "laval",
            "name": "Laval",
            "lat": 48.06,
            "lon": -0.77,
            "rooms": 4,
            "open": ["mon-am", "mon-pm", "sat-am"],
            "target": {"mon-am": 3, "mon-pm": 2},
            "pmr": True,
        }
    ],
    "clinicians": [
        {
            "id": "gp01",
            "name": "Dr Martin",
            "role": "retired_gp",
            "supervisor": False,
            "sites": ["laval"],
            "max_per_week": 4,
            "target_per_week": 3,
            "home": {"lat": 48.1, "lon": -0.7},
        }
    ],
    "availability": [{"clinician": "gp01", "date": "2027-01-05", "period": "am", "level": "available"}],
    "pinned": [{"clinician": "gp01", "site": "laval", "date": "2027-01-05", "period": "am"}],
    "previous": [{"clinician": "gp01", "site": "laval", "date": "2027-01-05", "period": "am"}],
    "time_limit_s": 10,
}


def with_change(path: list, value):
    data = copy.deepcopy(EXAMPLE)
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


def test_the_documented_example_parses_and_extra_fields_are_ignored():
    p = parse_problem(EXAMPLE)
    assert p.start == dt.date(2027, 1, 4) and p.end == dt.date(2027, 1, 31)
    assert p.sites[0].open == frozenset({"mon-am", "mon-pm", "sat-am"})
    assert p.sites[0].target == {"mon-am": 3, "mon-pm": 2}
    assert p.clinicians[0].home is not None and p.clinicians[0].home.lat == 48.1
    assert p.pinned[0].date == dt.date(2027, 1, 5)
    assert p.time_limit_s == 10


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["clinicians", 0, "max_per_week"], -1, "clinicians[0].max_per_week: must be an integer ≥ 0"),
        (["clinicians", 0, "max_per_week"], True, "clinicians[0].max_per_week: must be an integer ≥ 0"),
        (["clinicians", 0, "max_per_week"], KeyError, "clinicians[0].max_per_week: is required"),
        (["clinicians", 0, "target_per_week"], 5, "clinicians[0].target_per_week: must be ≤ max_per_week (4)"),
        (["clinicians", 0, "role"], "doctor", "clinicians[0].role: must be one of retired_gp|intern|coordinator|nurse"),
        (["clinicians", 0, "sites"], ["laval", "paris"], "clinicians[0].sites[1]: unknown site 'paris'"),
        (["clinicians", 0, "supervisor"], "yes", "clinicians[0].supervisor: must be true or false"),
        (["clinicians", 0, "home"], {"lat": 148, "lon": 0}, "clinicians[0].home.lat: must be between -90 and 90"),
        (["sites", 0, "open"], ["mon-am", "monday"], "sites[0].open[1]: must be one of mon-am|mon-pm|"),
        (["sites", 0, "target"], {"tue-am": 1}, "sites[0].target.tue-am: the site is not open that half-day"),
        (["sites", 0, "rooms"], 2.5, "sites[0].rooms: must be an integer ≥ 0"),
        (["availability", 0, "level"], "maybe", "availability[0].level: must be one of available|preferred"),
        (["availability", 0, "clinician"], "gp99", "availability[0].clinician: unknown clinician 'gp99'"),
        (["availability", 0, "date"], "2027-02-30", "availability[0].date: is not a real date: 2027-02-30"),
        (["pinned", 0, "site"], "rennes", "pinned[0].site: unknown site 'rennes'"),
        (["pinned", 0, "date"], "2027-03-01", "pinned[0].date: is outside the start–end horizon"),
        (["previous", 0, "period"], "night", "previous[0].period: must be one of am|pm"),
        (["start"], "04/01/2027", "start: must be an ISO date YYYY-MM-DD"),
        (["end"], "2027-01-01", "end: must not be before start (2027-01-04)"),
        (["holidays"], ["2027-13-01"], "holidays[0]: is not a real date: 2027-13-01"),
        (["time_limit_s"], 0, "time_limit_s: must be between 0.001 and 86400"),
    ],
)
def test_a_bad_value_is_reported_with_its_json_path(path, value, message):
    with pytest.raises(ProblemFormatError) as caught:
        parse_problem(with_change(path, value))
    assert str(caught.value).startswith(message)
    assert isinstance(caught.value, ValueError)


def test_a_duplicate_clinician_id_is_an_error():
    data = copy.deepcopy(EXAMPLE)
    data["clinicians"].append(copy.deepcopy(data["clinicians"][0]))
    with pytest.raises(ProblemFormatError, match=r"clinicians\[1\]\.id: duplicate id 'gp01'"):
        parse_problem(data)


def test_a_document_that_is_not_an_object_is_an_error():
    with pytest.raises(ProblemFormatError, match=r"^\$: must be an object"):
        parse_problem([])


def test_without_holidays_the_french_public_holidays_close_the_sites():
    data = with_change(["holidays"], KeyError)
    data["start"], data["end"] = "2027-05-01", "2027-05-31"
    data["pinned"] = data["previous"] = []
    p = parse_problem(data)
    assert p.holidays == {dt.date(2027, 5, 1), dt.date(2027, 5, 6), dt.date(2027, 5, 8), dt.date(2027, 5, 17)}


def test_a_problem_survives_a_round_trip_through_json():
    p = parse_problem(EXAMPLE)
    assert parse_problem(json.loads(json.dumps(problem_to_dict(p)))) == p


def test_a_solution_serialises_to_format_v1():
    data = copy.deepcopy(EXAMPLE)
    data["availability"] = [{"clinician": "gp01", "date": "2027-01-04", "period": "pm", "level": "preferred"}]
    data["pinned"] = []
    solution = solve(parse_problem(data), time_limit_s=5)
    out = json.loads(json.dumps(solution_to_dict(solution)))
    assert list(out) == ["status", "objective", "bound", "wall_s", "assignments", "unmet", "penalties", "conflicts"]
    assert out["status"] == "OPTIMAL"
    assert out["assignments"] == [{"clinician": "gp01", "site": "laval", "date": "2027-01-04", "period": "pm"}]
    assert out["unmet"][0] == {
        "site": "laval",
        "date": "2027-01-04",
        "period": "am",
        "missing": 3,
        "reasons": ["Personne n'est disponible sur ce site ce créneau"],
    }
    assert sum(p["cost"] for p in out["penalties"]) == out["objective"] == out["bound"]
    assert out["conflicts"] == []


def test_the_documented_example_is_infeasible_and_says_why():
    # Its pin is on a Tuesday morning, when the example's Laval site is closed.
    out = solution_to_dict(solve(parse_problem(EXAMPLE), time_limit_s=5))
    assert out["status"] == "INFEASIBLE"
    assert out["assignments"] == []
    assert out["conflicts"] == [
        "Séance imposée : Dr Martin à Laval le mardi 5 janvier 2027 matin",
        "Horaires : Laval est fermé le mardi matin",
    ]


def test_preferred_sites_round_trip_and_must_be_among_the_clinicians_sites():
    from scheduling.rota.formats import ProblemFormatError, parse_problem, problem_to_dict

    data = {
        "start": "2027-01-04",
        "end": "2027-01-10",
        "sites": [
            {
                "id": "laval",
                "name": "Laval",
                "lat": 48.06,
                "lon": -0.77,
                "rooms": 1,
                "open": ["tue-am"],
                "target": {"tue-am": 1},
            },
            {"id": "evron", "name": "Évron", "lat": 48.14, "lon": -0.42, "rooms": 1, "open": ["tue-am"]},
        ],
        "clinicians": [
            {
                "id": "gp01",
                "name": "Dr A",
                "role": "retired_gp",
                "sites": ["laval"],
                "max_per_week": 2,
                "target_per_week": 1,
                "preferred_sites": ["laval"],
            }
        ],
    }
    problem = parse_problem(data)
    assert problem.clinicians[0].preferred_sites == ("laval",)
    assert problem_to_dict(problem)["clinicians"][0]["preferred_sites"] == ["laval"]
    data["clinicians"][0]["preferred_sites"] = ["evron"]
    try:
        parse_problem(data)
    except ProblemFormatError as exc:
        assert "clinicians[0].preferred_sites[0]" in str(exc)
    else:
        raise AssertionError("a preferred site outside the clinician's sites was accepted")
