"""The benchmark's generators are deterministic and realistic, and its checks bite."""

from collections import Counter

from scheduling.matching import tier
from scheduling.matching.bench import format_table, mayenne_problem, measure


def test_the_mayenne_problem_is_deterministic_with_binding_capacity():
    a, b = mayenne_problem(n_patients=2000), mayenne_problem(n_patients=2000)
    assert a == b
    full = mayenne_problem()
    assert len(full.patients) == 10_000 and len(full.doctors) == 15
    sites = Counter((d.lat, d.lon) for d in full.doctors)
    assert sorted(sites.values()) == [2, 2, 3, 3, 5]
    assert sum(d.capacity for d in full.doctors) < len(full.patients)
    children = sum(1 for p in full.patients if p.age < 16) / len(full.patients)
    ald = sum(p.ald for p in full.patients) / len(full.patients)
    assert 0.50 < children < 0.56 and 0.04 < ald < 0.06
    assert Counter(tier(p) for p in full.patients)[1] > 0


def test_the_mayenne_benchmark_proves_its_solution_optimal():
    figures = measure("mayenne")
    cert = figures["certificate"]
    assert figures["status"] == "OPTIMAL" and figures["reach_check"]["same"]
    assert cert["valid"] and cert["levels_optimal"] and cert["min_cost"]["optimal"] is True
    assert figures["objective"]["assigned"] == figures["places"]  # every place is used
    table = format_table({"sizes": {"mayenne": figures}})
    assert "10,000 × 15" in table and "min-cost=proved" in table
