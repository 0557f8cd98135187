"""The steering committee's dashboard: every figure reconciles with an independent SQL count, small
counts are suppressed, exports open in a spreadsheet, the what-if moves the projected date, and
the committee account reaches nothing that shows a patient."""

import csv
import datetime as dt
import io
import json
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from app.core.dates import PARIS
from app.reports.controllers import report_for
from app.reports.figures import suppress
from tests.app.test_cli import smp


def _sql(db, query: str, **params) -> int:
    return int(db.execute(text(query), params).scalar() or 0)


def _today() -> dt.date:
    return dt.datetime.now(PARIS).date()


def test_every_figure_equals_an_independent_sql_count(db, demo):
    db.rollback()
    report = report_for(db)
    today = _today()
    assert report.enrolled == _sql(db, "SELECT count(*) FROM patient WHERE status IN ('assigned', 'declared')")
    waiting_sql = (
        "SELECT count(*) FROM patient WHERE status IN ('requested', 'eligible', 'waiting') AND suspended_at IS NULL"
    )
    assert report.waiting == _sql(db, waiting_sql)
    assert report.suspended == _sql(db, "SELECT count(*) FROM patient WHERE suspended_at IS NOT NULL")
    assert report.panel_capacity == _sql(
        db,
        "SELECT coalesce(sum(panel_cap), 0) FROM clinician WHERE role <> 'intern' AND panel_cap > 0 "
        "AND active_from <= :d AND (active_to IS NULL OR active_to >= :d)",
        d=today,
    )
    # By site: the patients of the clinicians whose main site it is.
    for row in report.by_site.itertuples():
        assert row.enrolled == _sql(
            db,
            "SELECT count(*) FROM patient p JOIN clinician c ON c.id = p.referring_clinician_id "
            "JOIN site s ON s.id = c.main_site_id WHERE s.name = :name AND p.status IN ('assigned', 'declared') "
            "AND c.role <> 'intern' AND c.panel_cap > 0 AND c.active_from <= :d "
            "AND (c.active_to IS NULL OR c.active_to >= :d)",
            name=row.site,
            d=today,
        )
    # Tiers: tier 1 is ALD or fragile; the three tiers add up to the waiting list.
    tiers = {int(r.tier): int(r.waiting) for r in report.by_tier.itertuples()}
    assert sum(tiers.values()) == report.waiting
    assert tiers.get(1, 0) == _sql(db, waiting_sql + " AND " + _bools(db))
    channels = {r.channel: int(r.waiting) for r in report.by_channel.itertuples()}
    for channel, count in channels.items():
        assert count == _sql(db, waiting_sql + " AND channel = :c", c=channel)
    assert int(report.exclusions["patients"].sum()) == _sql(
        db, "SELECT count(*) FROM patient WHERE status = 'excluded'"
    )
    # Weekly consultation capacity: open slots of published sessions in the next four weeks, per week.
    start = dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC)
    slots = _sql(
        db,
        "SELECT count(*) FROM slot JOIN rota_session r ON r.id = slot.session_id WHERE r.status = 'published' "
        "AND slot.status = 'open' AND slot.starts_at >= :a AND slot.starts_at < :b",
        a=start,
        b=start + dt.timedelta(days=28),
    )
    assert report.weekly_slots == pytest.approx(slots / 4)
    assert report.weekly_demand == pytest.approx(report.enrolled * 4 / 52)
    # The curve: net transitions into a referring doctor, from the history.
    net = _sql(
        db,
        "SELECT coalesce(sum(CASE WHEN to_status IN ('assigned', 'declared') THEN 1 ELSE -1 END), 0) "
        "FROM patient_event WHERE (to_status IN ('assigned', 'declared')) <> (from_status IN ('assigned', 'declared'))",
    )
    assert int(report.trend["enrolled"].iloc[-1]) == net
    cpts_today = report.cpts.iloc[-1]
    assert int(cpts_today["without_gp"]) == report.waiting
    assert int(cpts_today["c2s"]) == _sql(db, waiting_sql + " AND " + _bools(db, "c2s"))
    # Communes: the map's counts add up to the waiting list in the territory.
    assert int(report.communes["waiting"].sum()) <= report.waiting
    laval = report.communes.set_index("insee").loc["53130"]
    assert int(laval["enrolled"]) == _sql(
        db, "SELECT count(*) FROM patient WHERE commune_insee = '53130' AND status IN ('assigned', 'declared')"
    )
    assert int(laval["waiting"]) == _sql(db, waiting_sql + " AND commune_insee = '53130'")


