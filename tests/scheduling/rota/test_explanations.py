"""Why a target session stays empty, in the coordinator's words."""

from __future__ import annotations

from scheduling.rota.explain import unmet_targets

from .helpers import MAYENNE, TUESDAY, WEDNESDAY, available, clinician, problem, session, site, solved


def reasons(solution, site_id: str = "laval") -> list[str]:
    [unmet] = [u for u in solution.unmet if u.site == site_id]
    return list(unmet.reasons)


def test_an_empty_session_with_nobody_available_says_so():
    p = problem([site(target={"tue-am": 1})], [clinician("ana")], [available("ana", WEDNESDAY, "am")])
    solution = solved(p)
    assert solution.unmet[0].missing == 1
    assert reasons(solution) == ["Personne n'est disponible sur ce site ce créneau"]


def test_it_mentions_available_people_who_are_not_allowed_on_the_site():
    sites = [site("laval", target={"tue-am": 1}), site("mayenne", where=MAYENNE, target={}, open_=["tue-am"])]
    p = problem(sites, [clinician("ana", sites=("mayenne",))], [available("ana", TUESDAY, "am")])
    assert reasons(solved(p)) == [
        "Personne n'est disponible sur ce site ce créneau",
        "1 personne(s) disponible(s) ce créneau mais non autorisée(s) sur ce site",
    ]


def test_an_empty_session_names_everyone_already_at_their_weekly_maximum():
    p = problem(
        [site(target={"tue-am": 1, "wed-am": 1})],
        [clinician("ana", max_per_week=1)],
        [available("ana", TUESDAY, "am"), available("ana", WEDNESDAY, "am", "preferred")],
    )
    solution = solved(p)
    [unmet] = solution.unmet
    assert (unmet.date, unmet.period) == (TUESDAY, "am")
    assert list(unmet.reasons) == [
        "Toutes les personnes disponibles ont atteint leur maximum hebdomadaire : Dr Ana (1/1)"
    ]


def test_an_empty_session_names_an_intern_without_a_supervisor():
    p = problem(
        [site(target={"tue-am": 2})],
        [clinician("ines", role="intern"), clinician("bob")],
        [available("ines", TUESDAY, "am"), available("bob", TUESDAY, "am")],
    )
    assert reasons(solved(p)) == ["Interne sans superviseur en séance sur le site : Dr Ines"]


def test_an_empty_session_says_when_the_rooms_are_full():
    p = problem(
        [site(rooms=1, target={"tue-am": 2})],
        [clinician("ana"), clinician("bob")],
        [available("ana", TUESDAY, "am"), available("bob", TUESDAY, "am")],
    )
    assert reasons(solved(p))[0] == "Salles pleines : 1 séance(s) pour 1 salle(s)"


def test_an_empty_session_names_who_is_busy_elsewhere():
    sites = [site("laval", target={"tue-am": 1}), site("mayenne", where=MAYENNE, target={"tue-am": 1})]
    p = problem(sites, [clinician("ana", sites=("laval", "mayenne"))], [available("ana", TUESDAY, "am")])
    solution = solved(p)
    [unmet] = solution.unmet
    [held] = solution.assignments
    other = "Mayenne" if held.site == "mayenne" else "Laval"
    assert list(unmet.reasons) == [f"Déjà en séance ailleurs ce créneau : Dr Ana ({other})"]


def test_a_hand_made_rota_that_leaves_someone_free_says_who_could_still_come():
    p = problem(
        [site(target={"tue-am": 2})],
        [clinician("ana"), clinician("bob")],
        [available("ana", TUESDAY, "am"), available("bob", TUESDAY, "am")],
    )
    [unmet] = unmet_targets(p, [session("ana", "laval")])
    assert unmet.reasons == ("Encore libre(s), non placé(s) au profit d'autres règles : Dr Bob",)


def test_a_met_target_is_not_listed():
    p = problem([site(target={"tue-am": 1})], [clinician("ana")], [available("ana", TUESDAY, "am")])
    assert solved(p).unmet == ()
