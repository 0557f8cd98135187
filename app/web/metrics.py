"""Prometheus metrics at ``/metrics``: requests and latencies by route (Litestar's Prometheus
plugin, paths grouped by route template so that record ids never become labels), and the solver
jobs by status, read from the database at scrape time so that jobs run by any process count.

Reachable from the machine itself (the scraper next to the application, or through the reverse
proxy's internal network) or by an administrator's session; never from outside."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

LOCAL = {"127.0.0.1", "::1", "testclient"}

config = PrometheusConfig(
    app_name="smp",
    prefix="smp",
    group_path=True,
    exclude=["^/metrics", "^/static/", "^/healthz"],
)


def local_or_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    host = connection.client.host if connection.client else ""
    user = connection.scope.get("user")
    if host in LOCAL or (user is not None and getattr(user, "role", None) == "admin"):
        return
    raise PermissionDeniedException("Métriques réservées à la supervision.")


class MetricsController(PrometheusController):
    path = "/metrics"
    guards = [local_or_admin]
    include_in_schema = False


class SolverJobs(Collector):
    """``smp_solver_jobs{status="done"}`` etc., and the seconds of the last finished job."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from app.db.engine import get_engine
        from app.rota.models import RotaJob

        jobs = GaugeMetricFamily("smp_solver_jobs", "Rota solver jobs by status", labels=["status"])
        last = GaugeMetricFamily("smp_solver_last_job_seconds", "Wall time of the last finished solver job")
        try:
            with get_engine().connect() as conn:
                for status, count in conn.execute(select(RotaJob.status, func.count()).group_by(RotaJob.status)):
                    jobs.add_metric([status], count)
                row = conn.execute(
                    select(RotaJob.started_at, RotaJob.finished_at)
                    .where(RotaJob.finished_at.is_not(None), RotaJob.started_at.is_not(None))
                    .order_by(RotaJob.finished_at.desc())
                    .limit(1)
                ).first()
        except Exception:
            return
        if row is not None:
            last.add_metric([], (row[1] - row[0]).total_seconds())
        yield jobs
        yield last


_registered = False


def register_collectors() -> None:
    global _registered
    if not _registered:
        REGISTRY.register(SolverJobs())
        _registered = True
