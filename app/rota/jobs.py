"""Solve jobs: created by a request, run by a separate worker process, watched by the page.

The request only inserts a ``rota_job`` row and starts ``smp rota run-job ID`` in its own process
group; the worker writes its progress (objective, bound, gap, elapsed) to the row about twice a
second and stops when the row's ``cancel_requested`` is set. A worker that died leaves a row the
page reports as failed (its process is gone).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from app.core.errors import Conflict, FieldErrors
from app.core.parsing import Collector
from app.db.engine import immediate
from app.rota.models import RotaDraft, RotaJob
from app.rota.problem import build_problem, item_of
from app.settings import get_settings
from scheduling.rota.domain import Progress
from scheduling.rota.formats import solution_to_dict
from scheduling.rota.solver import solve

log = logging.getLogger(__name__)
MAX_DAYS = 13 * 7
PROGRESS_EVERY_S = 0.5


def validate_period(data: dict[str, object], today: dt.date) -> tuple[dt.date, dt.date]:
    c = Collector(data)
    start = c.date("start", required=True, label="La date de début")
    end = c.date("end", required=True, label="La date de fin")
    if start and end:
        if end < start:
            c.errors["end"] = "La date de fin doit suivre la date de début."
        elif (end - start).days + 1 > MAX_DAYS:
            c.errors["end"] = "Une période de 13 semaines au plus."
        if start < today:
            c.errors["start"] = "La période ne peut pas commencer dans le passé."
        elif start > today + dt.timedelta(days=730):
            c.errors["start"] = "La période doit commencer dans les deux ans."
    if c.errors:
        raise FieldErrors(c.errors)
    assert start is not None and end is not None
    return start, end


def _lock_jobs(session: Session) -> None:
    """Serialise job creation: two coordinators clicking at once must not start two solves."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(5353)"))
    else:
        immediate(session)


def create_job(
    session: Session,
    start: dt.date,
    end: dt.date,
    requested_by: str,
    *,
    draft: RotaDraft | None = None,
    time_limit_s: int | None = None,
) -> RotaJob:
    _lock_jobs(session)
    busy = session.scalar(select(RotaJob.id).where(RotaJob.status.in_(["queued", "running"])))
    if busy is not None:
        refresh(session, session.get(RotaJob, busy))  # type: ignore[arg-type]
        if session.scalar(select(RotaJob.id).where(RotaJob.status.in_(["queued", "running"]))) is not None:
            raise Conflict("Un calcul de planning est déjà en cours : attendez sa fin ou annulez-le.")
    if draft is not None and draft.status == "published":
        # Re-solving a published rota starts a new proposal from it (pins kept); the published one
        # stays as it was until the new one is published.
        draft = RotaDraft(
            start_date=draft.start_date,
            end_date=draft.end_date,
            created_by=requested_by,
            assignments=[dict(a) for a in draft.assignments],
            result=draft.result,
        )
        session.add(draft)
        session.flush()
    if draft is None:
        draft = RotaDraft(start_date=start, end_date=end, created_by=requested_by)
        session.add(draft)
        session.flush()
    job = RotaJob(
        start_date=start,
        end_date=end,
        draft_id=draft.id,
        requested_by=requested_by,
        time_limit_s=time_limit_s or get_settings().solver_time_limit_s,
    )
    session.add(job)
    session.commit()
    return job


