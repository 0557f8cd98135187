"""The administrator's audit page: search the trail of reads and changes of patient records.

Read-only by construction: this controller has GET routes only, and no other route of the
application writes ``audit_log`` except through the recorder (a new row) or ``smp audit purge``
(rows older than the retention period)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, get
from litestar.params import FromQuery
from litestar.response import Template
from sqlalchemy import Select, select

from app.accounts.models import Role
from app.audit.models import AuditEntry
from app.core.dates import PARIS
from app.core.parsing import clean_query
from app.patients.models import Patient
from app.settings import get_settings
from app.web.auth import require_roles
from app.web.forms import DbSession
from app.web.pagination import paginate

ACTIONS = ("read", "list", "lookup", "create", "update", "delete", "bulk_create", "merge", "export", "erase", "purge")


def audit_query(
    session: Any,
    *,
    actor: str = "",
    action: str = "",
    patient: str = "",
    day_from: dt.date | None = None,
    day_to: dt.date | None = None,
) -> Select[tuple[AuditEntry]]:
    """Newest first; the patient may be given by record id or request reference (SMP-2026-000123)."""
    statement = select(AuditEntry).order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
    if actor:
        statement = statement.where(AuditEntry.actor == actor)
    if action in ACTIONS:
        statement = statement.where(AuditEntry.action == action)
    if patient:
        found = session.scalar(select(Patient.id).where(Patient.reference == patient.upper()))
        statement = statement.where(AuditEntry.object_id == str(found or patient))
    if day_from:
        statement = statement.where(AuditEntry.occurred_at >= dt.datetime.combine(day_from, dt.time.min, PARIS))
    if day_to:
        end = dt.datetime.combine(day_to + dt.timedelta(days=1), dt.time.min, PARIS)
        statement = statement.where(AuditEntry.occurred_at < end)
    return statement


class AuditPages(Controller):
    path = "/admin/audit"
    guards = [require_roles(Role.ADMIN)]
    include_in_schema = False

    @get("/", sync_to_thread=True, name="audit_search")
    def search(
        self,
        db_session: DbSession,
        actor: FromQuery[str] = "",
        action: FromQuery[str] = "",
        patient: FromQuery[str] = "",
        day_from: FromQuery[dt.date | None] = None,
        day_to: FromQuery[dt.date | None] = None,
        page: FromQuery[int] = 1,
    ) -> Template:
        actor, patient = clean_query(actor, 80), clean_query(patient, 40)
        statement = audit_query(
            db_session, actor=actor, action=action, patient=patient, day_from=day_from, day_to=day_to
        )
        found = paginate(db_session, statement, page, 50)
        filters = {
            "actor": actor,
            "action": action if action in ACTIONS else "",
            "patient": patient,
            "day_from": day_from.isoformat() if day_from else "",
            "day_to": day_to.isoformat() if day_to else "",
        }
        query = urlencode({k: v for k, v in filters.items() if v})
        return Template(
            "admin/audit.html",
            context={
                "page": found,
                "filters": filters,
                "actions": ACTIONS,
                "retention": get_settings().audit_retention_months,
                "base": f"/admin/audit?{query}&" if query else "/admin/audit?",
            },
        )


def purge(session: Any, before: dt.datetime) -> int:
    """Delete the rows older than ``before`` (the retention period); the purge itself is logged."""
    from sqlalchemy import delete, func

    from app.audit.recorder import record

    count = session.scalar(select(func.count()).where(AuditEntry.occurred_at < before)) or 0
    session.execute(delete(AuditEntry).where(AuditEntry.occurred_at < before))
    record(session, "purge", "audit", "*", f"{count} lignes antérieures au {before.date().isoformat()}")
    session.commit()
    return int(count)
