"""Solver-independent checks of a matching solution.

- :func:`check_solution` re-checks every rule on the output (each patient once, capacities,
  perimeter with the scalar ``sites.geo.haversine_km``, home visits, PMR, distances, the
  objective) and returns the violations (none for a valid solution).
- :func:`max_matchable` is the most patients of the given tiers that *any* assignment can
  place (a plain max-flow, no weights): the solution is lexicographically optimal on the
  priority levels iff it reaches it for tiers {1}, {1, 2} and {1, 2, 3}.
- :func:`certify_min_cost` proves the whole lexicographic optimum, distance included: it
  rebuilds the aggregated flow graph from the solution's assignments, with its own priority
  weight, and searches the residual graph for a negative-cost cycle (Bellman–Ford). None
  means no cheaper flow exists (the classic optimality condition for min-cost flow).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import numpy as np
from ortools.graph.python import max_flow

from scheduling.matching import spatial
from scheduling.matching.domain import Doctor, Patient, Problem, Solution, priority_weight, tier
from sites.geo import haversine_km

KM_TOLERANCE = 1e-6


def _eligible(p: Patient, d: Doctor) -> tuple[bool, float]:
    km = haversine_km(p.lat, p.lon, d.lat, d.lon)
    in_perimeter = (d.radius_km is not None and km <= d.radius_km + KM_TOLERANCE) or (
        d.communes is not None and p.commune is not None and p.commune in d.communes
    )
    ok = d.accepting and in_perimeter and (d.home_visits or not p.needs_home_visit) and (d.pmr or not p.needs_pmr)
    return ok, km


def check_solution(problem: Problem, solution: Solution, *, max_reason_checks: int = 2000) -> list[str]:
    """Every rule the output must keep; an empty list when it keeps them all.

    The reasons given to unassigned patients are re-derived for the first ``max_reason_checks``
    of them (each check scans every doctor).
    """
    errors: list[str] = []
    patients = {p.id: p for p in problem.patients}
    doctors = {d.id: d for d in problem.doctors}
    seen = Counter([a.patient for a in solution.assignments] + [u.patient for u in solution.unassigned])
    for pid, n in seen.items():
        if n > 1:
            errors.append(f"patient {pid} appears {n} times")
        if pid not in patients:
            errors.append(f"unknown patient {pid}")
    errors += [f"patient {pid} is neither assigned nor unassigned" for pid in patients if pid not in seen]
    load: Counter[str] = Counter()
    total_km = 0.0
    n1 = n12 = 0
    for a in solution.assignments:
        p, d = patients.get(a.patient), doctors.get(a.doctor)
        if p is None or d is None:
            errors.append(f"assignment {a.patient}->{a.doctor} names an unknown patient or doctor")
            continue
        ok, km = _eligible(p, d)
        if not ok:
            errors.append(f"{a.patient} is not eligible for {a.doctor} ({km:.3f} km)")
        if abs(km - a.km) > KM_TOLERANCE:
            errors.append(f"{a.patient}->{a.doctor}: {a.km} km reported, {km} km actual")
        load[a.doctor] += 1
        total_km += km
        t = tier(p)
        n1 += t == 1
        n12 += t <= 2
    for did, n in load.items():
        cap = doctors[did].capacity
        if cap is not None and n > cap:
            errors.append(f"doctor {did} takes {n} patients for {cap} places")
    o = solution.objective
    if (o.tier1, o.tier12, o.assigned) != (n1, n12, len(solution.assignments)):
        errors.append(f"objective {o} does not match the assignments ({n1}, {n12}, {len(solution.assignments)})")
    if abs(o.total_km - total_km) > KM_TOLERANCE * max(1, len(solution.assignments)):
        errors.append(f"total distance {o.total_km} reported, {total_km} actual")
    for u in solution.unassigned[:max_reason_checks]:
        p = patients.get(u.patient)
        if p is not None:
            expected = expected_code(p, problem.doctors, load)
            if expected != u.code:
                errors.append(f"{u.patient}: reason {u.code}, expected {expected}")
    return errors


def expected_code(p: Patient, doctors: tuple[Doctor, ...], load: Counter[str]) -> str:
    """Why ``p`` can stay unassigned, by the rules alone (``ok`` if a doctor with a place fits)."""
    in_perimeter = [
        d
        for d in doctors
        if d.accepting
        and (
            (d.radius_km is not None and haversine_km(p.lat, p.lon, d.lat, d.lon) <= d.radius_km)
            or (d.communes is not None and p.commune is not None and p.commune in d.communes)
        )
    ]
    if not in_perimeter:
        return "out_of_reach"
    if p.needs_home_visit and not any(d.home_visits for d in in_perimeter):
        return "no_home_visits"
    if p.needs_pmr and not any(d.pmr for d in in_perimeter):
        return "no_pmr"
    fitting = [d for d in in_perimeter if (d.home_visits or not p.needs_home_visit) and (d.pmr or not p.needs_pmr)]
    if not fitting:
        return "no_home_visits_pmr"
    if any(d.capacity is None or load[d.id] < d.capacity for d in fitting):
        return "ok"
    return "capacity"


@dataclass(frozen=True)
class _Graph:
    """The aggregated eligibility graph: groups of interchangeable patients → doctors."""

    group_key: list[tuple[float, float, str | None, bool, bool]]
    group_of: dict[str, int]
    tier_count: np.ndarray  # (groups, 3)
    arc_group: np.ndarray
    arc_doc: np.ndarray
    arc_m: np.ndarray  # distance in metres, rounded
    doc_index: dict[str, int]
    cap: np.ndarray  # places per doctor (0 when not accepting)


def _graph(problem: Problem) -> _Graph:
    keys: dict[tuple[float, float, str | None, bool, bool], int] = {}
    group_of: dict[str, int] = {}
    tiers: list[tuple[int, int]] = []
    for p in problem.patients:
        g = keys.setdefault((p.lat, p.lon, p.commune, p.needs_home_visit, p.needs_pmr), len(keys))
        group_of[p.id] = g
        tiers.append((g, tier(p)))
    key_list = list(keys)
    tier_count = np.zeros((len(key_list), 3), dtype=np.int64)
    for g, t in tiers:
        tier_count[g, t - 1] += 1
    places: dict[tuple[float, float, str | None], int] = {}
    g_place = np.array([places.setdefault(k[:3], len(places)) for k in key_list], dtype=np.int64)
    place_list = list(places)
    codes = {c: i for i, c in enumerate(sorted({k[2] for k in place_list if k[2] is not None}))}
    docs = problem.doctors
    r = spatial.reach(
        np.array([k[0] for k in place_list]),
        np.array([k[1] for k in place_list]),
        np.array([codes.get(k[2], -1) if k[2] is not None else -1 for k in place_list], dtype=np.int64),
        np.array([d.lat for d in docs]),
        np.array([d.lon for d in docs]),
        np.array([np.nan if d.radius_km is None else d.radius_km for d in docs]),
        [
            None if not d.communes else np.array(sorted(codes[c] for c in d.communes if c in codes), dtype=np.int64)
            for d in docs
        ],
    )
    by_place: dict[int, list[int]] = {}
    for i, pl in enumerate(r.place.tolist()):
        by_place.setdefault(pl, []).append(i)
    ag: list[int] = []
    ad: list[int] = []
    am: list[int] = []
    for g, (_, _, _, hv, pmr) in enumerate(key_list):
        for i in by_place.get(int(g_place[g]), ()):
            d = docs[int(r.doctor[i])]
            if d.accepting and (d.home_visits or not hv) and (d.pmr or not pmr):
                ag.append(g)
                ad.append(int(r.doctor[i]))
                am.append(round(float(r.km[i]) * 1000.0))
    n = len(problem.patients)
    cap = np.array(
        [0 if not d.accepting else n if d.capacity is None else min(d.capacity, n) for d in docs],
        dtype=np.int64,
    )
    return _Graph(
        key_list,
        group_of,
        tier_count,
        np.array(ag, dtype=np.int64),
        np.array(ad, dtype=np.int64),
        np.array(am, dtype=np.int64),
        {d.id: j for j, d in enumerate(docs)},
        cap,
    )


def max_matchable(problem: Problem, tiers: set[int], graph: _Graph | None = None) -> int:
    """The most patients of ``tiers`` that any assignment can place (OR-Tools max-flow)."""
    gr = graph or _graph(problem)
    ng, nd = len(gr.group_key), len(gr.cap)
    source, sink = ng + nd, ng + nd + 1
    supply = gr.tier_count[:, [t - 1 for t in sorted(tiers)]].sum(axis=1)
    smf = max_flow.SimpleMaxFlow()
    tails = np.concatenate([np.full(ng, source), gr.arc_group, ng + np.arange(nd)])
    heads = np.concatenate([np.arange(ng), ng + gr.arc_doc, np.full(nd, sink)])
    caps = np.concatenate([supply, supply[gr.arc_group], gr.cap])
    smf.add_arcs_with_capacity(tails.astype(np.int32), heads.astype(np.int32), caps.astype(np.int64))
    status = smf.solve(source, sink)
    if status != smf.OPTIMAL:
        raise RuntimeError(f"max-flow status {status}")
    return int(smf.optimal_flow())


def certify_min_cost(
    problem: Problem, solution: Solution, graph: _Graph | None = None, max_iterations: int | None = None
) -> dict[str, Any]:
    """Look for a negative cycle in the residual graph of the solution's own flow.

    Returns ``{"optimal": True}`` when there is none (the solution is a minimum-cost flow, hence
    lexicographically optimal), ``{"optimal": False, ...}`` when one exists, and
    ``{"optimal": None}`` when the search hit ``max_iterations`` (inconclusive).
    """
    t0 = perf_counter()
    gr = graph or _graph(problem)
    ng, nd = len(gr.group_key), len(gr.cap)
    sink = ng + nd
    n_nodes = ng + nd + 1
    # The solution as a flow on the aggregated graph.
    arc_pos = {(int(g), int(d)): i for i, (g, d) in enumerate(zip(gr.arc_group, gr.arc_doc, strict=True))}
    arc_flow = np.zeros(len(gr.arc_group), dtype=np.int64)
    for a in solution.assignments:
        key = (gr.group_of[a.patient], gr.doc_index[a.doctor])
        if key not in arc_pos:
            return {"optimal": False, "why": f"{a.patient}->{a.doctor} is not an arc", "seconds": 0.0}
        arc_flow[arc_pos[key]] += 1
    patients = {p.id: p for p in problem.patients}
    left = np.zeros((ng, 3), dtype=np.int64)
    for u in solution.unassigned:
        left[gr.group_of[u.patient], tier(patients[u.patient]) - 1] += 1
    doc_flow = np.bincount(gr.arc_doc, weights=arc_flow, minlength=nd).astype(np.int64)
    # Our own W: anything above the largest possible total distance will do.
    max_m = np.zeros(ng, dtype=np.int64)
    np.maximum.at(max_m, gr.arc_group, gr.arc_m)
    big_w = int((gr.tier_count.sum(axis=1) * max_m).sum()) + 1
    g_ids = np.repeat(np.arange(ng), 3)
    t_ids = np.tile(np.arange(3), ng)
    leave_cap = gr.tier_count.reshape(-1)
    leave_flow = left.reshape(-1)
    leave_cost = np.array([big_w * priority_weight(t + 1) for t in range(3)], dtype=np.int64)[t_ids]
    real = leave_cap > 0
    tails = np.concatenate([gr.arc_group, ng + np.arange(nd), g_ids[real]])
    heads = np.concatenate([ng + gr.arc_doc, np.full(nd, sink), np.full(int(real.sum()), sink)])
    caps = np.concatenate([np.full(len(gr.arc_group), 1 << 40), gr.cap, leave_cap[real]])
    flows = np.concatenate([arc_flow, doc_flow, leave_flow[real]])
    costs = np.concatenate([gr.arc_m, np.zeros(nd, dtype=np.int64), leave_cost[real]])
    # Feasibility: capacities and conservation.
    out = np.bincount(tails, weights=flows, minlength=n_nodes)
    inn = np.bincount(heads, weights=flows, minlength=n_nodes)
    supply = np.zeros(n_nodes)
    supply[:ng] = gr.tier_count.sum(axis=1)
    supply[sink] = -supply[:ng].sum()
    if (flows < 0).any() or (flows > caps).any() or not np.array_equal(out - inn, supply):
        return {
            "optimal": False,
            "why": "the solution is not a feasible flow",
            "seconds": perf_counter() - t0,
        }
    # Residual graph and Bellman–Ford from a virtual source (all distances start at 0),
    # relaxing only the arcs whose tail improved in the previous round.
    fwd = flows < caps
    bwd = flows > 0
    r_tail = np.concatenate([tails[fwd], heads[bwd]])
    r_head = np.concatenate([heads[fwd], tails[bwd]])
    r_cost = np.concatenate([costs[fwd], -costs[bwd]])
    order = np.argsort(r_tail, kind="stable")
    r_tail, r_head, r_cost = r_tail[order], r_head[order], r_cost[order]
    ptr = np.searchsorted(r_tail, np.arange(n_nodes + 1))
    dist = np.zeros(n_nodes, dtype=np.int64)
    active = np.arange(n_nodes)
    limit = max_iterations or n_nodes + 1
    it = 0
    while len(active) and it < limit:
        it += 1
        cnt = ptr[active + 1] - ptr[active]
        total = int(cnt.sum())
        if total == 0:
            active = np.empty(0, dtype=np.int64)
            break
        offs = np.cumsum(cnt) - cnt
        idx = np.repeat(ptr[active] - offs, cnt) + np.arange(total)
        cand = dist[r_tail[idx]] + r_cost[idx]
        heads_ = r_head[idx]
        better = cand < dist[heads_]
        if not better.any():
            active = np.empty(0, dtype=np.int64)
            break
        new = dist.copy()
        np.minimum.at(new, heads_[better], cand[better])
        active = np.flatnonzero(new < dist)
        dist = new
    seconds = perf_counter() - t0
    if len(active) == 0:
        return {
            "optimal": True,
            "iterations": it,
            "residual_arcs": len(r_tail),
            "nodes": n_nodes,
            "seconds": seconds,
        }
    if it >= n_nodes:
        return {
            "optimal": False,
            "why": "negative cycle in the residual graph",
            "iterations": it,
            "seconds": seconds,
        }
    return {"optimal": None, "why": f"not settled after {it} rounds", "seconds": seconds}


def certify(problem: Problem, solution: Solution, *, min_cost: bool = True) -> dict[str, Any]:
    """All the optimality checks: validity, the three priority levels by max-flow, min cost."""
    t0 = perf_counter()
    errors = check_solution(problem, solution)
    gr = _graph(problem)
    o = solution.objective
    levels = {
        "tier1": (o.tier1, max_matchable(problem, {1}, gr)),
        "tier12": (o.tier12, max_matchable(problem, {1, 2}, gr)),
        "assigned": (o.assigned, max_matchable(problem, {1, 2, 3}, gr)),
    }
    out: dict[str, Any] = {
        "valid": not errors,
        "violations": errors[:20],
        "levels": {k: {"solution": a, "max": b} for k, (a, b) in levels.items()},
        "levels_optimal": all(a == b for a, b in levels.values()),
    }
    if min_cost:
        out["min_cost"] = certify_min_cost(problem, solution, gr)
    out["seconds"] = round(perf_counter() - t0, 3)
    out["total_km_exact"] = math.fsum(a.km for a in solution.assignments)
    return out


def check_reach(problem: Problem, *, sample: int | None = None, seed: int = 0) -> dict[str, Any]:
    """Compare the grid index with brute force over all (place, doctor) pairs.

    ``sample`` limits the check to that many distinct places (drawn with ``seed``).
    """
    places = sorted({(p.lat, p.lon, p.commune) for p in problem.patients}, key=lambda k: (k[0], k[1], k[2] or ""))
    if sample is not None and sample < len(places):
        rng = np.random.default_rng(seed)
        places = [places[i] for i in sorted(rng.choice(len(places), size=sample, replace=False).tolist())]
    codes = {c: i for i, c in enumerate(sorted({k[2] for k in places if k[2] is not None}))}
    docs = problem.doctors
    args = (
        np.array([k[0] for k in places], dtype=np.float64),
        np.array([k[1] for k in places], dtype=np.float64),
        np.array([codes[k[2]] if k[2] is not None else -1 for k in places], dtype=np.int64),
        np.array([d.lat for d in docs], dtype=np.float64),
        np.array([d.lon for d in docs], dtype=np.float64),
        np.array([np.nan if d.radius_km is None else d.radius_km for d in docs], dtype=np.float64),
        [
            None if not d.communes else np.array(sorted(codes[c] for c in d.communes if c in codes), dtype=np.int64)
            for d in docs
        ],
    )
    fast, dense = spatial.reach(*args), spatial.reach_dense(*args)
    same = (
        np.array_equal(fast.place, dense.place)
        and np.array_equal(fast.doctor, dense.doctor)
        and np.allclose(fast.km, dense.km, rtol=0, atol=1e-9)
    )
    return {"same": bool(same), "places": len(places), "pairs": len(dense.place)}
