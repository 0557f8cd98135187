"""The benchmark's instances are realistic and reproducible; its table reports every figure."""

from __future__ import annotations

from collections import Counter

from scheduling.rota import validation
from scheduling.rota.bench import format_table, make_instance, run_benchmark
from scheduling.rota.halfdays import iso_week
from sites.communes import load_communes


def test_an_instance_is_the_same_for_the_same_seed_and_differs_for_another():
    assert make_instance("demo", seed=4) == make_instance("demo", seed=4)
    assert make_instance("demo", seed=4).availability != make_instance("demo", seed=5).availability


def test_the_demo_instance_is_a_mayenne_clinic_of_fifteen():
    p = make_instance("demo")
    assert [s.name for s in p.sites] == ["Laval", "Château-Gontier-sur-Mayenne", "Mayenne", "Évron", "Ernée"]
    assert Counter(c.role for c in p.clinicians) == {"retired_gp": 12, "intern": 2, "coordinator": 1}
    assert len({iso_week(a.date) for a in p.availability}) == 4
    assert all(c.can_supervise for c in p.clinicians if c.role == "coordinator")
    mayenne = load_communes(["53"])
    lats = [c.lat for c in mayenne]
    assert all(min(lats) - 0.02 <= c.home.lat <= max(lats) + 0.02 for c in p.clinicians if c.home)


def test_the_departement_instance_has_a_hundred_clinicians_twenty_sites_and_thirteen_weeks():
    p = make_instance("departement")
    assert (len(p.clinicians), len(p.sites)) == (100, 20)
    assert p.start.isoformat() == "2027-01-04" and (p.end - p.start).days + 1 == 13 * 7
    assert len(p.closed_dates) == 1  # Easter Monday, 29 March 2027


def test_retired_gps_declare_two_to_five_half_days_a_week_or_take_the_week_off():
    p = make_instance("departement")
    per_week = Counter(
        (a.clinician, iso_week(a.date)) for a in p.availability if p.clinician_by_id[a.clinician].role == "retired_gp"
    )
    assert set(per_week.values()) <= {2, 3, 4, 5}
    assert len(per_week) < 84 * 13  # some weeks off
    assert any(a.level == "preferred" for a in p.availability)


def test_the_benchmark_reports_every_figure_for_each_size():
    figures = run_benchmark(sizes=("demo",), time_limit_s=5)
    demo = figures["sizes"]["demo"]
    assert demo["cpsat"]["hard_violations"] == demo["greedy"]["hard_violations"] == 0
    assert demo["cpsat"]["objective_matches_validation"]
    assert demo["greedy"]["covered"] <= demo["cpsat"]["covered"] <= demo["coverage_upper_bound"]
    assert demo["coverage_upper_bound"] <= demo["coverage_bound_flow"] <= demo["target_sessions"]
    assert demo["resolve"]["other_sessions_changed"] <= demo["resolve"]["other_sessions"]
    table = format_table(figures)
    for label in ("CP-SAT first feasible (s)", "greedy coverage / best bound", "re-solve: other sessions changed"):
        assert label in table
    p = make_instance("demo")
    assert demo["target_sessions"] == validation.coverage(p, [])[1]
