"""Each hard rule: a small case where it bites, and one where it stays silent."""

from __future__ import annotations

from scheduling.rota import validation

from .helpers import (
    MAYENNE,
    NEXT_MONDAY,
    TUESDAY,
    WEDNESDAY,
    available,
    clinician,
    problem,
    rota,
    session,
    site,
    solved,
)

# 1. works_only_declared_half_days


def test_a_clinician_is_never_put_on_a_half_day_they_did_not_declare():
    laval = site(target={"tue-am": 1, "tue-pm": 1})
    p = problem([laval], [clinician("ana", target_per_week=2)], [available("ana", TUESDAY, "am")])
    assert rota(p) == {session("ana", "laval", TUESDAY, "am")}


def test_a_clinician_works_every_half_day_they_declared_when_needed():
    laval = site(target={"tue-am": 1, "tue-pm": 1})
    p = problem(
        [laval],
        [clinician("ana", target_per_week=2)],
        [available("ana", TUESDAY, "am"), available("ana", TUESDAY, "pm", "preferred")],
    )
    assert rota(p) == {session("ana", "laval", TUESDAY, "am"), session("ana", "laval", TUESDAY, "pm")}


# 2. one_session_per_half_day


def test_a_clinician_holds_one_session_per_half_day_even_when_two_sites_need_them():
    sites = [site("laval"), site("mayenne", where=MAYENNE)]
    p = problem(sites, [clinician("ana", sites=("laval", "mayenne"))], [available("ana", TUESDAY, "am")])
    assert len(rota(p)) == 1


def test_two_clinicians_cover_two_sites_the_same_half_day():
    sites = [site("laval"), site("mayenne", where=MAYENNE)]
    people = [clinician("ana", sites=("laval", "mayenne")), clinician("bob", sites=("laval", "mayenne"))]
    p = problem(sites, people, [available("ana", TUESDAY, "am"), available("bob", TUESDAY, "am")])
    assert {s.site for s in rota(p)} == {"laval", "mayenne"}


# 3. sessions_within_site_rooms


def test_sessions_never_outnumber_the_rooms():
    p = problem(
        [site(rooms=1, target={"tue-am": 2})],
        [clinician("ana"), clinician("bob")],
        [available("ana", TUESDAY, "am"), available("bob", TUESDAY, "am")],
    )
    assert len(rota(p)) == 1


def test_every_room_can_be_used():
    p = problem(
        [site(rooms=2, target={"tue-am": 2})],
        [clinician("ana"), clinician("bob")],
        [available("ana", TUESDAY, "am"), available("bob", TUESDAY, "am")],
    )
    assert len(rota(p)) == 2


# 4. only_open_half_days_never_holidays


def test_no_session_when_the_site_is_closed_even_for_someone_below_their_weekly_target():
    p = problem(
        [site(target={"tue-am": 1})],
        [clinician("ana", target_per_week=3)],
        [available("ana", TUESDAY, "am"), available("ana", TUESDAY, "pm"), available("ana", WEDNESDAY, "am")],
    )
    assert rota(p) == {session("ana", "laval", TUESDAY, "am")}


def test_no_session_on_a_public_holiday():
    p = problem(
        [site(target={"tue-am": 1})],
        [clinician("ana", target_per_week=1)],
        [available("ana", TUESDAY, "am")],
        holidays=[TUESDAY],
    )
    assert rota(p) == set()


def test_an_open_working_day_gets_its_session():
    p = problem([site(target={"tue-am": 1})], [clinician("ana")], [available("ana", TUESDAY, "am")])
    assert rota(p) == {session("ana", "laval", TUESDAY, "am")}


# 5. weekly_maximum_respected


def test_a_clinician_never_exceeds_their_weekly_maximum():
    p = problem(
        [site(target={"tue-am": 1, "tue-pm": 1, "wed-am": 1})],
        [clinician("ana", max_per_week=2, target_per_week=2)],
        [available("ana", TUESDAY, "am"), available("ana", TUESDAY, "pm"), available("ana", WEDNESDAY, "am")],
    )
    assert len(rota(p)) == 2


def test_the_weekly_maximum_counts_each_iso_week_separately():
    p = problem(
        [site(target={"tue-am": 1, "mon-am": 1})],
        [clinician("ana", max_per_week=1)],
        [available("ana", TUESDAY, "am"), available("ana", NEXT_MONDAY, "am")],
        end=NEXT_MONDAY,
    )
    assert rota(p) == {session("ana", "laval", TUESDAY, "am"), session("ana", "laval", NEXT_MONDAY, "am")}


