"""Format v1: the problem file is read strictly, the solution written as the contract says."""

import json

import pytest

from scheduling.matching import (
    ProblemFormatError,
    load_problem,
    parse_problem,
    problem_to_json,
    solution_to_json,
    solve,
)

EXAMPLE = {
    "doctors": [
        {
            "id": "d1",
            "lat": 48.06,
            "lon": -0.77,
            "capacity": 800,
            "radius_km": 25,
            "home_visits": True,
            "pmr": True,
        }
    ],
    "patients": [
        {
            "id": "p1",
            "lat": 48.1,
            "lon": -0.7,
            "ald": False,
            "c2s": True,
            "age": 72,
            "fragile": False,
            "needs_home_visit": False,
            "needs_pmr": False,
        }
    ],
    "proposals": 3,
}


def with_(path, value):
    data = json.loads(json.dumps(EXAMPLE))
    *head, last = path
    target = data
    for key in head:
        target = target[key]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return data


def test_it_reads_the_issue_example_and_writes_the_solution_contract():
    problem = parse_problem(json.dumps(EXAMPLE))
    assert problem.doctors[0].capacity == 800 and problem.patients[0].c2s and problem.proposals == 3
    out = json.loads(json.dumps(solution_to_json(solve(problem))))
    assert out["status"] == "OPTIMAL" and isinstance(out["wall_s"], float)
    assert out["assignments"] == [{"patient": "p1", "doctor": "d1", "km": 6.8, "tier": 2}]
    assert out["unassigned"] == []
    assert out["proposals"]["p1"][0] == {
        "doctor": "d1",
        "km": 6.8,
        "reasons": ["à 6,8 km (rayon de 25 km)", "place attribuée par l'affectation"],
    }
    assert out["objective"] == {"tier1": 0, "tier12": 1, "assigned": 1, "total_km": 6.8}


def test_unassigned_patients_are_written_with_their_reason():
    problem = parse_problem(with_(["doctors", 0, "capacity"], 0))
    assert solution_to_json(solve(problem))["unassigned"] == [
        {"patient": "p1", "reason": "capacité des médecins à portée épuisée", "code": "capacity", "tier": 2}
    ]


def test_optional_fields_default_and_round_trip():
    data = with_(
        ["patients", 0],
        {
            "id": "p1",
            "lat": 48.1,
            "lon": -0.7,
            "commune": "53130",
            "waiting_since": "2025-09-01",
            "age": None,
        },
    )
    data["doctors"].append(
        {
            "id": "d2",
            "lat": 48.3,
            "lon": -0.6,
            "capacity": 3,
            "communes": ["53130", "2A004"],
            "accepting": False,
        }
    )
    problem = parse_problem(data)
    p = problem.patients[0]
    assert (p.ald, p.age, p.commune, p.waiting_since.isoformat()) == (False, None, "53130", "2025-09-01")
    assert problem.doctors[1].communes == frozenset({"53130", "2A004"}) and problem.doctors[1].radius_km is None
    assert parse_problem(problem_to_json(problem)) == problem


@pytest.mark.parametrize(
    ("data", "path", "words"),
    [
        ([], "$", "objet"),
        (with_(["doctors"], KeyError), "$.doctors", "manquant"),
        (with_(["patients"], {"p1": {}}), "$.patients", "liste"),
        (with_(["patients", 0, "lat"], "48.1"), "$.patients[0].lat", "nombre entre -90 et 90"),
        (with_(["patients", 0, "lat"], 91), "$.patients[0].lat", "nombre entre -90 et 90"),
        (with_(["patients", 0, "lon"], KeyError), "$.patients[0].lon", "manquant"),
        (with_(["patients", 0, "ald"], 1), "$.patients[0].ald", "true ou false"),
        (with_(["patients", 0, "age"], 7.5), "$.patients[0].age", "entier"),
        (with_(["patients", 0, "age"], -1), "$.patients[0].age", "entier"),
        (with_(["patients", 0, "needs_homevisit"], True), "$.patients[0].needs_homevisit", "champ inconnu"),
        (with_(["patients", 0, "waiting_since"], "01/09/2025"), "$.patients[0].waiting_since", "AAAA-MM-JJ"),
        (with_(["patients", 0, "commune"], "5313"), "$.patients[0].commune", "INSEE"),
        (with_(["patients", 0, "id"], ""), "$.patients[0].id", "non vide"),
        (with_(["doctors", 0, "capacity"], -3), "$.doctors[0].capacity", "entier"),
        (with_(["doctors", 0, "capacity"], True), "$.doctors[0].capacity", "entier"),
        (with_(["doctors", 0, "radius_km"], 0), "$.doctors[0].radius_km", "strictement"),
        (with_(["doctors", 0, "radius_km"], KeyError), "$.doctors[0].radius_km", "manquant"),
        (with_(["doctors", 0, "communes"], "53130"), "$.doctors[0].communes", "liste"),
        (with_(["proposals"], 11), "$.proposals", "entre 0 et 10"),
        (with_(["version"], 2), "$.version", "version"),
    ],
)
def test_a_bad_problem_is_refused_with_the_json_path_of_the_fault(data, path, words):
    with pytest.raises(ProblemFormatError) as caught:
        parse_problem(data)
    assert caught.value.path == path
    assert words in caught.value.message
    assert caught.value.to_dict() == {
        "error": "problem_format",
        "path": path,
        "message": caught.value.message,
    }


def test_a_duplicate_id_is_refused_at_its_second_occurrence():
    data = json.loads(json.dumps(EXAMPLE))
    data["patients"].append(dict(data["patients"][0]))
    with pytest.raises(ProblemFormatError) as caught:
        parse_problem(data)
    assert caught.value.path == "$.patients[1].id"


def test_broken_json_text_is_reported_with_line_and_column(tmp_path):
    bad = tmp_path / "problem.json"
    bad.write_text('{"doctors": [],\n "patients": [,]}', encoding="utf-8")
    with pytest.raises(ProblemFormatError, match="ligne 2 colonne 15"):
        load_problem(bad)
    with pytest.raises(ProblemFormatError, match="fichier illisible"):
        load_problem(tmp_path / "missing.json")
    assert isinstance(ProblemFormatError("$", "x"), ValueError)
