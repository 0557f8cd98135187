"""The rota from the database: problem building, a job run, publication, slots and "to rebook"."""

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import func, select

from app.db.engine import session_factory
from app.patients.models import Patient
from app.rota import drafts, jobs
from app.rota.models import Booking, RotaDraft, RotaJob, RotaSession, Slot
from app.rota.problem import build_problem, item_of, key_of
from app.rota.times import bounds
from app.sites.models import Site
from scheduling.rota import validation


def _period():
    # Far enough ahead not to collide with the demo's published weeks.
    start = dt.date.today() + dt.timedelta(days=70)
    start -= dt.timedelta(days=start.weekday())
    return start, start + dt.timedelta(days=13)


def test_the_problem_holds_the_active_sites_clinicians_and_their_availability(db, demo):
    start, end = _period()
    problem = build_problem(db, start, end)
    assert {s.name for s in problem.sites} >= {"Laval", "Ernée"}
    assert len([c for c in problem.clinicians if c.role == "retired_gp"]) >= 12
    laval = next(s for s in problem.sites if s.name == "Laval")
    assert laval.target["mon-am"] == 2 and laval.rooms == 4
    assert problem.availability, "the demo clinicians declared weekly patterns"
    assert all(start <= a.date <= end for a in problem.availability)


def test_a_job_runs_in_the_worker_and_leaves_a_validated_draft(engine, db, demo):
    start, end = _period()
    job = jobs.create_job(db, start, end, "tests", time_limit_s=10)
    done = jobs.run_job(session_factory(engine), job.id)
    assert done.status == "done"
    db.rollback()
    db.expire_all()
    job = db.get(RotaJob, job.id)
    assert job.result["status"] in ("OPTIMAL", "FEASIBLE")
    assert job.progress["wall_s"] >= 0 and job.progress["objective"] == job.result["objective"]
    draft = db.get(RotaDraft, job.draft_id)
    assert len(draft.assignments) == len(job.result["assignments"]) > 0
    problem = build_problem(db, start, end, draft=draft)
    keys = [key_of(a) for a in draft.assignments]
    assert validation.check(problem, keys) == []
    assert validation.objective(problem, keys) == job.result["objective"]


def test_only_one_solve_runs_at_a_time(db, demo):
    start, end = _period()
    first = jobs.create_job(db, start, end, "tests")
    first.worker_pid, first.status = __import__("os").getpid(), "running"  # this process is alive
    db.commit()
    from app.core.errors import Conflict

    with pytest.raises(Conflict, match="déjà en cours"):
        jobs.create_job(db, start, end, "tests")
    first.status = "cancelled"
    db.commit()


def test_a_job_whose_worker_died_shows_failed_and_publishes_nothing(db, demo):
    start, end = _period()
    job = jobs.create_job(db, start, end, "tests")
    job.status, job.worker_pid = "running", 999_999_9  # no such process
    db.commit()
    jobs.refresh(db, job)
    assert job.status == "failed" and "Rien n'a été publié" in job.error


def test_a_period_in_the_past_or_too_long_is_refused():
    from app.core.errors import FieldErrors

    today = dt.date(2027, 1, 4)
    with pytest.raises(FieldErrors) as exc:
        jobs.validate_period({"start": "2026-12-01", "end": "2027-01-10"}, today)
    assert "passé" in exc.value.errors["start"]
    with pytest.raises(FieldErrors) as exc:
        jobs.validate_period({"start": "2027-01-04", "end": "2027-06-30"}, today)
    assert "13 semaines" in exc.value.errors["end"]


def _draft_with(db, items, start, end):
    draft = RotaDraft(start_date=start, end_date=end, assignments=items, created_by="tests")
    db.add(draft)
    db.commit()
    return draft