# 6. intern_needs_supervisor_on_site


def test_an_intern_is_never_alone_without_a_supervisor():
    p = problem(
        [site(target={"tue-am": 2})],
        [clinician("ines", role="intern", target_per_week=4), clinician("bob")],
        [available("ines", TUESDAY, "am"), available("bob", TUESDAY, "am")],
    )
    assert rota(p) == {session("bob", "laval")}


def test_a_supervisor_at_another_site_does_not_count():
    sites = [site("laval", target={"tue-am": 1}), site("mayenne", where=MAYENNE, target={"tue-am": 1})]
    p = problem(
        sites,
        [clinician("ines", role="intern"), clinician("sam", supervisor=True, sites=("mayenne",))],
        [available("ines", TUESDAY, "am"), available("sam", TUESDAY, "am")],
    )
    assert rota(p) == {session("sam", "mayenne")}


def test_a_supervisor_cannot_leave_an_intern_alone_to_cover_another_site():
    # Sam at Mayenne and Ines alone at Laval would meet both targets; the rule forbids it.
    sites = [site("laval", target={"tue-am": 1}), site("mayenne", where=MAYENNE, target={"tue-am": 1})]
    p = problem(
        sites,
        [clinician("ines", role="intern"), clinician("sam", supervisor=True, sites=("laval", "mayenne"))],
        [available("ines", TUESDAY, "am"), available("sam", TUESDAY, "am")],
    )
    solution = solved(p)
    assert session("ines", "laval") not in solution.assignments or session("sam", "laval") in solution.assignments
    assert sum(u.missing for u in solution.unmet) == 1


def test_an_intern_consults_beside_a_supervisor_or_the_coordinator():
    p = problem(
        [site(target={"tue-am": 3})],
        [clinician("ines", role="intern"), clinician("sam", supervisor=True), clinician("cora", role="coordinator")],
        [available(c, TUESDAY, "am") for c in ("ines", "sam", "cora")],
    )
    assert {s.clinician for s in rota(p)} == {"ines", "sam", "cora"}


# 7. only_allowed_sites


def test_a_clinician_only_works_at_their_allowed_sites():
    sites = [site("laval", target={}, open_=["tue-am"]), site("mayenne", where=MAYENNE)]
    p = problem(sites, [clinician("ana", sites=("laval",), target_per_week=1)], [available("ana", TUESDAY, "am")])
    solution = solved(p)
    assert not any(s.site == "mayenne" for s in solution.assignments)
    assert [u.site for u in solution.unmet] == ["mayenne"]


def test_an_allowed_site_gets_the_clinician():
    sites = [site("laval", target={}, open_=["tue-am"]), site("mayenne", where=MAYENNE)]
    p = problem(sites, [clinician("ana", sites=("laval", "mayenne"))], [available("ana", TUESDAY, "am")])
    assert rota(p) == {session("ana", "mayenne")}


# 8. pinned_sessions_are_kept


def test_a_pinned_session_is_kept_even_when_the_solver_would_rather_not():
    pin = session("ana", "mayenne")
    p = problem(
        [site("laval", target={"tue-am": 1}), site("mayenne", where=MAYENNE, target={}, open_=["tue-am"])],
        [clinician("ana", sites=("laval", "mayenne"), home=(48.06, -0.77))],
        [available("ana", TUESDAY, "am")],
        pinned=[pin],
    )
    assert rota(p) == {pin}


def test_without_a_pin_the_solver_chooses_freely():
    p = problem(
        [site("laval", target={"tue-am": 1}), site("mayenne", where=MAYENNE, target={}, open_=["tue-am"])],
        [clinician("ana", sites=("laval", "mayenne"), home=(48.06, -0.77))],
        [available("ana", TUESDAY, "am")],
    )
    assert rota(p) == {session("ana", "laval")}


def test_every_solved_rota_passes_the_independent_validation():
    p = problem(
        [site(rooms=2, target={"tue-am": 2, "tue-pm": 2})],
        [clinician("ines", role="intern"), clinician("sam", supervisor=True), clinician("bob", max_per_week=1)],
        [available(c, TUESDAY, period) for c in ("ines", "sam", "bob") for period in ("am", "pm")],
    )
    solution = solved(p)
    assert validation.check(p, solution.assignments) == []
    assert solution.objective == validation.objective(p, solution.assignments)
