"""The steering committee's dashboard, its what-if, its exports and its printable report.
Aggregates only: no page here shows or links to a patient."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import uuid
from typing import Any

from litestar import Controller, get
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery
from litestar.response import Response, Template
from sqlalchemy.orm import Session

from app.accounts.models import Role
from app.core.dates import today_paris
from app.reports import charts, exports
from app.reports.figures import Report, Scenario, build_report, panel_clinicians, project, suppress
from app.settings import get_settings
from app.web.auth import require_roles
from app.web.forms import DbSession
from app.web.territory import current_territory


def report_for(session: Session, scenario: Scenario | None = None) -> Report:
    settings = get_settings()
    return build_report(
        session,
        current_territory(),
        today_paris(),
        target=settings.target_patients,
        visits_per_year=settings.visits_per_year,
        annual_budget=settings.annual_budget_eur,
        scenario=scenario,
    )


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def parse_scenario(values: dict[str, str]) -> tuple[Scenario | None, dict[str, str]]:
    """The what-if form's fields -> a scenario, or the errors by field (nothing computed then)."""
    errors: dict[str, str] = {}

    def number(name: str, low: int, high: int, default: int = 0) -> int:
        raw = (values.get(name) or "").strip()
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            errors[name] = "Un nombre entier est attendu."
            return default
        if not low <= value <= high:
            errors[name] = f"Entre {low} et {high}."
        return value

    add = number("add", 0, 50)
    cap = number("cap", 50, 2000, 800)
    pct = number("caps_pct", -50, 100)
    add_from = _date(values.get("add_from", ""))
    if values.get("add_from") and add_from is None:
        errors["add_from"] = "Date invalide."
    remove = None
    if values.get("remove"):
        try:
            remove = uuid.UUID(values["remove"])
        except ValueError:
            errors["remove"] = "Praticien inconnu."
    remove_on = _date(values.get("remove_on", ""))
    if values.get("remove_on") and remove_on is None:
        errors["remove_on"] = "Date invalide."
    if errors:
        return None, errors
    scenario = Scenario(
        label="scénario",
        add_clinicians=add,
        add_cap_each=cap,
        add_from=add_from,
        remove_clinician=remove,
        remove_on=remove_on,
        cap_change_pct=pct,
    )
    return (None if scenario.is_baseline else scenario), {}


class CommitteePages(Controller):
    path = "/committee"
    guards = [require_roles(Role.COMMITTEE, Role.COORDINATOR)]
    include_in_schema = False

    @get("/", sync_to_thread=True, name="committee_dashboard")
    def dashboard(
        self,
        db_session: DbSession,
        add: FromQuery[str] = "",
        cap: FromQuery[str] = "",
        add_from: FromQuery[str] = "",
        remove: FromQuery[str] = "",
        remove_on: FromQuery[str] = "",
        caps_pct: FromQuery[str] = "",
        print_view: FromQuery[bool] = False,
    ) -> Template:
        started = time.perf_counter()
        values = {
            "add": add,
            "cap": cap,
            "add_from": add_from,
            "remove": remove,
            "remove_on": remove_on,
            "caps_pct": caps_pct,
        }
        scenario, errors = parse_scenario(values)
        report = report_for(db_session)
        doctors = panel_clinicians(db_session, report.today)
        # A scenario changes only the projection: the figures of today are shared, not recomputed.
        what_if = (
            dataclasses.replace(
                report,
                projection=project(
                    report.projection.pace_per_month, report.today, report.enrolled, report.target, doctors, scenario
                ),
            )
            if scenario is not None
            else None
        )
        communes = report.communes
        worst = communes[communes["waiting"] >= 5].sort_values("per_1000", ascending=False).head(10)
        return Template(
            "reports/dashboard.html",
            status_code=400 if errors else 200,
            context={
                "r": report,
                "what_if": what_if,
                "values": values,
                "errors": errors,
                "doctors": sorted(doctors, key=lambda c: c.last_name),
                "curve": charts.enrolment_curve(report),
                "curve_what_if": charts.enrolment_curve(what_if) if what_if else "",
                "bars": charts.capacity_bars(report.by_site),
                "map": charts.commune_map(communes),
                "worst": worst,
                "n": suppress,
                "print_view": print_view,
                "server_ms": (time.perf_counter() - started) * 1000,
            },
        )

    @get("/export.csv", sync_to_thread=True, name="committee_csv")
    def csv(self, db_session: DbSession, table: FromQuery[str] = "synthese") -> Response[bytes]:
        found = exports.tables(report_for(db_session))
        if table not in found:
            raise NotFoundException(f"Tableau inconnu : choisissez parmi {', '.join(found)}.")
        return Response(
            exports.to_csv(found[table]),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="smp-{table}-{today_paris()}.csv"'},
        )

    @get("/export.xlsx", sync_to_thread=True, name="committee_xlsx")
    def xlsx(self, db_session: DbSession) -> Response[bytes]:
        return Response(
            exports.to_xlsx(report_for(db_session)),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="smp-comite-{today_paris()}.xlsx"'},
        )


def tables_for(report: Report) -> dict[str, Any]:
    return exports.tables(report)