def next_queued(session: Session) -> uuid.UUID | None:
    """The oldest queued job no other worker holds: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
    that several ``smp worker`` processes, on several machines, share one queue without waiting on
    each other; the claim itself (``run_job``'s conditional update) makes it theirs. Ends the
    transaction on SQLite (one machine), where the conditional update alone decides."""
    statement = (
        select(RotaJob.id)
        .where(RotaJob.status == "queued", RotaJob.cancel_requested.is_(False))
        .order_by(RotaJob.created_at)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    return session.scalar(statement)


def work(factory: sessionmaker[Session], *, once: bool = False, poll_s: float = 2.0, stop: Any = None) -> int:
    """``smp worker``: take queued jobs one by one and run them here. Returns how many ran."""
    done = 0
    while stop is None or not stop.is_set():
        with factory() as session:
            immediate(session)  # the claim below writes: take the lock before the read (SQLite)
            job_id = next_queued(session)
            if job_id is not None:
                # The claim, while the row is locked (PostgreSQL) — conditional anyway (SQLite).
                claimed = session.execute(
                    update(RotaJob)
                    .where(RotaJob.id == job_id, RotaJob.status == "queued")
                    .values(status="running", worker_pid=os.getpid(), started_at=dt.datetime.now(dt.UTC))
                )
                session.commit()
                if not claimed.rowcount:  # type: ignore[attr-defined]
                    continue
        if job_id is not None:
            run_job(factory, job_id, claimed=True)
            done += 1
            continue
        if once:
            break
        time.sleep(poll_s)
    return done


def launch(job_id: uuid.UUID) -> None:
    """Start the worker process for a job (never waits for it) — unless ``SMP_SOLVER_WORKERS_EXTERNAL``
    says separate ``smp worker`` processes take the queue."""
    if get_settings().external_workers:
        return
    logs = get_settings().var_dir / "jobs"
    logs.mkdir(parents=True, exist_ok=True)
    out = (logs / f"{job_id}.log").open("w")
    subprocess.Popen(  # noqa: S603 - our own interpreter and module, an id we created
        [sys.executable, "-m", "app.cli", "rota", "run-job", str(job_id)],
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env=os.environ.copy(),
        cwd=str(Path(__file__).resolve().parents[2]),
    )
    out.close()


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (finished, not yet reaped by its parent) is not at work any more.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def _worker_gone(job: RotaJob) -> bool:
    """A running job's worker is gone: its process has died (same machine), or — with external
    workers, possibly on other machines — it has overrun its time limit by two minutes."""
    if get_settings().external_workers:
        started = job.started_at or job.created_at
        return dt.datetime.now(dt.UTC) > started + dt.timedelta(seconds=job.time_limit_s + 120)
    return not _alive(job.worker_pid)


def refresh(session: Session, job: RotaJob) -> RotaJob:
    """Mark as failed a running job whose worker is gone (crashed or killed)."""
    if job.status == "running" and _worker_gone(job):
        session.refresh(job)
        if job.status == "running":
            job.status = "failed"
            job.error = "Le calcul s'est arrêté de façon inattendue (processus interrompu). Rien n'a été publié."
            job.finished_at = dt.datetime.now(dt.UTC)
            session.commit()
    elif job.status == "queued" and job.created_at < dt.datetime.now(dt.UTC) - dt.timedelta(
        minutes=30 if get_settings().external_workers else 2
    ):
        job.status = "failed"
        job.error = "Le calcul n'a pas démarré (aucun processus de calcul disponible)."
        job.finished_at = dt.datetime.now(dt.UTC)
        session.commit()
    return job


def request_cancel(session: Session, job: RotaJob) -> None:
    if job.status in ("queued", "running"):
        job.cancel_requested = True
        if job.status == "queued":
            job.status = "cancelled"
            job.finished_at = dt.datetime.now(dt.UTC)
        session.commit()


def run_job(factory: sessionmaker[Session], job_id: uuid.UUID, *, claimed: bool = False) -> RotaJob:
    """Run one job to its end, in this process. Called by ``smp rota run-job`` (which claims the job
    here) and by ``smp worker`` (which has claimed it already: ``claimed``)."""
    settings = get_settings()
    with factory() as session:
        if not claimed:
            immediate(session)
        job = _load(session, job_id)
        if not claimed:
            claim = session.execute(
                update(RotaJob)
                .where(RotaJob.id == job_id, RotaJob.status == "queued", RotaJob.cancel_requested.is_(False))
                .values(status="running", worker_pid=os.getpid(), started_at=dt.datetime.now(dt.UTC))
            )
            session.commit()
            if not claim.rowcount:  # type: ignore[attr-defined]
                session.refresh(job)
                return job  # already taken by another worker, or cancelled before it started
        session.refresh(job)
        draft = session.get(RotaDraft, job.draft_id) if job.draft_id else None
        try:
            problem = build_problem(session, job.start_date, job.end_date, draft=draft, time_limit_s=job.time_limit_s)
        except Exception as exc:
            _fail(session, job, f"Les données n'ont pas pu être préparées : {type(exc).__name__}.")
            raise

    lock = threading.Lock()
    last_write = [0.0]
    cancelled = [False]
    last_poll = [0.0]

    def on_progress(p: Progress) -> None:
        now = time.monotonic()
        with lock:
            if now - last_write[0] < PROGRESS_EVERY_S:
                return
            last_write[0] = now
        values = {
            "objective": p.objective,
            "bound": p.bound,
            "gap": p.gap,
            "wall_s": round(p.wall_s, 2),
            "solutions": p.solutions,
        }
        with factory() as s:
            s.execute(update(RotaJob).where(RotaJob.id == job_id).values(progress=values))
            s.commit()

    def should_stop() -> bool:
        now = time.monotonic()
        if cancelled[0] or now - last_poll[0] < PROGRESS_EVERY_S:
            return cancelled[0]
        last_poll[0] = now
        with factory() as s:
            cancelled[0] = bool(s.scalar(select(RotaJob.cancel_requested).where(RotaJob.id == job_id)))
        return cancelled[0]

    try:
        solution = solve(
            problem,
            time_limit_s=problem.time_limit_s,
            seed=settings.solver_seed,
            workers=settings.solver_workers,
            on_progress=on_progress,
            should_stop=should_stop,
        )
    except Exception as exc:
        with factory() as session:
            immediate(session)
            job = _load(session, job_id)
            _fail(session, job, f"Le solveur a échoué : {type(exc).__name__}. Rien n'a été publié.")
        raise
    result = solution_to_dict(solution)
    with factory() as session:
        immediate(session)  # a write follows this read: take the lock first (SQLite; no-op elsewhere)
        job = _load(session, job_id)
        job.result = result
        job.progress = {
            "objective": solution.objective,
            "bound": solution.bound,
            "wall_s": round(solution.wall_s, 2),
            "gap": _gap(solution.objective, solution.bound),
            "solutions": solution.solutions,
        }
        job.finished_at = dt.datetime.now(dt.UTC)
        job.status = "cancelled" if solution.stopped and not solution.has_rota else "done"
        draft = session.get(RotaDraft, job.draft_id) if job.draft_id else None
        if solution.has_rota and draft is not None and draft.status == "published":
            # Published meanwhile (by the CLI, say): the result stays on the job, the draft as published.
            job.error = "Le projet a été publié pendant le calcul : la proposition n'a pas été appliquée."
        elif solution.has_rota and draft is not None:
            pins = {(a["clinician"], a["site"], a["date"], a["period"]) for a in draft.assignments if a.get("pinned")}
            pins |= {(k.clinician, k.site, k.date.isoformat(), k.period) for k in problem.pinned}
            draft.assignments = [
                item_of(k, pinned=(k.clinician, k.site, k.date.isoformat(), k.period) in pins)
                for k in sorted(solution.assignments)
            ]
            draft.result = result
        session.commit()
        return job


def _load(session: Session, job_id: uuid.UUID) -> RotaJob:
    job = session.get(RotaJob, job_id)
    if job is None:
        raise LookupError(f"no job {job_id}")
    return job


def _gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None:
        return None
    return abs(objective - bound) / max(1.0, abs(objective))


def _fail(session: Session, job: RotaJob, message: str) -> None:
    job.status = "failed"
    job.error = message[:500]
    job.finished_at = dt.datetime.now(dt.UTC)
    session.commit()
