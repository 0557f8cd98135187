"""The assignment, solved exactly as a min-cost flow (OR-Tools) on a sparse graph.

Graph (one per connected component of the reach graph; see README for the exactness argument):

    group g  --(cap min(count_g, cap_d), cost = metres)-->  doctor d  --(cap places_d, 0)-->  sink
    group g  --(cap count of tier t in g, cost W·w_t)------------------------------------->  sink

A *group* holds the patients who are interchangeable for the model: same place (commune
centroid and commune code), same needs (home visit, PMR). With ``aggregate=False`` each patient
is their own group (the plain graph). A group's supply is its number of patients; the arcs to
the sink price leaving a patient of tier t without a doctor at W·w_t with w = 3, 2, 1 for tiers
1, 2, 3 and W larger than any total distance, so the minimum cost first assigns as much
priority weight as possible — which gives the most tier-1, then tier-1+2, then patients — and
then the least total distance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from time import perf_counter
from typing import Any

import numpy as np
from ortools.graph.python import min_cost_flow

from scheduling.matching import spatial
from scheduling.matching.domain import (
    Assignment,
    Objective,
    Patient,
    Problem,
    Proposal,
    Solution,
    Unassigned,
    priority_weight,
    tier,
)
from scheduling.matching.proposals import reasons

INT64_BUDGET = 2**62
"""Head-room kept below int64: OR-Tools multiplies costs by (nodes + 1) while scaling them."""

NO_DATE = 2**40

REASONS: dict[str, str] = {
    "out_of_reach": "aucun médecin dans le rayon",
    "no_home_visits": "aucun médecin faisant des visites à domicile à portée",
    "no_pmr": "aucun cabinet accessible PMR à portée",
    "no_home_visits_pmr": ("aucun médecin à portée ne fait les visites à domicile avec un cabinet accessible PMR"),
    "capacity": "capacité des médecins à portée épuisée",
}


class MatchingError(RuntimeError):
    """The flow solver did not prove an optimum (a bug or a cost overflow, never bad input)."""


# --------------------------------------------------------------------------- columns


class _Columns:
    """The problem as numpy columns (one row per patient / per doctor)."""

    def __init__(self, problem: Problem) -> None:
        pats: Sequence[Patient] = problem.patients
        docs = problem.doctors
        n = len(pats)
        self.n = n
        self.lat = np.fromiter((p.lat for p in pats), np.float64, n)
        self.lon = np.fromiter((p.lon for p in pats), np.float64, n)
        self.tier = np.fromiter((tier(p) for p in pats), np.int8, n)
        self.hv = np.fromiter((p.needs_home_visit for p in pats), np.bool_, n)
        self.pmr = np.fromiter((p.needs_pmr for p in pats), np.bool_, n)
        self.wait = np.fromiter(
            (p.waiting_since.toordinal() if p.waiting_since is not None else NO_DATE for p in pats),
            np.int64,
            n,
        )
        codes: dict[str, int] = {}
        self.commune = np.fromiter(
            (-1 if p.commune is None else codes.setdefault(p.commune, len(codes)) for p in pats), np.int64, n
        )
        m = len(docs)
        self.m = m
        self.d_lat = np.array([d.lat for d in docs], dtype=np.float64)
        self.d_lon = np.array([d.lon for d in docs], dtype=np.float64)
        self.d_radius = np.array([np.nan if d.radius_km is None else d.radius_km for d in docs], np.float64)
        self.d_hv = np.array([d.home_visits for d in docs], dtype=np.bool_)
        self.d_pmr = np.array([d.pmr for d in docs], dtype=np.bool_)
        self.d_accepting = np.array([d.accepting for d in docs], dtype=np.bool_)
        self.d_unlimited = np.array([d.capacity is None for d in docs], dtype=np.bool_)
        self.d_cap = np.array([n if d.capacity is None else min(d.capacity, n) for d in docs], np.int64)
        self.d_cap[~self.d_accepting] = 0
        self.d_communes: list[np.ndarray | None] = [
            None if not d.communes else np.array(sorted(codes[c] for c in d.communes if c in codes), dtype=np.int64)
            for d in docs
        ]
        # Ties between doctors are broken by id, as `proposals.propose` does.
        self.d_rank = np.empty(m, dtype=np.int64)
        self.d_rank[np.argsort(np.array([d.id for d in docs], dtype=object), kind="stable")] = np.arange(m)


def _group_rows(*cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group equal rows: (group id per row, first row of each group); groups ordered by the columns."""
    n = len(cols[0])
    if n == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    order = np.lexsort(cols[::-1])
    change = np.zeros(n, dtype=np.bool_)
    change[0] = True
    for c in cols:
        s = c[order]
        change[1:] |= s[1:] != s[:-1]
    gid = np.empty(n, dtype=np.int64)
    gid[order] = np.cumsum(change) - 1
    return gid, order[change]