def test_publishing_creates_sessions_with_their_slots_at_the_site_slot_length(engine, db, demo):
    start, end = _period()
    job = jobs.create_job(db, start, end, "tests", time_limit_s=10)
    jobs.run_job(session_factory(engine), job.id)
    db.rollback()
    db.expire_all()
    draft = db.get(RotaDraft, db.get(RotaJob, job.id).draft_id)
    report = drafts.publish(db, draft, "tests")
    assert report.created == len(draft.assignments) and report.cancelled == 0
    one = db.scalar(
        select(RotaSession)
        .where(RotaSession.date >= start, RotaSession.date <= end, RotaSession.status == "published")
        .limit(1)
    )
    slots = db.scalars(select(Slot).where(Slot.session_id == one.id).order_by(Slot.starts_at)).all()
    start_at, end_at = bounds(one.date, one.period)
    assert one.starts_at == start_at and one.ends_at == end_at
    assert len(slots) == int((end_at - start_at).total_seconds() // 60 // one.site.slot_minutes)
    assert all((s.ends_at - s.starts_at) == dt.timedelta(minutes=one.site.slot_minutes) for s in slots)
    # Publishing the same draft again changes nothing.
    again = drafts.publish(db, draft, "tests")
    assert again.created == 0 and again.kept == report.created


def test_a_changed_published_session_sends_its_bookings_to_rebook_and_keeps_its_uid(engine, db, demo):
    start, end = _period()
    start, end = start + dt.timedelta(days=14), end + dt.timedelta(days=14)
    job = jobs.create_job(db, start, end, "tests", time_limit_s=10)
    jobs.run_job(session_factory(engine), job.id)
    db.rollback()
    db.expire_all()
    draft = db.get(RotaDraft, db.get(RotaJob, job.id).draft_id)
    drafts.publish(db, draft, "tests")
    sessions = db.scalars(
        select(RotaSession).where(RotaSession.date >= start, RotaSession.date <= end, RotaSession.status == "published")
    ).all()
    # Two patients: the two sessions may fall on the same half-day (at two sites).
    patients = db.scalars(select(Patient).order_by(Patient.reference).limit(2)).all()
    problem = build_problem(db, start, end, draft=draft)
    keys = [key_of(a) for a in draft.assignments]
    removed = next(rs for rs in sessions if not validation.check(problem, [k for k in keys if k != _key(rs)]))
    move = None
    for rs in sessions:
        if rs.id == removed.id:
            continue
        for other in rs.clinician.sites:
            if other.id == rs.site_id:
                continue
            candidate = [k for k in keys if k != _key(rs) and k != _key(removed)]
            candidate.append(_key(rs).__class__(str(rs.clinician_id), str(other.id), rs.date, rs.period))
            if not validation.check(problem, candidate):
                move = (rs, other, candidate)
                break
        if move:
            break
    assert move is not None, "the demo offers a session that can legally move to another site"
    moved, other_site, new_keys = move
    booked = [
        Booking.for_slot(db.scalar(select(Slot).where(Slot.session_id == rs.id).limit(1)), p.id)
        for rs, p in zip((removed, moved), patients, strict=True)
    ]
    db.add_all(booked)
    db.commit()
    second = booked[1]
    new_draft = _draft_with(db, [item_of(k) for k in new_keys], start, end)
    report = drafts.publish(db, new_draft, "tests")
    assert report.cancelled == 1 and report.moved == 1 and report.to_rebook >= 2
    db.expire_all()
    assert removed.status == "cancelled" and removed.sequence == 1
    assert db.get(Booking, booked[0].id).status == "to_rebook"
    assert db.get(Booking, booked[0].id).rebook_reason == "Séance supprimée du planning"
    # The moved session keeps its id (so its calendar UID) and its SEQUENCE goes up.
    assert moved.status == "published" and moved.site_id == other_site.id and moved.sequence == 1
    assert db.get(Booking, second.id).status == "to_rebook"
    assert db.get(Booking, second.id).rebook_reason == f"Séance déplacée vers {other_site.name}"
    assert (
        db.scalar(select(func.count()).select_from(Slot).where(Slot.session_id == moved.id, Slot.status == "open")) > 0
    )


def _key(rs):
    from scheduling.rota.domain import SessionKey

    return SessionKey(str(rs.clinician_id), str(rs.site_id), rs.date, rs.period)


def test_publishing_is_refused_while_a_hard_rule_is_broken(db, demo):
    from app.core.errors import Conflict

    start, end = _period()
    laval = db.scalar(select(Site).where(Site.name == "Laval"))
    intern = db.scalar(
        select(__import__("app.clinicians.models", fromlist=["Clinician"]).Clinician)
        .where(__import__("app.clinicians.models", fromlist=["Clinician"]).Clinician.role == "intern")
        .limit(1)
    )
    # An intern alone, on a half-day nobody declared: several rules broken.
    alone = {
        "clinician": str(intern.id),
        "site": str(laval.id),
        "date": (start + dt.timedelta(days=1)).isoformat(),
        "period": "am",
        "pinned": True,
    }
    draft = _draft_with(db, [alone], start, end)
    before = db.scalar(select(func.count()).select_from(RotaSession))
    with pytest.raises(Conflict, match="Publication impossible"):
        drafts.publish(db, draft, "tests")
    db.rollback()
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(RotaSession)) == before


def test_the_demo_clinic_has_a_published_rota_for_the_coming_four_weeks(db, demo):
    today = dt.date.today()
    count = db.scalar(
        select(func.count())
        .select_from(RotaSession)
        .where(
            RotaSession.status == "published",
            RotaSession.date >= today,
            RotaSession.date <= today + dt.timedelta(days=27),
        )
    )
    assert count > 50
    assert db.scalar(select(func.count()).select_from(Slot)) > count * 5


