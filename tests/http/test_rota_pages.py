"""The coordinator's rota pages and a clinician's availability pages, through HTTP."""

import datetime as dt
import re
import time

import pytest
from sqlalchemy import func, select

from app.availability.models import AvailabilityException, AvailabilityPattern
from app.rota.models import RotaDraft, RotaJob, RotaSession
from tests.conftest import csrf_token, post_form


def _wait_for(db, job_id, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.rollback()
        db.expire_all()
        job = db.get(RotaJob, job_id)
        if job.status not in ("queued", "running"):
            return job
        time.sleep(0.3)
    raise AssertionError("the solve did not finish")


def _monday_in(weeks: int) -> dt.date:
    d = dt.date.today() + dt.timedelta(weeks=weeks)
    return d - dt.timedelta(days=d.weekday())


def test_the_coordinator_solves_in_a_worker_reviews_pins_and_publishes(as_user, db):
    client = as_user("coordination")
    start = _monday_in(30)
    response = post_form(
        client,
        "/rota/solve",
        {"start": start.isoformat(), "end": (start + dt.timedelta(days=6)).isoformat()},
        form_url="/rota",
    )
    assert response.status_code in (302, 303), response.text
    job_id = response.headers["location"].rsplit("/", 1)[1]
    page = client.get(f"/rota/jobs/{job_id}")
    assert "Calcul du planning" in page.text
    job = _wait_for(db, __import__("uuid").UUID(job_id))
    assert job.status == "done", job.error
    assert job.worker_pid and job.worker_pid != __import__("os").getpid()  # ran in another process
    progress = client.get(f"/rota/jobs/{job_id}/progress", headers={"HX-Request": "true"})
    assert progress.headers.get("hx-redirect") == f"/rota/drafts/{job.draft_id}"

    draft_page = client.get(f"/rota/drafts/{job.draft_id}")
    assert draft_page.status_code == 200
    assert "Détail du coût par règle" in draft_page.text and "Séances visées non pourvues" in draft_page.text
    draft = db.get(RotaDraft, job.draft_id)
    first = draft.assignments[0]
    pinned = client.post(
        f"/rota/drafts/{draft.id}/pin", data={**first, "pinned": "1", "_csrf_token": csrf_token(draft_page.text)}
    )
    assert pinned.status_code in (200, 302, 303)
    db.rollback()
    db.expire_all()
    assert db.get(RotaDraft, draft.id).assignments[0]["pinned"] is True

    confirm = client.get(f"/rota/drafts/{draft.id}/publish")
    assert "Publier le planning" in confirm.text
    before = db.scalar(select(func.count()).select_from(RotaSession))
    done = client.post(f"/rota/drafts/{draft.id}/publish", data={"_csrf_token": csrf_token(confirm.text)})
    assert "Planning publié" in done.text
    db.rollback()
    assert db.scalar(select(func.count()).select_from(RotaSession)) == before + len(draft.assignments)


def test_removing_a_session_shows_who_could_take_it_best_first(as_user, db):
    client = as_user("coordination")
    start = _monday_in(34)
    response = post_form(
        client,
        "/rota/solve",
        {"start": start.isoformat(), "end": (start + dt.timedelta(days=6)).isoformat()},
        form_url="/rota",
    )
    job = _wait_for(db, __import__("uuid").UUID(response.headers["location"].rsplit("/", 1)[1]))
    draft = db.get(RotaDraft, job.draft_id)
    page = client.get(f"/rota/drafts/{draft.id}")
    target = next(a for a in draft.assignments)
    count = len(draft.assignments)
    removed = client.post(
        f"/rota/drafts/{draft.id}/remove", data={**target, "_csrf_token": csrf_token(page.text)}, follow_redirects=True
    )
    assert "Praticiens qui peuvent prendre cette séance" in removed.text
    names = re.findall(r"<li><strong>([^<]+)</strong>", removed.text)
    assert names, "someone can take the freed session (at least the one just removed)"
    db.rollback()
    db.expire_all()
    assert len(db.get(RotaDraft, draft.id).assignments) == count - 1


def test_a_bad_period_is_refused_at_the_field(as_user):
    client = as_user("coordination")
    response = post_form(client, "/rota/solve", {"start": "2020-01-06", "end": "2020-01-12"}, form_url="/rota")
    assert response.status_code == 400 and "passé" in response.text


def test_the_availability_grid_shows_who_can_come_and_what_cannot_be_covered(as_user):
    page = as_user("coordination").get("/rota/availability", params={"week": _monday_in(1).isoformat()})
    assert page.status_code == 200
    assert "disponible(s) pour" in page.text
    assert "fermé" in page.text


@pytest.mark.parametrize("username", ["secretariat1", "medecin", "comite", "pharmacie"])
def test_only_the_coordinator_reaches_the_rota_pages(as_user, username):
    assert as_user(username).get("/rota").status_code == 403


def test_a_clinician_publishes_a_weekly_pattern_and_an_absence(as_user, db):
    client = as_user("medecin")
    page = client.get("/availability")
    assert "Semaine type" in page.text
    start = _monday_in(2)
    data = {"valid_from": start.isoformat(), "level_mon-am": "preferred", "level_thu-pm": "available"}
    saved = post_form(client, "/availability/pattern", data, form_url="/availability")
    assert saved.status_code in (302, 303), saved.text
    from app.accounts.models import User

    me = db.scalar(select(User).where(User.username == "medecin"))
    db.rollback()
    pattern = db.scalar(
        select(AvailabilityPattern).where(
            AvailabilityPattern.clinician_id == me.clinician_id, AvailabilityPattern.valid_from == start
        )
    )
    assert pattern.levels == {"mon-am": "preferred", "thu-pm": "available"}

    away = post_form(
        client,
        "/availability/exceptions",
        {"start_date": start.isoformat(), "end_date": (start + dt.timedelta(days=4)).isoformat(), "reason": "leave"},
        form_url="/availability",
    )
    assert away.status_code in (302, 303)
    after = client.get("/availability").text
    assert "Absence enregistrée" in after
    db.rollback()
    assert (
        db.scalar(
            select(func.count())
            .select_from(AvailabilityException)
            .where(AvailabilityException.clinician_id == me.clinician_id)
        )
        >= 1
    )


def test_an_absence_over_published_sessions_warns_the_clinician(as_user, db):
    from app.accounts.models import User

    me = db.scalar(select(User).where(User.username == "medecin"))
    published = db.scalar(
        select(RotaSession)
        .where(
            RotaSession.clinician_id == me.clinician_id,
            RotaSession.status == "published",
            RotaSession.date > dt.date.today(),
        )
        .limit(1)
    )
    assert published is not None, "the demo published sessions for the demo GP"
    client = as_user("medecin")
    response = post_form(
        client,
        "/availability/exceptions",
        {"start_date": published.date.isoformat(), "reason": "illness"},
        form_url="/availability",
    )
    assert response.status_code in (302, 303)
    assert "déjà publiée" in client.get("/availability").text


def test_a_pattern_dated_in_the_past_is_refused_and_the_form_keeps_the_choices(as_user):
    client = as_user("medecin")
    response = post_form(
        client,
        "/availability/pattern",
        {"valid_from": "2020-01-06", "level_tue-pm": "preferred"},
        form_url="/availability",
    )
    assert response.status_code == 400 and "passé" in response.text
    assert re.search(r'name="level_tue-pm" value="preferred"[^>]*checked', response.text)


def test_an_ics_upload_is_previewed_then_confirmed(as_user, db):
    client = as_user("interne")
    page = client.get("/availability")
    day = dt.date.today() + dt.timedelta(days=10)
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:x\r\n"
        f"DTSTART;TZID=Europe/Paris:{day:%Y%m%d}T150000\r\nDTEND;TZID=Europe/Paris:{day:%Y%m%d}T160000\r\n"
        "SUMMARY:RDV\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    preview = client.post(
        "/availability/ics",
        data={"_csrf_token": csrf_token(page.text)},
        files={"file": ("agenda.ics", ics.encode(), "text/calendar")},
    )
    assert preview.status_code == 200, preview.text
    assert f'value="{day.isoformat()}|pm"' in preview.text
    confirmed = client.post(
        "/availability/ics/confirm", data={"halfday": f"{day.isoformat()}|pm", "_csrf_token": csrf_token(preview.text)}
    )
    assert "1 demi-journée(s) marquée(s) indisponible(s)" in confirmed.text
    bad = client.post(
        "/availability/ics",
        data={"_csrf_token": csrf_token(page.text)},
        files={"file": ("x.ics", b"not a calendar", "text/calendar")},
    )
    assert bad.status_code == 400 and "calendrier" in bad.text


