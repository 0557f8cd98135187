"""Solve a rota problem with CP-SAT: build the model, search, report progress, explain the result.

The search runs in two phases sharing one time limit:

1. *coverage* (first solve only, at most ``COVERAGE_PHASE_SHARE`` of the time): the same hard
   rules with only the dominant soft rule, "meet each site's target", in the objective, started
   from the min-cost-flow rota of :mod:`scheduling.rota.relaxation`. It finds how many target
   sessions can be covered — the hard part — far faster than the full objective does.
2. *full*: the whole weighted objective, started from the best rota so far (phase 1's, or the
   published rota when re-solving). Its optimum is the optimum of the weighted objective; the
   hint only speeds the search.

The app runs :func:`solve` in a worker process. ``on_progress`` receives a :class:`Progress` at
each improving solution and each improved bound, with the *full* objective of the current rota
in both phases. ``should_stop`` is polled in those callbacks and by a small watcher thread
(every 50 ms, so a cancel works even while no solution comes), and stops the search with
``stop_search``; the best rota found so far is returned.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable

from ortools.sat.python import cp_model

from scheduling.rota import explain, validation
from scheduling.rota.constraints import ModelBuilder, build_model
from scheduling.rota.domain import Assignment, Problem, Progress, SessionKey, Solution
from scheduling.rota.relaxation import flow_rota

DEFAULT_TIME_LIMIT_S = 10.0
DEFAULT_SEED = 0
DEFAULT_WORKERS = 8
"""CP-SAT's full portfolio (LP, core search, LNS) needs 8 workers, even on 2 cores."""
COVERAGE_PHASE_SHARE = 0.4
"""At most this share of the time limit goes to the coverage phase (it stops once optimal)."""
STOP_POLL_S = 0.05
PHASE1_OBJECTIVE_EVERY_S = 1.0
"""How often phase 1 recomputes the full objective of its current rota for progress reports."""

log = logging.getLogger(__name__)

_STATUS = {
    cp_model.OPTIMAL: "OPTIMAL",
    cp_model.FEASIBLE: "FEASIBLE",
    cp_model.INFEASIBLE: "INFEASIBLE",
    cp_model.UNKNOWN: "UNKNOWN",
}


class _Search:
    """What the page sees across both phases: best objective, best bound, solutions, cancel."""

    def __init__(
        self,
        problem: Problem,
        started: float,
        on_progress: Callable[[Progress], None] | None,
        should_stop: Callable[[], bool] | None,
    ) -> None:
        self.problem = problem
        self.started = started
        self.on_progress = on_progress
        self.should_stop = should_stop
        self.objective: float | None = None
        self.bound: float | None = None
        self.solutions = 0
        self.first_solution_s: float | None = None
        self.stopped = False
        self.solver: cp_model.CpSolver | None = None
        self._lock = threading.RLock()

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def found(self, objective: float | None) -> None:
        with self._lock:
            self.solutions += 1
            if self.first_solution_s is None:
                self.first_solution_s = self.elapsed()
            if objective is not None and (self.objective is None or objective < self.objective):
                self.objective = objective
        self.report()
        self.poll()

    def bounded(self, bound: float) -> None:
        with self._lock:
            if self.bound is None or bound > self.bound:
                self.bound = bound
        self.report()
        self.poll()

    def poll(self) -> bool:
        if self.should_stop is not None and not self.stopped and self.should_stop():
            self.stopped = True
        if self.stopped and self.solver is not None:
            self.solver.stop_search()
        return self.stopped

    def report(self) -> None:
        if self.on_progress is None:
            return
        with self._lock:
            progress = Progress(
                objective=self.objective,
                bound=self.bound,
                gap=_gap(self.objective, self.bound),
                wall_s=self.elapsed(),
                solutions=self.solutions,
            )
        try:
            self.on_progress(progress)
        except Exception:  # a broken progress display must not kill the solve
            log.exception("on_progress callback failed")


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(self, search: _Search, builder: ModelBuilder, *, full: bool) -> None:
        super().__init__()
        self._search = search
        self._builder = builder
        self._full = full
        self._last_recomputed = -math.inf

    def on_solution_callback(self) -> None:
        if self._full:
            self._search.found(self.objective_value)
            return
        # Phase 1 optimises coverage only; the page wants the full objective of the rota.
        objective = None
        if self._search.elapsed() - self._last_recomputed >= PHASE1_OBJECTIVE_EVERY_S:
            self._last_recomputed = self._search.elapsed()
            chosen = [s for s, var in self._builder.x.items() if self.boolean_value(var)]
            objective = validation.objective(self._search.problem, chosen)
        self._search.found(objective)


def _gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None:
        return None
    return abs(objective - bound) / max(1.0, abs(objective))


def make_solver(*, time_limit_s: float, seed: int, workers: int) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.001, time_limit_s)
    solver.parameters.random_seed = seed
    solver.parameters.num_workers = workers
    return solver


