"""A one-off half-day offered at a named site: the clinician goes there and nowhere else."""

from __future__ import annotations

from scheduling.rota import validation
from scheduling.rota.domain import Availability
from scheduling.rota.formats import ProblemFormatError, parse_problem, problem_to_dict

from .helpers import MAYENNE, TUESDAY, clinician, problem, rota, session, site


def test_an_availability_at_a_named_site_keeps_the_clinician_at_that_site():
    sites = [site("laval", target={"tue-am": 2}), site("mayenne", where=MAYENNE, target={"tue-am": 1})]
    ana = clinician("ana", sites=("laval", "mayenne"))
    p = problem(sites, [ana], [Availability("ana", TUESDAY, "am", "available", site="mayenne")])
    # Laval wants more, but Ana offered Mayenne only.
    assert rota(p) == {session("ana", "mayenne", TUESDAY, "am")}
    assert validation.check(p, [session("ana", "laval", TUESDAY, "am")])


def test_an_availability_without_a_site_leaves_every_allowed_site_open():
    sites = [site("laval", target={"tue-am": 2}), site("mayenne", where=MAYENNE, target={"tue-am": 1})]
    ana = clinician("ana", sites=("laval", "mayenne"))
    p = problem(
        sites,
        [ana],
        [
            Availability("ana", TUESDAY, "am", "available", site="mayenne"),
            Availability("ana", TUESDAY, "am", "available"),
        ],
    )
    assert validation.check(p, [session("ana", "laval", TUESDAY, "am")]) == []


def test_the_site_of_an_availability_round_trips_and_must_be_known():
    sites = [site("laval"), site("mayenne", where=MAYENNE)]
    p = problem(
        sites,
        [clinician("ana", sites=("laval", "mayenne"))],
        [Availability("ana", TUESDAY, "am", "available", site="mayenne")],
    )
    data = problem_to_dict(p)
    assert data["availability"][0]["site"] == "mayenne"
    assert parse_problem(data).availability[0].site == "mayenne"
    data["availability"][0]["site"] = "atlantis"
    try:
        parse_problem(data)
    except ProblemFormatError as exc:
        assert "availability[0].site" in str(exc)
    else:
        raise AssertionError("an unknown site was accepted")