def _bools(db, expr: str = "ald OR fragile") -> str:
    """Boolean columns read the same on SQLite (0/1) and PostgreSQL (true/false)."""
    if db.get_bind().dialect.name == "sqlite":
        return "(" + " OR ".join(f"{c.strip()} = 1" for c in expr.split("OR")) + ")"
    return "(" + expr + ")"


def test_the_dashboard_shows_the_figures_with_small_counts_suppressed(as_user, db):
    client = as_user("comite")
    page = client.get("/committee")
    assert page.status_code == 200
    db.rollback()
    report = report_for(db)
    assert f'<p class="big">{suppress(report.enrolled)}</p>' in page.text
    assert f"objectif {suppress(report.target)}" in page.text
    interns = report.interns["trained"]
    shown = "&lt; 5" if 0 < interns < 5 else suppress(interns)
    assert f"Internes SASPAS accueillis</dt><dd>{shown} " in page.text
    assert (suppress(0), suppress(1), suppress(4), suppress(5)) == ("0", "< 5", "< 5", "5")
    assert "<svg" in page.text and '<title id="curve-title">' in page.text and 'id="map-title"' in page.text
    communes = client.get("/committee/export.csv?table=communes").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(communes), delimiter=";"))
    few = [r for r in rows if r["en attente"] == "< 5"]
    assert few, "the demo has communes with 1 to 4 patients waiting"
    assert all(r["en attente pour 1 000 hab."] == "" for r in few)
    assert not any(r["en attente"] in {"1", "2", "3", "4"} for r in rows)


def test_the_exports_open_in_a_spreadsheet(as_user):
    client = as_user("comite")
    xlsx = client.get("/committee/export.xlsx")
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
    book = load_workbook(io.BytesIO(xlsx.content))
    assert {"synthese", "tendance", "antennes", "attente_par_niveau", "indicateurs_cpts", "communes"} <= set(
        book.sheetnames
    )
    summary = {row[0]: row[1] for row in book["synthese"].iter_rows(min_row=2, values_only=True)}
    assert summary["objectif"] == 10_000
    sites = client.get("/committee/export.csv?table=antennes")
    assert sites.headers["content-type"].startswith("text/csv")
    header = sites.content.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("antenne;capacité de patientèle;patients suivis")
    assert client.get("/committee/export.csv?table=patients").status_code == 404


def test_the_what_if_moves_the_projected_date(as_user, db):
    client = as_user("coordination")
    baseline = report_for(db)
    more = client.get("/committee?add=4&cap=900")
    assert more.status_code == 200 and 'id="what-if"' in more.text
    db.rollback()
    from app.reports.controllers import parse_scenario

    scenario, errors = parse_scenario({"add": "4", "cap": "900"})
    assert not errors
    with_more = report_for(db, scenario)
    assert with_more.projection.capacity_end == baseline.projection.capacity_end + 4 * 900
    if baseline.projection.date and with_more.projection.date:
        assert with_more.projection.date <= baseline.projection.date
    fewer, _ = parse_scenario({"caps_pct": "-50"})
    halved = report_for(db, fewer)
    assert halved.projection.capacity_end < baseline.projection.capacity_end
    assert halved.projection.date is None or (
        baseline.projection.date and halved.projection.date >= baseline.projection.date
    )
    bad = client.get("/committee?add=beaucoup&remove_on=hier")
    assert bad.status_code == 400 and "Un nombre entier est attendu" in bad.text and "Date invalide" in bad.text


