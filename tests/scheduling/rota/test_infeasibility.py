"""Contradictory inputs are proven infeasible, and the conflict names the fewest inputs involved."""

from __future__ import annotations

from scheduling.rota import explain

from .helpers import MAYENNE, TUESDAY, available, clinician, problem, session, site, solved


def test_one_clinician_pinned_at_two_sites_the_same_half_day_is_proven_infeasible():
    sites = [site("laval"), site("mayenne", where=MAYENNE)]
    p = problem(
        sites,
        [clinician("ana", sites=("laval", "mayenne")), clinician("bob")],
        [available("ana", TUESDAY, "am"), available("bob", TUESDAY, "am")],
        pinned=[session("ana", "laval"), session("ana", "mayenne"), session("bob", "laval")],
    )
    solution = solved(p)
    assert solution.status == "INFEASIBLE"
    assert solution.assignments == ()
    assert solution.conflicts == (
        "Séance imposée : Dr Ana à Laval le mardi 5 janvier 2027 matin",
        "Séance imposée : Dr Ana à Mayenne le mardi 5 janvier 2027 matin",
        "Règle : Dr Ana ne peut tenir qu'une séance par demi-journée",
    )


def test_pins_beyond_the_rooms_are_proven_infeasible_and_only_those_pins_are_named():
    people = ["ana", "bob", "cleo", "dan"]
    sites = [site("laval", rooms=2), site("mayenne", where=MAYENNE)]
    p = problem(
        sites,
        [clinician(c, sites=("laval", "mayenne")) for c in people],
        [available(c, TUESDAY, "am") for c in people],
        pinned=[session("ana", "laval"), session("bob", "laval"), session("cleo", "laval"), session("dan", "mayenne")],
    )
    solution = solved(p)
    assert solution.status == "INFEASIBLE"
    assert solution.conflicts == (
        "Séance imposée : Dr Ana à Laval le mardi 5 janvier 2027 matin",
        "Séance imposée : Dr Bob à Laval le mardi 5 janvier 2027 matin",
        "Séance imposée : Dr Cleo à Laval le mardi 5 janvier 2027 matin",
        "Salles : Laval compte 2 salle(s)",
    )


def test_a_pin_on_a_half_day_the_clinician_did_not_declare_names_their_availability():
    p = problem([site()], [clinician("ana")], [available("ana", TUESDAY, "pm")], pinned=[session("ana", "laval")])
    assert solved(p).conflicts == (
        "Séance imposée : Dr Ana à Laval le mardi 5 janvier 2027 matin",
        "Disponibilités : Dr Ana ne s'est pas déclaré·e disponible le mardi 5 janvier 2027 matin",
    )


def test_a_pin_at_a_site_the_clinician_may_not_work_at_names_their_allowed_sites():
    sites = [site("laval"), site("mayenne", where=MAYENNE)]
    p = problem(
        sites,
        [clinician("ana", sites=("laval",))],
        [available("ana", TUESDAY, "am")],
        pinned=[session("ana", "mayenne")],
    )
    assert solved(p).conflicts == (
        "Séance imposée : Dr Ana à Mayenne le mardi 5 janvier 2027 matin",
        "Sites autorisés : Dr Ana n'est pas autorisé·e à Mayenne",
    )


def test_a_pin_beyond_the_weekly_maximum_names_the_maximum():
    pins = [session("ana", "laval", TUESDAY, "am"), session("ana", "laval", TUESDAY, "pm")]
    p = problem(
        [site(target={"tue-am": 1, "tue-pm": 1})],
        [clinician("ana", max_per_week=1)],
        [available("ana", TUESDAY, "am"), available("ana", TUESDAY, "pm")],
        pinned=pins,
    )
    assert solved(p).conflicts == (
        "Séance imposée : Dr Ana à Laval le mardi 5 janvier 2027 matin",
        "Séance imposée : Dr Ana à Laval le mardi 5 janvier 2027 après-midi",
        "Maximum hebdomadaire : Dr Ana, 1 séance(s) par semaine",
    )


def test_a_pinned_intern_with_no_supervisor_possible_names_the_supervision_rule():
    p = problem(
        [site()],
        [clinician("ines", role="intern"), clinician("bob")],
        [available("ines", TUESDAY, "am"), available("bob", TUESDAY, "am")],
        pinned=[session("ines", "laval")],
    )
    assert solved(p).conflicts == (
        "Séance imposée : Dr Ines à Laval le mardi 5 janvier 2027 matin",
        "Supervision : l'interne Dr Ines doit avoir un superviseur en séance sur le même site la même demi-journée",
    )


def test_a_pin_on_a_public_holiday_or_a_closed_half_day_is_named():
    p = problem(
        [site(target={"tue-am": 1})],
        [clinician("ana")],
        [available("ana", TUESDAY, "am"), available("ana", TUESDAY, "pm")],
        pinned=[session("ana", "laval", TUESDAY, "pm")],
        holidays=[TUESDAY],
    )
    conflicts = solved(p).conflicts
    assert conflicts[0] == "Séance imposée : Dr Ana à Laval le mardi 5 janvier 2027 après-midi"
    # Either reason alone rules the pin out; the minimal set keeps one of them.
    assert len(conflicts) == 2
    assert conflicts[1] in ("Horaires : Laval est fermé le mardi après-midi", "Jour férié : mardi 5 janvier 2027")


def test_a_feasible_problem_has_no_conflicts():
    p = problem([site()], [clinician("ana")], [available("ana", TUESDAY, "am")], pinned=[session("ana", "laval")])
    assert explain.conflicts(p, time_limit_s=5) == []
    assert solved(p).status == "OPTIMAL"