def _run(
    search: _Search, builder: ModelBuilder, *, full: bool, time_limit_s: float, seed: int, workers: int
) -> tuple[str, cp_model.CpSolver]:
    solver = make_solver(time_limit_s=time_limit_s, seed=seed, workers=workers)
    search.solver = solver
    solver.best_bound_callback = search.bounded
    finished = threading.Event()

    def watch() -> None:
        while not finished.wait(STOP_POLL_S):
            search.poll()

    watcher = threading.Thread(target=watch, name="rota-stop-watcher", daemon=True)
    watcher.start()
    try:
        code = solver.solve(builder.model, _Callback(search, builder, full=full))
    finally:
        finished.set()
        watcher.join()
        search.solver = None
    if code == cp_model.MODEL_INVALID:
        raise RuntimeError(f"invalid CP-SAT model: {builder.model.validate()}")
    status = _STATUS[code]
    log.info(
        "rota %s phase: %s objective=%s bound=%s wall=%.2fs vars=%d",
        "full" if full else "coverage",
        status,
        solver.objective_value if status in ("OPTIMAL", "FEASIBLE") else None,
        solver.best_objective_bound,
        solver.wall_time,
        len(builder.x),
    )
    return status, solver


def _chosen(builder: ModelBuilder, solver: cp_model.CpSolver) -> tuple[Assignment, ...]:
    return tuple(sorted(s for s, var in builder.x.items() if solver.boolean_value(var)))


def _add_hint(builder: ModelBuilder, hint: Iterable[SessionKey]) -> None:
    chosen = set(hint) | set(builder.problem.pinned)
    for s, var in builder.x.items():
        builder.model.add_hint(var, s in chosen)


def solve(
    problem: Problem,
    *,
    time_limit_s: float | None = None,
    seed: int = DEFAULT_SEED,
    workers: int = DEFAULT_WORKERS,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    hint: Iterable[SessionKey] | None = None,
) -> Solution:
    """Solve the rota. ``time_limit_s`` defaults to the problem's, then to 10 s.

    ``hint`` is a rota to start from (skips the coverage phase); by default the published rota
    (``problem.previous``) when re-solving, else the coverage phase's rota.
    """
    started = time.perf_counter()
    limit = time_limit_s if time_limit_s is not None else (problem.time_limit_s or DEFAULT_TIME_LIMIT_S)
    search = _Search(problem, started, on_progress, should_stop)
    if search.poll():
        return Solution(status="UNKNOWN", wall_s=search.elapsed(), stopped=True)

    fallback: tuple[Assignment, ...] | None = None
    if hint is None and problem.previous:
        hint = problem.previous
    if hint is None:
        cover = build_model(problem, coverage_only=True)
        _add_hint(cover, flow_rota(problem))
        status, solver = _run(
            search, cover, full=False, time_limit_s=COVERAGE_PHASE_SHARE * limit, seed=seed, workers=workers
        )
        if status == "INFEASIBLE":
            return _infeasible(problem, search, limit, seed, workers)
        if status in ("OPTIMAL", "FEASIBLE"):
            fallback = _chosen(cover, solver)
            search.bounded(solver.best_objective_bound)
        hint = fallback if fallback is not None else flow_rota(problem)

    # Candidate rotas: phase 2's (CP-SAT's own objective) and phase 1's (objective recomputed).
    found: list[tuple[int, tuple[Assignment, ...], bool]] = []
    optimal = False
    if not search.stopped:
        full = build_model(problem)
        _add_hint(full, hint)
        remaining = max(0.5, limit - search.elapsed())
        status, solver = _run(search, full, full=True, time_limit_s=remaining, seed=seed, workers=workers)
        if status == "INFEASIBLE":
            return _infeasible(problem, search, limit, seed, workers)
        if status in ("OPTIMAL", "FEASIBLE"):
            assignments, objective = _chosen(full, solver), round(solver.objective_value)
            recomputed = validation.objective(problem, assignments)
            if recomputed != objective:  # a model bug: the validator is the reference
                log.error("objective mismatch: CP-SAT %s, recomputed %s", objective, recomputed)
                objective = recomputed
            found.append((objective, assignments, True))
            optimal = status == "OPTIMAL"
            search.bounded(solver.objective_value if optimal else solver.best_objective_bound)
    if fallback is not None:
        found.append((validation.objective(problem, fallback), fallback, False))

    bound = math.ceil(search.bound - 1e-6) if search.bound is not None else 0
    if not found:
        return Solution(status="UNKNOWN", bound=bound, wall_s=search.elapsed(), stopped=search.stopped)
    objective, assignments, from_full = min(found, key=lambda f: (f[0], not f[2]))
    return Solution(
        status="OPTIMAL" if optimal and from_full else "FEASIBLE",
        objective=objective,
        bound=min(bound, objective),
        wall_s=search.elapsed(),
        assignments=assignments,
        unmet=tuple(explain.unmet_targets(problem, assignments)),
        penalties=tuple(validation.penalties(problem, assignments)),
        solutions=search.solutions,
        first_solution_s=search.first_solution_s,
        stopped=search.stopped,
    )


def _infeasible(problem: Problem, search: _Search, limit: float, seed: int, workers: int) -> Solution:
    remaining = max(1.0, limit - search.elapsed())
    conflicts = explain.conflicts(problem, time_limit_s=remaining, seed=seed, workers=workers)
    return Solution(
        status="INFEASIBLE",
        wall_s=search.elapsed(),
        conflicts=tuple(conflicts),
        stopped=search.stopped,
    )