def _ranges(start: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(start[i], start[i] + count[i])`` for all i, vectorised."""
    total = int(count.sum())
    if total == 0:
        return np.empty(0, np.int64)
    offsets = np.cumsum(count) - count
    return np.repeat(start - offsets, count) + np.arange(total)


def _components(n_left: int, n_right: int, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Connected components of a bipartite graph (hooking + pointer jumping, all in numpy).

    Returns the component root of every left node and every right node (isolated nodes are
    their own root).
    """
    u = left.astype(np.int64)
    v = right.astype(np.int64) + n_left
    parent = np.arange(n_left + n_right, dtype=np.int64)
    while len(u):
        pu, pv = parent[u], parent[v]
        if np.array_equal(pu, pv):
            break
        m = np.minimum(pu, pv)
        np.minimum.at(parent, pu, m)
        np.minimum.at(parent, pv, m)
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped
    return parent[:n_left], parent[n_left:]


# --------------------------------------------------------------------------- solve


def solve(problem: Problem, *, aggregate: bool = True, decompose: bool = True) -> Solution:
    """Assign waiting patients to doctors, exactly (see README for the model and the proof).

    ``aggregate`` merges interchangeable patients into one supply node, ``decompose`` solves
    each connected component of the reach graph on its own; both keep the optimum and exist
    as switches only so tests can compare them with the plain graph.
    """
    t0 = perf_counter()
    timings: dict[str, float] = {}
    c = _Columns(problem)
    timings["columns_s"] = perf_counter() - t0

    # Places (distinct commune centroids) and groups (place × needs, or one per patient).
    t = perf_counter()
    place_of, place_first = _group_rows(c.lat, c.lon, c.commune)
    if aggregate:
        group_of, group_first = _group_rows(place_of, c.hv.astype(np.int64), c.pmr.astype(np.int64))
    else:
        group_of, group_first = np.arange(c.n, dtype=np.int64), np.arange(c.n, dtype=np.int64)
    n_groups = len(group_first)
    g_place = place_of[group_first]
    g_hv, g_pmr = c.hv[group_first], c.pmr[group_first]
    g_tier_count = np.zeros((n_groups, 3), dtype=np.int64)
    np.add.at(g_tier_count, (group_of, c.tier.astype(np.int64) - 1), 1)
    g_count = g_tier_count.sum(axis=1)

    # Reach: (place, doctor) in the doctor's perimeter; then (group, doctor) meeting the needs.
    accepting = np.flatnonzero(c.d_accepting)
    r = spatial.reach(
        c.lat[place_first],
        c.lon[place_first],
        c.commune[place_first],
        c.d_lat[accepting],
        c.d_lon[accepting],
        c.d_radius[accepting],
        [c.d_communes[i] for i in accepting],
    )
    r_doc = accepting[r.doctor]
    n_places = len(place_first)
    ptr = np.searchsorted(r.place, np.arange(n_places + 1))
    arc = _ranges(ptr[g_place], ptr[g_place + 1] - ptr[g_place])
    arc_group = np.repeat(np.arange(n_groups), ptr[g_place + 1] - ptr[g_place])
    arc_doc = r_doc[arc]
    keep = (~g_hv[arc_group] | c.d_hv[arc_doc]) & (~g_pmr[arc_group] | c.d_pmr[arc_doc])
    place_any = np.zeros(n_places, np.bool_)
    place_any[r.place] = True
    place_hv = np.zeros(n_places, np.bool_)
    place_hv[r.place[c.d_hv[r_doc]]] = True
    place_pmr = np.zeros(n_places, np.bool_)
    place_pmr[r.place[c.d_pmr[r_doc]]] = True
    arc_group, arc_doc, arc_km, arc_inr = (
        arc_group[keep],
        arc_doc[keep],
        r.km[arc][keep],
        r.in_radius[arc][keep],
    )
    # Arcs are sorted by (group, km, doctor index).
    timings["reach_s"] = perf_counter() - t

    # Flow arcs: to doctors with places; components; one min-cost flow each.
    t = perf_counter()
    in_flow = c.d_cap[arc_doc] > 0
    f_idx = np.flatnonzero(in_flow)
    f_group, f_doc = arc_group[f_idx], arc_doc[f_idx]
    f_units_m = np.rint(arc_km[f_idx] * 1000.0).astype(np.int64)
    flow = np.zeros(len(f_idx), dtype=np.int64)
    unassigned_t = g_tier_count.copy()
    if decompose:
        g_root, _ = _components(n_groups, c.m, f_group, f_doc)
        arc_root = g_root[f_group]
    else:
        arc_root = np.zeros(len(f_idx), dtype=np.int64)
    comp_order = np.argsort(arc_root, kind="stable")
    bounds = np.flatnonzero(np.diff(arc_root[comp_order])) + 1
    pieces = np.split(comp_order, bounds) if len(comp_order) else []
    biggest = {"nodes": 0, "arcs": 0}
    scales: set[int] = set()
    for piece in pieces:
        comp_flow, unassigned_part, groups, info = _solve_component(
            piece, f_group, f_doc, f_units_m, g_count, g_tier_count, c.d_cap
        )
        flow[piece] = comp_flow
        unassigned_t[groups] = unassigned_part
        scales.add(info["metres_per_unit"])
        if info["nodes"] > biggest["nodes"]:
            biggest = {"nodes": info["nodes"], "arcs": info["arcs"]}
    timings["flow_s"] = perf_counter() - t

    # Back to patients: within a (group, tier), the longest wait (then input order) goes first.
    t = perf_counter()
    assigned_t = g_tier_count - unassigned_t
    idx = np.arange(c.n)
    order = np.lexsort((idx, c.wait, c.tier, group_of))
    key = group_of[order] * 3 + (c.tier[order].astype(np.int64) - 1)
    block_start = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    block_len = np.diff(np.r_[block_start, c.n])
    rank = np.arange(c.n) - np.repeat(block_start, block_len)
    is_assigned_sorted = rank < assigned_t.reshape(-1)[key]
    got = order[is_assigned_sorted]  # assigned patients by (group, tier, wait, index)
    used = flow > 0
    slot_doc = np.repeat(f_doc[used], flow[used])  # doctor places by (group, km, doctor)
    slot_km = np.repeat(arc_km[f_idx][used], flow[used])
    patient_doc = np.full(c.n, -1, dtype=np.int64)
    patient_km = np.full(c.n, np.nan)
    patient_doc[got] = slot_doc
    patient_km[got] = slot_km
    taken = np.zeros(c.m, dtype=np.int64)
    np.add.at(taken, f_doc, flow)
    # Places left, unclipped (d_cap is capped at the number of patients for the flow).
    remaining_places = (
        np.array([0 if d.capacity is None else d.capacity for d in problem.doctors], dtype=np.int64) - taken
    )
    timings["disaggregate_s"] = perf_counter() - t

    t = perf_counter()
    ids = [p.id for p in problem.patients]
    doc_ids = [d.id for d in problem.doctors]
    prio = np.lexsort((idx, c.wait, c.tier))
    is_assigned = patient_doc >= 0
    sel = prio[is_assigned[prio]]
    assignments = tuple(
        Assignment(ids[i], doc_ids[j], km, t_)
        for i, j, km, t_ in zip(
            sel.tolist(),
            patient_doc[sel].tolist(),
            patient_km[sel].tolist(),
            c.tier[sel].tolist(),
            strict=True,
        )
    )
    g_eligible = np.bincount(arc_group, minlength=n_groups) > 0
    g_code = _unassigned_codes(g_place, g_hv, g_pmr, g_eligible, place_any, place_hv, place_pmr)
    sel = prio[~is_assigned[prio]]
    unassigned = tuple(
        Unassigned(ids[i], REASONS[g_code[g]], g_code[g], t_)
        for i, g, t_ in zip(sel.tolist(), group_of[sel].tolist(), c.tier[sel].tolist(), strict=True)
    )
    remaining = {
        d.id: None if d.capacity is None else d.capacity - int(taken[j]) for j, d in enumerate(problem.doctors)
    }
    t1 = c.tier[is_assigned]
    objective = Objective(
        tier1=int((t1 == 1).sum()),
        tier12=int((t1 <= 2).sum()),
        assigned=int(is_assigned.sum()),
        total_km=float(patient_km[is_assigned].sum()),
    )
    timings["results_s"] = perf_counter() - t

    t = perf_counter()
    proposals = _proposals(
        problem,
        c,
        problem.proposals,
        group_of,
        g_hv,
        g_pmr,
        arc_group,
        arc_doc,
        arc_km,
        arc_inr,
        remaining_places,
        patient_doc,
        patient_km,
    )
    timings["proposals_s"] = perf_counter() - t

    stats: dict[str, Any] = {
        "patients": c.n,
        "doctors": c.m,
        "patient_places": n_places,
        "groups": n_groups,
        "reach_arcs": len(arc_group),
        "flow_arcs": len(f_idx),
        "components": len(pieces),
        "largest_component_nodes": biggest["nodes"],
        "largest_component_arcs": biggest["arcs"],
        "metres_per_cost_unit": max(scales) if scales else 1,
        **{k: round(v, 4) for k, v in timings.items()},
    }
    return Solution(
        status="OPTIMAL",
        wall_s=perf_counter() - t0,
        assignments=assignments,
        unassigned=unassigned,
        proposals=proposals,
        objective=objective,
        remaining=remaining,
        stats=stats,
    )


def _solve_component(
    piece: np.ndarray,
    f_group: np.ndarray,
    f_doc: np.ndarray,
    f_units_m: np.ndarray,
    g_count: np.ndarray,
    g_tier_count: np.ndarray,
    d_cap: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    """Solve one connected component; returns arc flows, unassigned per (group, tier), groups."""
    a_group, a_doc = f_group[piece], f_doc[piece]
    groups, g_local = np.unique(a_group, return_inverse=True)
    doctors, d_local = np.unique(a_doc, return_inverse=True)
    ng, nd = len(groups), len(doctors)
    sink = ng + nd
    n_nodes = ng + nd + 1
    counts = g_count[groups]
    tier_counts = g_tier_count[groups]
    total = int(counts.sum())

    # Distance unit: metres unless the priority weight W would not fit in int64 with OR-Tools'
    # internal scaling; then 10 m, 100 m, ... (never reached below ~10^7 patients per component).
    metres_per_unit = 1
    while True:
        units = np.rint(f_units_m[piece] / metres_per_unit).astype(np.int64)
        max_units = np.zeros(ng, dtype=np.int64)
        np.maximum.at(max_units, g_local, units)
        big_w = int((counts * max_units).sum()) + 1  # > the total distance of any flow
        if 3 * big_w * max(n_nodes + 1, total + 1) < INT64_BUDGET:
            break
        metres_per_unit *= 10

    tails = [g_local, ng + np.arange(nd)]
    heads = [ng + d_local, np.full(nd, sink)]
    caps = [np.minimum(counts[g_local], d_cap[doctors][d_local]), np.minimum(d_cap[doctors], total)]
    costs = [units, np.zeros(nd, dtype=np.int64)]
    leave_arcs = []
    for t in (1, 2, 3):
        has = np.flatnonzero(tier_counts[:, t - 1] > 0)
        leave_arcs.append((t, has))
        tails.append(has)
        heads.append(np.full(len(has), sink))
        caps.append(tier_counts[has, t - 1])
        costs.append(np.full(len(has), big_w * priority_weight(t), dtype=np.int64))

    smcf = min_cost_flow.SimpleMinCostFlow()
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(tails).astype(np.int32),
        np.concatenate(heads).astype(np.int32),
        np.concatenate(caps).astype(np.int64),
        np.concatenate(costs).astype(np.int64),
    )
    smcf.set_nodes_supplies(np.append(np.arange(ng), sink).astype(np.int32), np.append(counts, -total).astype(np.int64))
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise MatchingError(f"min-cost flow status {status} on a component of {n_nodes} nodes")
    flows = np.asarray(smcf.flows(np.asarray(arcs, dtype=np.int32)))
    n_main = len(piece)
    unassigned = np.zeros((ng, 3), dtype=np.int64)
    pos = n_main + nd
    for t, has in leave_arcs:
        unassigned[has, t - 1] = flows[pos : pos + len(has)]
        pos += len(has)
    return (
        flows[:n_main],
        unassigned,
        groups,
        {"nodes": n_nodes, "arcs": len(arcs), "metres_per_unit": metres_per_unit},
    )


def _unassigned_codes(
    g_place: np.ndarray,
    g_hv: np.ndarray,
    g_pmr: np.ndarray,
    g_eligible: np.ndarray,
    place_any: np.ndarray,
    place_hv: np.ndarray,
    place_pmr: np.ndarray,
) -> list[str]:
    """Why a group's patients may stay without a doctor (used only for those who do).

    The first that applies: nobody's perimeter covers the place; nobody in reach does home
    visits (when needed); nobody in reach has a PMR-accessible site (when needed); nobody in
    reach does both (when both are needed); otherwise every eligible doctor is full.
    """
    codes = np.full(len(g_place), "capacity", dtype=object)
    codes[~g_eligible] = "no_home_visits_pmr"
    codes[g_pmr & ~place_pmr[g_place]] = "no_pmr"
    codes[g_hv & ~place_hv[g_place]] = "no_home_visits"
    codes[~place_any[g_place]] = "out_of_reach"
    return codes.tolist()


def _proposals(
    problem: Problem,
    c: _Columns,
    k: int,
    group_of: np.ndarray,
    g_hv: np.ndarray,
    g_pmr: np.ndarray,
    arc_group: np.ndarray,
    arc_doc: np.ndarray,
    arc_km: np.ndarray,
    arc_inr: np.ndarray,
    remaining_places: np.ndarray,
    patient_doc: np.ndarray,
    patient_km: np.ndarray,
) -> dict[str, tuple[Proposal, ...]]:
    """Per patient: the assigned doctor, then doctors with places by distance, then full ones."""
    if k == 0:
        return {}
    docs, pats = problem.doctors, problem.patients
    has_cap = (remaining_places > 0) | c.d_unlimited
    order = np.lexsort((c.d_rank[arc_doc], arc_km, ~has_cap[arc_doc], arc_group))
    sg = arc_group[order]
    start = np.flatnonzero(np.r_[True, sg[1:] != sg[:-1]]) if len(sg) else np.empty(0, np.int64)
    rank = np.arange(len(sg)) - np.repeat(start, np.diff(np.r_[start, len(sg)]))
    top = order[rank <= k]  # k + 1 per group: one may be the assigned doctor

    def places(j: int) -> int | None:
        return None if c.d_unlimited[j] else int(remaining_places[j])

    per_group: dict[int, list[tuple[int, Proposal]]] = {}
    for a in top.tolist():
        g, j = int(arc_group[a]), int(arc_doc[a])
        d = docs[j]
        per_group.setdefault(g, []).append(
            (
                j,
                Proposal(
                    doctor=d.id,
                    km=float(arc_km[a]),
                    reasons=reasons(
                        float(arc_km[a]),
                        d.radius_km,
                        bool(arc_inr[a]),
                        bool(g_hv[g]),
                        bool(g_pmr[g]),
                        places(j),
                    ),
                    assigned=False,
                    has_capacity=bool(has_cap[j]),
                ),
            )
        )
    cache: dict[tuple[int, int], tuple[Proposal, ...]] = {}

    def build(g: int, j: int, km: float) -> tuple[Proposal, ...]:
        cands = per_group.get(g, [])
        if j < 0:
            return tuple(p for _, p in cands[:k])
        d = docs[j]
        inr = d.radius_km is not None and km <= d.radius_km  # as `spatial.reach` decides it
        mine = Proposal(
            doctor=d.id,
            km=km,
            reasons=reasons(km, d.radius_km, inr, bool(g_hv[g]), bool(g_pmr[g]), None, assigned=True),
            assigned=True,
            has_capacity=True,
        )
        return (mine, *[p for jj, p in cands if jj != j][: k - 1])

    out: dict[str, tuple[Proposal, ...]] = {}
    for pid, g, j, km in zip(
        (p.id for p in pats), group_of.tolist(), patient_doc.tolist(), patient_km.tolist(), strict=True
    ):
        found = cache.get((g, j))
        if found is None:
            found = cache[(g, j)] = build(g, j, km)
        out[pid] = found
    return out


def objective_of(problem: Problem, assignments: Sequence[Assignment]) -> Objective:
    """The objective of any assignment list (tiers recomputed from the patients)."""
    tiers = {p.id: tier(p) for p in problem.patients}
    n1 = sum(1 for a in assignments if tiers[a.patient] == 1)
    n12 = sum(1 for a in assignments if tiers[a.patient] <= 2)
    return Objective(n1, n12, len(assignments), math.fsum(a.km for a in assignments))