def test_a_clinician_cannot_edit_another_clinicians_availability(as_user, db):
    from app.clinicians.models import Clinician

    other = db.scalar(select(Clinician).where(Clinician.role == "coordinator"))
    client = as_user("medecin")
    assert client.get("/availability", params={"clinician": str(other.id)}).status_code == 403


def test_a_clinician_sees_their_published_week(as_user):
    page = as_user("medecin").get("/my/week")
    assert page.status_code == 200 and "Mes séances" in page.text
    assert "Semaine du" in page.text


def test_displaced_bookings_appear_on_the_to_rebook_list_with_the_patients_phone(as_user, db):
    from app.patients.models import Patient
    from app.rota.models import Booking, Slot

    slot = db.scalar(select(Slot).limit(1))
    patient = db.scalar(select(Patient).where(Patient.phone != "").limit(1))
    db.add(Booking.for_slot(slot, patient.id, status="to_rebook", rebook_reason="Séance supprimée du planning"))
    db.commit()
    client = as_user("secretariat1")
    assert "rendez-vous à reprogrammer" in client.get("/").text
    page = client.get("/bookings/to-rebook").text
    assert patient.phone in page and "Séance supprimée du planning" in page
    assert as_user("comite").get("/bookings/to-rebook").status_code == 403


def test_the_coordinator_edits_a_gps_availability_from_the_clinicians_list(as_user, db):
    from app.clinicians.models import Clinician

    gp = db.scalar(select(Clinician).where(Clinician.role == "retired_gp", Clinician.rpps.like("199%")).limit(1))
    client = as_user("coordination")
    assert f"/availability?clinician={gp.id}" in client.get("/clinicians", params={"q": gp.last_name}).text
    page = client.get("/availability", params={"clinician": str(gp.id)})
    assert f"Disponibilités de {gp.display_name}" in page.text
    start = _monday_in(5)
    saved = post_form(
        client,
        f"/availability/pattern?clinician={gp.id}",
        {"valid_from": start.isoformat(), "level_fri-am": "preferred"},
        form_url=f"/availability?clinician={gp.id}",
    )
    assert saved.status_code in (302, 303) and saved.headers["location"] == f"/availability?clinician={gp.id}"
    db.rollback()
    assert db.scalar(
        select(AvailabilityPattern.levels).where(
            AvailabilityPattern.clinician_id == gp.id, AvailabilityPattern.valid_from == start
        )
    ) == {"fri-am": "preferred"}


