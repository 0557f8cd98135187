"""Defects found in review, each pinned by a test: no 500s, no lost edits, no stale feeds."""

import datetime as dt
import os
import uuid

from litestar.testing import TestClient
from sqlalchemy import select

from app.calendars import services as feeds
from app.rota import jobs
from app.rota.models import RotaDraft, RotaJob
from app.sites.models import Site
from tests.conftest import csrf_token, post_form


def _draft(db, items, weeks_ahead=60):
    start = dt.date.today() + dt.timedelta(weeks=weeks_ahead)
    start -= dt.timedelta(days=start.weekday())
    draft = RotaDraft(start_date=start, end_date=start + dt.timedelta(days=6), assignments=items, created_by="t")
    db.add(draft)
    db.commit()
    return draft


def test_a_forged_session_in_a_draft_form_is_a_404_and_leaves_the_draft_viewable(as_user, db, demo):
    from app.clinicians.models import Clinician

    draft = _draft(db, [])
    client = as_user("coordination")
    page = client.get(f"/rota/drafts/{draft.id}")
    laval = db.scalar(select(Site).where(Site.name == "Laval"))
    gp = db.scalar(select(Clinician).where(Clinician.role == "retired_gp").limit(1))
    base = {
        "clinician": str(gp.id),
        "site": str(laval.id),
        "date": (draft.start_date + dt.timedelta(days=1)).isoformat(),
        "_csrf_token": csrf_token(page.text),
    }
    assert client.post(f"/rota/drafts/{draft.id}/add", data={**base, "period": "xx"}).status_code == 404
    unknown = client.post(
        f"/rota/drafts/{draft.id}/add",
        data={**base, "period": "am", "clinician": str(uuid.uuid4())},
        follow_redirects=True,
    )
    assert "inconnu" in unknown.text
    assert client.get(f"/rota/drafts/{draft.id}").status_code == 200
    assert (
        client.get(
            f"/rota/drafts/{draft.id}/cell", params={"site": str(uuid.uuid4()), "date": base["date"], "period": "am"}
        ).status_code
        == 404
    )


def test_a_pinned_session_on_a_site_deactivated_since_is_shown_as_a_violation_not_a_crash(as_user, db, demo):
    from app.clinicians.models import Clinician

    site = Site(
        name=f"Éphémère {uuid.uuid4().hex[:4]}",
        commune_insee="53084",
        lat=47.85,
        lon=-0.95,
        rooms=1,
        opening_halfdays=["tue-am"],
    )
    db.add(site)
    gp = db.scalar(select(Clinician).where(Clinician.role == "retired_gp").limit(1))
    db.commit()
    draft = _draft(
        db, [{"clinician": str(gp.id), "site": str(site.id), "date": "2030-01-01", "period": "am", "pinned": True}]
    )
    draft.start_date, draft.end_date = dt.date(2029, 12, 31), dt.date(2030, 1, 6)
    site.active = False
    db.commit()
    client = as_user("coordination")
    page = client.get(f"/rota/drafts/{draft.id}")
    assert page.status_code == 200 and "antenne désactivée" in page.text
    assert client.get(f"/rota/drafts/{draft.id}/publish").status_code == 200


def test_a_draft_cannot_be_edited_or_published_while_a_solve_works_on_it(db, demo):
    from app.core.errors import Conflict
    from app.rota import drafts
    from scheduling.rota.domain import SessionKey

    draft = _draft(db, [], weeks_ahead=62)
    job = RotaJob(
        start_date=draft.start_date,
        end_date=draft.end_date,
        draft_id=draft.id,
        status="running",
        worker_pid=os.getpid(),
    )
    db.add(job)
    db.commit()
    try:
        for attempt in (
            lambda: drafts.publish(db, draft, "t"),
            lambda: drafts.remove(db, draft, SessionKey("a", "b", draft.start_date, "am")),
        ):
            try:
                attempt()
            except Conflict as exc:
                assert "calcul est en cours" in exc.message
            else:
                raise AssertionError("an edit went through during a solve")
    finally:
        job.status = "cancelled"
        db.commit()


def test_re_solving_a_published_draft_works_on_a_new_copy(db, demo):
    draft = _draft(db, [{"clinician": "x", "site": "y", "date": "2030-01-01", "period": "am", "pinned": True}], 64)
    draft.status = "published"
    db.commit()
    job = jobs.create_job(db, draft.start_date, draft.end_date, "t", draft=draft)
    assert job.draft_id != draft.id
    copy = db.get(RotaDraft, job.draft_id)
    assert copy.status == "draft" and copy.assignments == draft.assignments
    job.status = "cancelled"
    db.commit()


def test_a_cancelled_job_is_never_run(engine, db, demo):
    from app.db.engine import session_factory

    draft = _draft(db, [], weeks_ahead=66)
    job = jobs.create_job(db, draft.start_date, draft.end_date, "t", draft=draft)
    jobs.request_cancel(db, job)
    done = jobs.run_job(session_factory(engine), job.id)
    assert done.status == "cancelled" and done.worker_pid is None


def test_the_feed_of_a_deactivated_account_stops_working(client, db, demo):
    from app.accounts.models import User
    from app.accounts.security import hash_password

    account = User(username=f"ex.{uuid.uuid4().hex[:6]}", role="secretary", password_hash=hash_password("x" * 12))
    db.add(account)
    db.commit()
    feed = feeds.create_feed(db, account, "rota")
    url = f"/ical/{feeds.feed_token(feed.id)}.ics"
    assert client.get(url).status_code == 200
    account.is_active = False
    db.commit()
    assert client.get(url).status_code == 404


def test_a_main_site_without_allowed_sites_is_a_field_error(as_user, db):
    from tests.http.test_clinicians import _form

    response = post_form(
        as_user("coordination"), "/clinicians/new", {**_form(db), "site_ids": [], "main_site_id": str(uuid.uuid4())}
    )
    assert response.status_code == 400 and 'href="#f-main_site_id"' in response.text


def test_a_malformed_api_body_names_the_field_like_service_errors(client, db, demo):
    from app.accounts.models import User
    from app.accounts.services import UserService

    account = db.scalar(select(User).where(User.username == "secretariat1"))
    headers = {"Authorization": f"Bearer {UserService(session=db).issue_token(account, 't')}"}
    response = client.post(
        "/api/patients",
        headers=headers,
        json={"first_name": "A", "last_name": "B", "birth_date": "1990-02-30", "sex": "F", "commune": "Laval"},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "birth_date"


def test_an_absurd_week_is_today_not_a_crash(as_user, app):
    client = as_user("coordination")
    with TestClient(app=app, raise_server_exceptions=False) as fresh:
        fresh.cookies.update(client.cookies)
        assert fresh.get("/rota/availability", params={"week": "9999-12-31"}).status_code == 200
        assert fresh.get("/bookings/week", params={"week": "9999-12-31"}).status_code == 200
