"""Faults: the database goes away while the application runs — every request gets a clear 503 (a
French page, or JSON for the API) and nothing half-written; when the database is back, the next
request works without a restart.

The application talks to PostgreSQL through a TCP relay that the test cuts and restores (the
machine's PostgreSQL server, whichever database the rest of the suite uses)."""

from __future__ import annotations

import contextlib
import dataclasses
import re
import socket
import threading
import uuid
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient
from sqlalchemy import create_engine, text

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class Relay:
    """A TCP relay to PostgreSQL that can be cut (every connection closed, new ones refused)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.listener: socket.socket | None = None
        self.open: list[socket.socket] = []

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            self.open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        if self.listener is not None:
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
            self.listener.close()
            self.listener = None
        for s in self.open:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
                s.close()
        self.open.clear()


@pytest.fixture
def relayed_database() -> Iterator[tuple[str, Relay]]:
    from app.db.migrate import upgrade

    name = f"smp_fault_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    direct = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    relay = Relay(("127.0.0.1", 5432))
    relay.start()
    try:
        upgrade(direct)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{relay.port}/{name}", relay
    finally:
        relay.cut()
        from app.db.engine import get_engine

        get_engine(f"postgresql+psycopg://postgres@127.0.0.1:{relay.port}/{name}").dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _request(client: TestClient, suffix: str):  # type: ignore[no-untyped-def]
    form = client.get("/demande")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert token, form.text[:300]
    return client.post(
        "/demande",
        data={
            "_csrf_token": token.group(1),
            "last_name": f"Panne{suffix}",
            "first_name": "Odette",
            "birth_date": "1951-06-02",
            "sex": "F",
            "commune": "Laval",
            "phone": "06 98 76 54 32",
            "consent": "on",
        },
        follow_redirects=False,
    )


def _count(url: str) -> int:
    engine = create_engine(url.replace(url.split("@", 1)[1].split("/", 1)[0], "127.0.0.1:5432"))
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM patient")).scalar()
    engine.dispose()
    return int(n or 0)


def test_database_down_gives_a_clear_503_and_the_app_recovers_when_it_returns(relayed_database, demo) -> None:
    from app.asgi import create_app
    from app.settings import get_settings

    url, relay = relayed_database
    faulty = create_app(dataclasses.replace(get_settings(), database_url=url))
    with TestClient(app=faulty, base_url="http://testserver.local") as client:
        assert client.get("/healthz").status_code == 200
        ok = _request(client, "avant")
        assert ok.status_code == 200 and "Demande envoyée" in ok.text, ok.text[:500]
        assert _count(url) == 1

        relay.cut()
        assert client.get("/healthz").status_code == 503
        down = _request(client, "pendant")
        assert down.status_code == 503
        assert "base de données ne répond pas" in down.text and "Rien n&#39;a été enregistré" in down.text
        assert down.headers["retry-after"] == "30"
        api = client.get("/api/slots", headers={"Authorization": "Bearer whatever"})
        assert api.status_code == 503 and api.json()["detail"].startswith("Base de données indisponible")

        relay.start()
        assert client.get("/healthz").status_code == 200
        back = _request(client, "apres")
        assert back.status_code == 200 and "Demande envoyée" in back.text, back.text[:500]
    assert _count(url) == 2  # the request made during the outage left nothing behind


def test_a_solver_worker_killed_mid_solve_leaves_a_failed_job_and_nothing_published(as_user, db, demo) -> None:
    """kill -9 of the real worker process (``smp rota run-job``) while it works: the job page says
    it failed and why, and the published rota is untouched."""
    import datetime as dt
    import os
    import signal
    import time

    from sqlalchemy import func, select

    from app.rota import jobs
    from app.rota.models import RotaDraft, RotaJob, RotaSession

    db.rollback()
    published = db.scalar(select(func.count()).select_from(RotaSession).where(RotaSession.status == "published"))
    monday = dt.date.today() + dt.timedelta(days=7 - dt.date.today().weekday() + 14)
    job = jobs.create_job(db, monday, monday + dt.timedelta(days=55), "tests", time_limit_s=60)
    jobs.launch(job.id)
    deadline = time.monotonic() + 60
    pid = None
    while time.monotonic() < deadline:
        db.rollback()
        db.expire_all()
        row = db.get(RotaJob, job.id)
        if row.worker_pid and row.status == "running":
            pid = row.worker_pid
            break
        time.sleep(0.01)
    assert pid, "the worker never started"
    os.kill(pid, signal.SIGKILL)
    for _ in range(200):  # until the process is really gone
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.02)
    page = as_user("coordination").get(f"/rota/jobs/{job.id}")
    assert page.status_code == 200
    assert "Le calcul s&#39;est arrêté de façon inattendue" in page.text and "Rien n&#39;a été publié" in page.text
    db.rollback()
    db.expire_all()
    assert db.get(RotaJob, job.id).status == "failed"
    assert db.get(RotaDraft, job.draft_id).status != "published"
    assert (
        db.scalar(select(func.count()).select_from(RotaSession).where(RotaSession.status == "published")) == published
    )


def test_killing_the_server_during_a_burst_of_bookings_loses_no_acknowledged_booking(
    scratch_database: str, tmp_path
) -> None:
    """200 bookings sent by 20 clients; the server is killed (SIGKILL) in the middle. After a
    restart every booking the server acknowledged (201) is there, booked, and no slot holds two."""
    import datetime as dt
    import os
    import signal
    import subprocess
    import sys
    import threading
    import time
    from pathlib import Path

    import httpx

    from app.bench.http import start_server

    smp = str(Path(sys.executable).parent / "smp")
    env = {**os.environ, "SMP_DATABASE_URL": scratch_database, "SMP_VAR_DIR": str(tmp_path / "var")}
    seeded = subprocess.run([smp, "seed", "demo", "--patients", "600"], env=env, capture_output=True, text=True)
    assert seeded.returncode == 0, seeded.stderr
    token = subprocess.run([smp, "user", "token", "secretariat1"], env=env, capture_output=True, text=True)
    assert token.returncode == 0, token.stderr
    headers = {"Authorization": f"Bearer {token.stdout.strip()}"}
    from sqlalchemy import exists, select

    from app.patients.models import Patient
    from app.rota.models import Booking, RotaSession, Slot

    engine = create_engine(scratch_database)
    with engine.connect() as conn:
        booked = exists().where(Booking.slot_id == Slot.id, Booking.status == "booked")
        slots = [
            str(r[0])
            for r in conn.execute(
                select(Slot.id)
                .join(RotaSession, RotaSession.id == Slot.session_id)
                .where(RotaSession.status == "published", Slot.status == "open", ~booked)
                .where(Slot.starts_at > dt.datetime.now(dt.UTC))
                .order_by(Slot.starts_at)
                .limit(200)
            )
        ]
        busy = select(Booking.patient_id).where(Booking.status == "booked")
        patients = [
            str(r[0])
            for r in conn.execute(
                select(Patient.id).where(Patient.id.not_in(busy)).order_by(Patient.reference).limit(200)
            )
        ]
    engine.dispose()
    assert len(slots) == 200 and len(patients) == 200, (len(slots), len(patients))

    server, base = start_server(scratch_database, str(tmp_path / "var"))
    acknowledged: list[str] = []
    lock = threading.Lock()
    sent = [0]

    def client(n: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=10) as http:
            for i in range(n, 200, 20):
                with lock:
                    sent[0] += 1
                try:
                    r = http.post("/api/bookings", json={"slot": slots[i], "patient": patients[i], "kind": "office"})
                except httpx.HTTPError:
                    continue  # the server died under this request: not acknowledged
                if r.status_code == 201:
                    with lock:
                        acknowledged.append(r.json()["id"])

    threads = [threading.Thread(target=client, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    while sent[0] < 80:
        time.sleep(0.005)
    os.kill(server.pid, signal.SIGKILL)
    server.wait(timeout=10)
    for t in threads:
        t.join()
    assert 0 < len(acknowledged) < 200, len(acknowledged)

    server, base = start_server(scratch_database, str(tmp_path / "var"))
    try:
        assert httpx.get(base + "/healthz", timeout=5).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
    from sqlalchemy import func

    engine = create_engine(scratch_database)
    with engine.connect() as conn:
        stored = {str(r[0]): r[1] for r in conn.execute(select(Booking.id, Booking.status))}
        lost = [b for b in acknowledged if stored.get(b) != "booked"]
        assert not lost, f"{len(lost)} acknowledged bookings lost or not booked"
        doubled = conn.execute(
            select(Booking.slot_id).where(Booking.status == "booked").group_by(Booking.slot_id).having(func.count() > 1)
        ).all()
        assert not doubled
        if scratch_database.startswith("sqlite"):
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    engine.dispose()
