"""The SMP rota: a CP-SAT model of half-day consultation sessions (see docs/solver.md).

Entry points: :func:`scheduling.rota.formats.parse_problem`, :func:`scheduling.rota.solver.solve`,
:func:`scheduling.rota.formats.solution_to_dict`, :func:`scheduling.rota.validation.check`,
:func:`scheduling.rota.suggest.suggest_candidates`, :func:`scheduling.rota.explain.unmet_targets`,
:func:`scheduling.rota.explain.conflicts`, :func:`scheduling.rota.bench.run_benchmark`.
"""