def test_smp_rota_solve_reads_a_problem_file_and_prints_solution_v1(tmp_path):
    from tests.app.test_cli import smp

    problem = {
        "start": "2027-01-04",
        "end": "2027-01-10",
        "sites": [
            {
                "id": "laval",
                "name": "Laval",
                "lat": 48.06,
                "lon": -0.77,
                "rooms": 2,
                "open": ["tue-am", "tue-pm"],
                "target": {"tue-am": 1, "tue-pm": 1},
            }
        ],
        "clinicians": [
            {
                "id": "gp01",
                "name": "Dr A",
                "role": "retired_gp",
                "supervisor": False,
                "sites": ["laval"],
                "max_per_week": 4,
                "target_per_week": 2,
                "home": {"lat": 48.1, "lon": -0.7},
            }
        ],
        "availability": [{"clinician": "gp01", "date": "2027-01-05", "period": "am", "level": "preferred"}],
        "time_limit_s": 5,
    }
    path = tmp_path / "p.json"
    path.write_text(json.dumps(problem))
    out = smp("rota", "solve", "--problem", str(path), "--json")
    assert out.returncode == 0, out.stderr
    solution = json.loads(out.stdout)
    assert solution["status"] == "OPTIMAL"
    assert solution["assignments"] == [{"clinician": "gp01", "site": "laval", "date": "2027-01-05", "period": "am"}]
    assert solution["unmet"][0]["date"] == "2027-01-05" and solution["unmet"][0]["period"] == "pm"
    assert solution["unmet"][0]["reasons"]
    problem["availability"][0]["clinician"] = "nobody"
    path.write_text(json.dumps(problem))
    bad = smp("rota", "solve", "--problem", str(path), "--json")
    assert bad.returncode == 2 and "availability[0].clinician" in json.loads(bad.stdout)["error"]


def test_smp_rota_solve_from_the_database_publishes_a_period(db, demo):
    from tests.app.test_cli import smp

    start = dt.date.today() + dt.timedelta(days=200)
    start -= dt.timedelta(days=start.weekday())
    end = start + dt.timedelta(days=6)
    out = smp(
        "rota",
        "solve",
        "--from",
        start.isoformat(),
        "--to",
        end.isoformat(),
        "--publish",
        "--json",
        "--time-limit",
        "10",
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["published"]["created"] == len(result["assignments"]) > 0
    db.rollback()
    db.expire_all()
    assert db.scalar(
        select(func.count())
        .select_from(RotaSession)
        .where(RotaSession.date >= start, RotaSession.date <= end, RotaSession.status == "published")
    ) == len(result["assignments"])
    uuid.UUID(result["draft"])


def test_a_pin_on_a_half_day_the_clinician_is_away_is_explained_as_a_conflict(engine, db, demo):
    from app.availability.models import AvailabilityException
    from app.clinicians.models import Clinician

    start = dt.date.today() + dt.timedelta(days=300)
    start -= dt.timedelta(days=start.weekday())
    end = start + dt.timedelta(days=6)
    gp = db.scalar(select(Clinician).where(Clinician.role == "retired_gp", Clinician.rpps.like("199%")).limit(1))
    site = gp.main_site
    day = next(
        start + dt.timedelta(days=i)
        for i in range(6)
        if f"{('mon', 'tue', 'wed', 'thu', 'fri', 'sat')[i]}-am" in site.opening_halfdays
    )
    db.add(AvailabilityException(clinician_id=gp.id, start_date=day, end_date=day, reason="illness"))
    draft = _draft_with(
        db,
        [{"clinician": str(gp.id), "site": str(site.id), "date": day.isoformat(), "period": "am", "pinned": True}],
        start,
        end,
    )
    job = jobs.create_job(db, start, end, "tests", draft=draft, time_limit_s=10)
    jobs.run_job(session_factory(engine), job.id)
    db.rollback()
    db.expire_all()
    job = db.get(RotaJob, job.id)
    assert job.status == "done" and job.result["status"] == "INFEASIBLE"
    assert any(gp.last_name in c and "imposée" in c.lower() for c in job.result["conflicts"]), job.result["conflicts"]
    # The draft keeps what the coordinator had: nothing is replaced by an impossible rota.
    assert db.get(RotaDraft, draft.id).assignments[0]["pinned"] is True


def test_the_preferred_sites_of_the_pattern_reach_the_solver(db, demo):
    from app.availability.models import AvailabilityPattern
    from app.clinicians.models import Clinician

    start, end = _period()
    problem = build_problem(db, start, end)
    gp = db.scalar(select(Clinician).where(Clinician.role == "retired_gp", Clinician.rpps.like("199%")).limit(1))
    pattern = db.scalar(
        select(AvailabilityPattern)
        .where(AvailabilityPattern.clinician_id == gp.id)
        .order_by(AvailabilityPattern.valid_from.desc())
        .limit(1)
    )
    domain = next(c for c in problem.clinicians if c.id == str(gp.id))
    assert pattern.preferred_site_ids and domain.preferred_sites == tuple(pattern.preferred_site_ids)