def test_smp_report_capacity_prints_the_contract(demo):
    out = smp("report", "capacity", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    for key in ("target", "enrolled", "waiting", "panel_capacity", "weekly_slots", "weekly_demand", "projection_date"):
        assert key in data
    assert isinstance(data["by_site"], list) and {"site", "panel_capacity", "enrolled"} <= set(data["by_site"][0])
    assert set(data["by_tier"]) <= {"1", "2", "3"} and data["target"] == 10_000


COMMITTEE_PAGES = {
    "/",
    "/healthz",
    "/login",
    "/logout",
    "/profile",
    "/profile/password",
    "/profile/tokens",
    "/profile/tokens/{token_id:uuid}/revoke",
    "/profile/calendars",
    "/profile/calendars/{feed_id:uuid}/regenerate",
    "/profile/calendars/{feed_id:uuid}/revoke",
    "/committee",
    "/committee/export.csv",
    "/committee/export.xlsx",
    "/cpts/indicators",
    "/demande",
    "/suivi",
    "/confidentialite",
    "/metrics",  # local only (the test client is local): counts by route template, no patient data
    "/help/calendars",
    "/communes/options",
    "/api/communes",
    "/ical/{name:str}",
}
"""What the committee account may open: its own account, the dashboard, public and reference pages.
Every other route of the application must refuse it — a new route is checked without being listed."""


def test_the_committee_reaches_no_route_that_shows_a_patient(as_user, db, demo):
    from sqlalchemy import select

    from app.asgi import create_app
    from app.patients.models import Patient
    from tests.conftest import csrf_token

    patient_id = str(db.scalar(select(Patient.id).order_by(Patient.reference).limit(1)))
    client = as_user("comite")
    token = csrf_token(client.get("/profile").text)
    checked = 0
    for route in create_app().routes:
        path = route.path
        if path.startswith(("/static", "/schema")) or path in COMMITTEE_PAGES:
            continue
        url = re.sub(r"\{[a-z_]+:uuid\}", patient_id, path).replace("{name:str}", "x.ics")
        for method in sorted(getattr(route, "methods", set()) - {"OPTIONS", "HEAD"}):
            response = client.request(
                method, url, data={"_csrf_token": token} if method != "GET" else None, follow_redirects=False
            )
            assert response.status_code in (401, 403, 405), f"{method} {path} answered {response.status_code}"
            checked += 1
    assert checked > 60
    # And the pages it may open show no patient: no request number, phone or NIR of any patient.
    rows = db.execute(text("SELECT reference, phone, nir FROM patient ORDER BY reference LIMIT 200")).all()
    secrets = {v for row in rows for v in row if v}
    for path in ("/", "/committee", "/committee?add=2", "/committee/export.csv?table=communes", "/cpts/indicators"):
        body = client.get(path).content.decode("utf-8-sig")
        assert not [s for s in secrets if s in body], path
    book = client.get("/committee/export.xlsx").content
    sheets = load_workbook(io.BytesIO(book))
    cells = {str(c) for ws in sheets.worksheets for row in ws.iter_rows(values_only=True) for c in row if c}
    assert not secrets & cells


def test_an_intern_who_settled_in_the_territory_is_counted(as_user, db):
    from sqlalchemy import select

    from app.clinicians.models import Clinician
    from app.clinicians.services import ClinicianService

    intern = db.scalar(select(Clinician).where(Clinician.role == "intern").order_by(Clinician.rpps).limit(1))
    client = as_user("coordination")
    form = client.get(f"/clinicians/{intern.id}/edit")
    assert 'name="intern_outcome"' in form.text and "installé·e sur le territoire" in form.text
    before = report_for(db).interns["settled"]
    db.rollback()
    ClinicianService(session=db).update_clinician(db.get(Clinician, intern.id), {"intern_outcome": "settled"})
    assert report_for(db).interns["settled"] == before + 1
    page = client.get("/committee")
    assert re.search(r"Installés sur le territoire après leur stage</dt><dd>(&lt; 5|\d)", page.text)
    db.rollback()
    ClinicianService(session=db).update_clinician(db.get(Clinician, intern.id), {"intern_outcome": ""})


def test_the_what_if_page_shows_the_same_projection_as_the_report(as_user, db):
    from app.reports.controllers import parse_scenario

    client = as_user("comite")
    page = client.get("/committee?add=5&cap=1000")
    db.rollback()
    scenario, _ = parse_scenario({"add": "5", "cap": "1000"})
    expected = report_for(db, scenario).projection
    shown = expected.date.strftime("%Y") if expected.date else expected.reason[:30]
    table = page.text[page.text.index('id="what-if"') :]
    assert shown in table[: table.index("</table>")]
    assert f"{expected.capacity_end:,}".replace(",", "\u202f") in table