def test_the_coordinator_moves_a_session_in_one_step_and_it_stays_pinned(as_user, db):
    client = as_user("coordination")
    start = _monday_in(36)
    response = post_form(
        client,
        "/rota/solve",
        {"start": start.isoformat(), "end": (start + dt.timedelta(days=13)).isoformat()},
        form_url="/rota",
    )
    job = _wait_for(db, __import__("uuid").UUID(response.headers["location"].rsplit("/", 1)[1]))
    draft = db.get(RotaDraft, job.draft_id)
    for item in draft.assignments:
        form = client.get(
            f"/rota/drafts/{draft.id}/move", params={k: item[k] for k in ("clinician", "site", "date", "period")}
        )
        options = re.findall(r'name="to" value="([^"]+)"', form.text)
        if options:
            break
    else:
        raise AssertionError("no session of the draft can move anywhere")
    moved = client.post(
        f"/rota/drafts/{draft.id}/move",
        data={
            **{k: item[k] for k in ("clinician", "site", "date", "period")},
            "to": options[-1],
            "_csrf_token": csrf_token(form.text),
        },
        follow_redirects=True,
    )
    assert "Séance déplacée" in moved.text
    db.rollback()
    db.expire_all()
    after = db.get(RotaDraft, draft.id).assignments
    site, day, period = options[-1].split("|")
    assert {"clinician": item["clinician"], "site": site, "date": day, "period": period, "pinned": True} in after
    # The destinations never include the session's own place, so the old session is gone.
    assert not any(
        {k: a[k] for k in ("clinician", "site", "date", "period")}
        == {k: item[k] for k in ("clinician", "site", "date", "period")}
        for a in after
    )
