"""Benchmark of the matching: deterministic synthetic problems on real communes, with figures.

Two sizes:

- ``mayenne``: 10,000 patients without a GP in Mayenne (53), placed in communes by population;
  15 doctors at 5 real sites (Laval 5, Château-Gontier-sur-Mayenne 3, Mayenne 3, Évron 2,
  Ernée 2), radius 25–40 km, panel caps 700–900 minus a current panel of 150–350, so the
  places (about 8,250) are fewer than the patients.
- ``france``: 1,000,000 patients × 5,000 doctors over every commune of France (overseas
  included), both placed by population; 60–260 places per doctor (about 800,000 in all).

Patients follow the CPTS shares among people without a GP: about 53 % under 16, 4 % over 70,
5 % ALD, 7 % C2S (plus 1 % fragile, some home-visit and PMR needs).

Each size runs in its own process so its peak memory (``ru_maxrss``) is its own. Time and
memory are figures to read, never test assertions (the targets: 10,000 in ≤ 1 s, 1,000,000 in
≤ 60 s within 4 GiB).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from time import perf_counter
from typing import Any

import numpy as np

from scheduling.matching.domain import Doctor, Patient, Problem
from sites.communes import Commune, load_communes

SIZES = ("mayenne", "france")
TARGETS = {"mayenne": {"seconds": 1.0, "mib": None}, "france": {"seconds": 60.0, "mib": 4096.0}}
REFERENCE_DAY = date(2026, 3, 1)

MAYENNE_SITES: tuple[tuple[str, int, bool], ...] = (
    # (commune, doctors, PMR-accessible site)
    ("Laval", 5, True),
    ("Château-Gontier-sur-Mayenne", 3, True),
    ("Mayenne", 3, True),
    ("Évron", 2, True),
    ("Ernée", 2, False),
)


def _patients(rng: np.random.Generator, communes: Sequence[Commune], n: int, prefix: str = "p") -> list[Patient]:
    pop = np.array([c.population for c in communes], dtype=np.float64)
    where = rng.choice(len(communes), size=n, p=pop / pop.sum())
    u = rng.random(n)
    age = np.where(
        u < 0.53, rng.integers(0, 16, n), np.where(u < 0.57, rng.integers(70, 96, n), rng.integers(16, 70, n))
    )
    old = age >= 70
    ald = rng.random(n) < 0.05
    c2s = rng.random(n) < 0.07
    fragile = rng.random(n) < np.where(old, 0.10, 0.005)
    hv = rng.random(n) < np.where(fragile, 0.5, np.where(old, 0.15, 0.01))
    pmr = rng.random(n) < np.where(old, 0.08, 0.01)
    waited = rng.integers(0, 730, n)
    width = len(str(n))
    lat = [communes[i].lat for i in where.tolist()]
    lon = [communes[i].lon for i in where.tolist()]
    insee = [communes[i].insee for i in where.tolist()]
    return [
        Patient(
            id=f"{prefix}{i:0{width}d}",
            lat=lat[i],
            lon=lon[i],
            ald=a,
            c2s=c,
            age=ag,
            fragile=f,
            needs_home_visit=h,
            needs_pmr=m,
            commune=insee[i],
            waiting_since=REFERENCE_DAY - timedelta(days=w),
        )
        for i, (a, c, ag, f, h, m, w) in enumerate(
            zip(
                ald.tolist(),
                c2s.tolist(),
                age.tolist(),
                fragile.tolist(),
                hv.tolist(),
                pmr.tolist(),
                waited.tolist(),
                strict=True,
            )
        )
    ]


def mayenne_problem(n_patients: int = 10_000, seed: int = 53, proposals: int = 3) -> Problem:
    """10,000 patients × 15 doctors at 5 real Mayenne sites (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    communes = load_communes(["53"])
    by_name = {c.name: c for c in communes}
    doctors: list[Doctor] = []
    for site, count, pmr in MAYENNE_SITES:
        c = by_name[site]
        for _ in range(count):
            panel_cap = int(rng.integers(700, 901))
            current = int(rng.integers(150, 351))
            doctors.append(
                Doctor(
                    id=f"d{len(doctors) + 1:02d}",
                    lat=c.lat,
                    lon=c.lon,
                    capacity=Doctor.remaining_capacity(panel_cap, current),
                    radius_km=float(rng.integers(25, 41)),
                    home_visits=bool(rng.random() < 0.6),
                    pmr=pmr,
                )
            )
    return Problem(doctors=tuple(doctors), patients=tuple(_patients(rng, communes, n_patients)), proposals=proposals)


def france_problem(
    n_patients: int = 1_000_000, n_doctors: int = 5_000, seed: int = 2026, proposals: int = 3
) -> Problem:
    """A national-scale simulation: patients and doctors in real communes, by population."""
    rng = np.random.default_rng(seed)
    communes = load_communes(None)
    pop = np.array([c.population for c in communes], dtype=np.float64)
    sites = rng.choice(len(communes), size=n_doctors, p=pop / pop.sum())
    radius = rng.integers(25, 41, n_doctors)
    places = rng.integers(60, 261, n_doctors)
    hv = rng.random(n_doctors) < 0.6
    pmr = rng.random(n_doctors) < 0.7
    doctors = tuple(
        Doctor(
            id=f"d{j:04d}",
            lat=communes[s].lat,
            lon=communes[s].lon,
            capacity=int(places[j]),
            radius_km=float(radius[j]),
            home_visits=bool(hv[j]),
            pmr=bool(pmr[j]),
        )
        for j, s in enumerate(sites.tolist())
    )
    return Problem(doctors=doctors, patients=tuple(_patients(rng, communes, n_patients)), proposals=proposals)


def _rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(size: str, *, certify: bool = True) -> dict[str, Any]:
    """Generate, solve, serialise and (optionally) certify one size in this process."""
    from scheduling.matching.flow import solve
    from scheduling.matching.formats import solution_to_json
    from scheduling.matching.validation import certify as certify_solution
    from scheduling.matching.validation import check_reach

    t = perf_counter()
    problem = mayenne_problem() if size == "mayenne" else france_problem()
    generate_s = perf_counter() - t
    rss_before = _rss_mib()
    t = perf_counter()
    solution = solve(problem)
    solve_s = perf_counter() - t
    peak_solve = _rss_mib()
    t = perf_counter()
    payload = solution_to_json(solution)
    serialise_s = perf_counter() - t
    del payload
    o = solution.objective
    figures: dict[str, Any] = {
        "size": size,
        "patients": len(problem.patients),
        "doctors": len(problem.doctors),
        "places": sum(d.capacity or 0 for d in problem.doctors),
        "generate_s": round(generate_s, 2),
        "solve_s": round(solve_s, 3),
        "serialise_s": round(serialise_s, 2),
        "rss_before_solve_mib": round(rss_before),
        "peak_rss_solve_mib": round(peak_solve),
        "status": solution.status,
        "objective": {
            "tier1": o.tier1,
            "tier12": o.tier12,
            "assigned": o.assigned,
            "total_km": round(o.total_km, 1),
        },
        "tiers": {f"tier{t}": sum(1 for p in problem.patients if _tier(p) == t) for t in (1, 2, 3)},
        "stats": dict(solution.stats),
        "target": TARGETS.get(size),
    }
    if certify:
        t = perf_counter()
        figures["reach_check"] = check_reach(problem, sample=None if size == "mayenne" else 2000)
        figures["certificate"] = certify_solution(problem, solution)
        figures["certify_s"] = round(perf_counter() - t, 2)
        figures["peak_rss_total_mib"] = round(_rss_mib())
    return figures


def _tier(p: Patient) -> int:
    from scheduling.matching.domain import tier

    return tier(p)


def run_benchmark(sizes: Sequence[str] = SIZES, *, certify: bool = True, timeout_s: float = 1800) -> dict[str, Any]:
    """Run each size in a fresh Python process and gather its figures (``smp bench match``)."""
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(root), *filter(None, [env.get("PYTHONPATH")])])
    out: dict[str, Any] = {"sizes": {}}
    for size in sizes:
        if size not in SIZES:
            raise ValueError(f"unknown benchmark size {size!r} (known: {', '.join(SIZES)})")
        code = (
            "import json, sys; from scheduling.matching.bench import measure; "
            f"print(json.dumps(measure({size!r}, certify={certify!r})))"
        )
        done = subprocess.run(  # noqa: S603 - our own interpreter and a fixed command
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout_s,
            check=False,
        )
        if done.returncode != 0:
            out["sizes"][size] = {"size": size, "error": done.stderr.strip().splitlines()[-1:] or ["failed"]}
        else:
            out["sizes"][size] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def format_table(figures: dict[str, Any]) -> str:
    """The figures as a Markdown table (one column per size)."""
    sizes = list(figures.get("sizes", {}).values())
    if not sizes:
        return "(no figures)"

    def cert(f: dict[str, Any]) -> str:
        c = f.get("certificate")
        if not c:
            return "not run"
        mc = c.get("min_cost", {}).get("optimal")
        return (
            f"valid={'yes' if c['valid'] else 'NO'}, levels={'max' if c['levels_optimal'] else 'NOT max'}, "
            f"min-cost={'proved' if mc else 'NOT proved' if mc is False else 'inconclusive'}"
        )

    rows: list[tuple[str, ...]] = [("", *[f["size"] for f in sizes])]
    for label, get in [
        ("patients × doctors", lambda f: f"{f['patients']:,} × {f['doctors']:,}"),
        ("places", lambda f: f"{f['places']:,}"),
        ("solve (s)", lambda f: f"{f['solve_s']:.3f}"),
        ("target (s)", lambda f: f"{f['target']['seconds']:g}" if f.get("target") else ""),
        ("peak RSS during solve (MiB)", lambda f: f"{f['peak_rss_solve_mib']:,}"),
        ("RSS before solve (MiB)", lambda f: f"{f['rss_before_solve_mib']:,}"),
        ("serialise to JSON (s)", lambda f: f"{f['serialise_s']:.2f}"),
        ("groups / reach arcs", lambda f: f"{f['stats']['groups']:,} / {f['stats']['reach_arcs']:,}"),
        (
            "components (largest: nodes, arcs)",
            lambda f: (
                f"{f['stats']['components']} "
                f"({f['stats']['largest_component_nodes']:,}, "
                f"{f['stats']['largest_component_arcs']:,})"
            ),
        ),
        (
            "assigned (tier 1 / tiers 1-2 / all)",
            lambda f: f"{f['objective']['tier1']:,} / {f['objective']['tier12']:,} / {f['objective']['assigned']:,}",
        ),
        ("waiting (tier 1 / 2 / 3)", lambda f: " / ".join(f"{f['tiers'][f'tier{t}']:,}" for t in (1, 2, 3))),
        ("total distance (km)", lambda f: f"{f['objective']['total_km']:,.1f}"),
        (
            "reach vs brute force",
            lambda f: (
                "same" if f.get("reach_check", {}).get("same") else "DIFFERENT" if "reach_check" in f else "not run"
            ),
        ),
        ("optimality checks", cert),
        ("certification (s)", lambda f: f"{f.get('certify_s', 0):.1f}"),
    ]:
        rows.append((label, *[get(f) if "error" not in f else "error" for f in sizes]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
