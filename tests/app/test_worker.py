"""`smp worker`: solver jobs taken from a shared queue. Two workers started at once on three queued
jobs run each job exactly once (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional claim on
both databases)."""

import dataclasses
import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from app.rota import jobs
from app.rota.models import RotaDraft, RotaJob

SMP = str(Path(sys.executable).parent / "smp")


def _queue(db, n: int) -> list:  # type: ignore[no-untyped-def]
    db.rollback()
    ids = []
    base = dt.date.today() + dt.timedelta(days=200)
    base -= dt.timedelta(days=base.weekday())
    for i in range(n):
        start = base + dt.timedelta(days=14 * i)
        draft = RotaDraft(start_date=start, end_date=start + dt.timedelta(days=6), created_by="tests")
        db.add(draft)
        db.flush()
        job = RotaJob(
            start_date=draft.start_date,
            end_date=draft.end_date,
            draft_id=draft.id,
            requested_by="tests",
            time_limit_s=5,
        )
        db.add(job)
        db.flush()
        ids.append(job.id)
    db.commit()
    return ids


def test_two_workers_share_the_queue_and_run_each_job_once(db, demo):
    ids = _queue(db, 3)
    env = os.environ.copy()
    workers = [
        subprocess.Popen([SMP, "worker", "--once", "--poll", "0.2"], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=300)[0] for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    counts = [int(re.search(r"(\d+) calcul", out).group(1)) for out in outputs]
    assert sum(counts) == 3, outputs  # each job once, whichever worker took it
    db.rollback()
    db.expire_all()
    done = db.scalars(select(RotaJob).where(RotaJob.id.in_(ids))).all()
    assert {j.status for j in done} == {"done"}
    assert len({j.worker_pid for j in done}) >= 1 and all(j.worker_pid for j in done)


def test_with_external_workers_the_web_process_leaves_the_job_to_them(db, demo, monkeypatch, tmp_path):
    import time

    from app.settings import get_settings

    settings = dataclasses.replace(get_settings(), external_workers=True, var_dir=tmp_path)
    monkeypatch.setattr(jobs, "get_settings", lambda: settings)  # this process's configuration
    (job_id,) = _queue(db, 1)
    jobs.launch(job_id)
    time.sleep(1.5)
    db.rollback()
    db.expire_all()
    assert db.get(RotaJob, job_id).status == "queued"  # no solver process was started
    out = subprocess.run([SMP, "worker", "--once"], env=os.environ.copy(), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    db.rollback()
    db.expire_all()
    assert db.get(RotaJob, job_id).status == "done"
