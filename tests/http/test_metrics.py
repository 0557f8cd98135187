"""Prometheus metrics: requests and latencies by route template (no record id ever becomes a label),
solver jobs by status; reachable from the machine itself or by an administrator only."""

import re
from types import SimpleNamespace

import pytest
from litestar.exceptions import PermissionDeniedException
from sqlalchemy import select

from app.patients.models import Patient
from app.web.metrics import local_or_admin


def test_metrics_count_requests_by_route_template_without_ids(as_user, db):
    db.rollback()
    patient_id = db.scalar(select(Patient.id).limit(1))
    client = as_user("secretariat1")
    client.get(f"/patients/{patient_id}")
    body = client.get("/metrics").text
    assert "smp_requests_total" in body and "smp_request_duration_seconds" in body
    assert 'path="/patients/{patient_id}"' in body
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", body), "a record id leaked into the metrics"
    assert "smp_solver_jobs" in body


@pytest.mark.parametrize(
    ("host", "role", "allowed"),
    [
        ("127.0.0.1", None, True),
        ("203.0.113.7", None, False),
        ("203.0.113.7", "comite", False),
        ("203.0.113.7", "admin", True),
    ],
)
def test_metrics_are_refused_from_outside_unless_administrator(host, role, allowed):
    connection = SimpleNamespace(
        client=SimpleNamespace(host=host), scope={"user": SimpleNamespace(role=role) if role else None}
    )
    if allowed:
        local_or_admin(connection, None)  # type: ignore[arg-type]
    else:
        with pytest.raises(PermissionDeniedException):
            local_or_admin(connection, None)  # type: ignore[arg-type]
