"""``smp bench http``: slot search and booking latency under 50 concurrent clients.

A fresh database (SQLite in a temporary folder, or an empty PostgreSQL database given by URL) gets
the demo clinic with 100,000 patients and a year of published sessions with their slots; the
server is started as in production (``smp serve``, uvicorn) and 50 client threads search free
slots and book for a fixed time. Figures only — nothing here asserts a speed.
"""

from __future__ import annotations

import datetime as dt
import http.client as http_client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select

from app.accounts.models import User
from app.accounts.services import UserService
from app.audit.recorder import Actor, acting_as
from app.db.engine import analyze, make_engine, session_scope
from app.db.migrate import upgrade
from app.patients.models import Patient
from app.rota.models import RotaSession, Slot
from app.rota.times import bounds, halfday_key, is_public_holiday
from app.sites.models import Site
from app.web.territory import current_territory
from seeds.demo import seed_demo


def _new_id() -> uuid.UUID:
    from uuid_utils.compat import uuid7

    return uuid.UUID(bytes=uuid7().bytes)


def publish_year(session: Any, weeks: int = 52) -> tuple[int, int]:
    """A year of sessions: each site's target per opening half-day, clinicians in turn."""
    now = dt.datetime.now(dt.UTC)
    today = dt.date.today()
    sessions_rows, slot_rows = [], []
    sites = session.scalars(select(Site).where(Site.active.is_(True))).all()
    from app.clinicians.models import Clinician

    by_site = {
        s.id: [c for c in session.scalars(select(Clinician)).unique() if s in c.sites and c.role != "intern"]
        for s in sites
    }
    turn = 0
    for offset in range(weeks * 7):
        day = today + dt.timedelta(days=offset)
        if is_public_holiday(day):
            continue
        for site in sites:
            staff = by_site[site.id]
            for period in ("am", "pm"):
                if halfday_key(day, period) not in site.opening_halfdays or not staff:
                    continue
                used = set()
                for _ in range(site.target_for(halfday_key(day, period))):
                    clinician = staff[turn % len(staff)]
                    turn += 1
                    if clinician.id in used:
                        continue
                    used.add(clinician.id)
                    starts, ends = bounds(day, period)
                    sid = _new_id()
                    sessions_rows.append(
                        {
                            "id": sid,
                            "site_id": site.id,
                            "clinician_id": clinician.id,
                            "date": day,
                            "period": period,
                            "starts_at": starts,
                            "ends_at": ends,
                            "status": "published",
                            "pinned": False,
                            "sequence": 0,
                            "published_at": now,
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
                    t = starts
                    while t + dt.timedelta(minutes=site.slot_minutes) <= ends:
                        slot_rows.append(
                            {
                                "id": _new_id(),
                                "session_id": sid,
                                "starts_at": t,
                                "ends_at": t + dt.timedelta(minutes=site.slot_minutes),
                                "status": "open",
                                "created_at": now,
                                "updated_at": now,
                            }
                        )
                        t += dt.timedelta(minutes=site.slot_minutes)
    # A clinician may be drawn twice the same half-day at two sites: keep the first.
    seen, kept = set(), []
    for row in sessions_rows:
        key = (row["clinician_id"], row["date"], row["period"])
        if key not in seen:
            seen.add(key)
            kept.append(row)
    kept_ids = {r["id"] for r in kept}
    slot_rows = [r for r in slot_rows if r["session_id"] in kept_ids]
    for start in range(0, len(kept), 2000):
        session.execute(insert(RotaSession), kept[start : start + 2000])
    for start in range(0, len(slot_rows), 5000):
        session.execute(insert(Slot), slot_rows[start : start + 5000])
    return len(kept), len(slot_rows)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, var_dir: str, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    """`smp serve` on a free port against ``url``, once it answers ``/healthz``: the process and its base URL."""
    port = _free_port()
    env = {**os.environ, "SMP_DATABASE_URL": url, "SMP_VAR_DIR": var_dir}
    server = subprocess.Popen(  # noqa: S603 - our own command
        [str(Path(sys.executable).parent / "smp"), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    return server, base


@dataclass(frozen=True)
class CpuTimes:
    """The machine's CPU counters (Linux ``/proc/stat``, in ticks): all, idle + iowait, steal."""

    total: int
    idle: int
    steal: int

    def since(self, before: CpuTimes) -> CpuTimes:
        return CpuTimes(self.total - before.total, self.idle - before.idle, self.steal - before.steal)

    @property
    def busy_pct(self) -> float:
        return round(100 * (1 - self.idle / self.total), 1) if self.total else 0.0

    @property
    def steal_pct(self) -> float:
        """Time the hypervisor gave this virtual machine's CPUs to others: noise in the figures."""
        return round(100 * self.steal / self.total, 1) if self.total else 0.0


def machine_cpu() -> CpuTimes:
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return CpuTimes(0, 0, 0)
    return CpuTimes(sum(fields), fields[3] + fields[4], fields[7] if len(fields) > 7 else 0)


class KeepAliveClient:
    """One client's keep-alive connection, on the standard library's ``http.client``.

    The load generator shares the server's two cores: with httpx it spent 3.7 ms of CPU per
    request (a quarter of the machine at 50 clients), time taken from the server it measures; this
    costs under 1 ms. A dropped connection is opened again once."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port
        self.headers = headers
        self.connection: http_client.HTTPConnection | None = None

    def __enter__(self) -> KeepAliveClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.connection is not None:
            self.connection.close()

    def request(self, method: str, path: str, payload: object = None) -> tuple[int, bytes]:
        body = json.dumps(payload).encode() if payload is not None else None
        headers = {**self.headers, **({"Content-Type": "application/json"} if body is not None else {})}
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http_client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                return response.status, response.read()
            except (OSError, http_client.HTTPException):
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def run(
    database_url: str | None,
    *,
    patients: int = 100_000,
    clients: int = 50,
    seconds: float = 20.0,
    workers: int = 1,
    think_ms: float = 0.0,
) -> dict[str, Any]:
    """``think_ms`` = 0: every client sends its next request as soon as the last one answered
    (saturation: latency is then set by throughput). Otherwise each client waits a random pause
    averaging ``think_ms`` between requests (a person at a screen); the pause is not measured."""
    tmp = tempfile.TemporaryDirectory()
    url = database_url or f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    started = time.perf_counter()
    upgrade(url)
    engine = make_engine(url)
    with acting_as(Actor(None, "system:bench-http")), session_scope(engine) as session:
        seed_demo(session, current_territory(), patients=patients, seed=11, publish_rota=False)
        n_sessions, n_slots = publish_year(session)
        analyze(session)
        account = session.scalar(select(User).where(User.username == "secretariat1"))
        assert account is not None
        token = UserService(session=session).issue_token(account, "bench")
        patient_ids = [str(p) for p in session.scalars(select(Patient.id).limit(20_000))]
        site_ids = [str(s) for s in session.scalars(select(Site.id))]
    engine.dispose()
    prepared_s = time.perf_counter() - started

    server, base = start_server(url, tmp.name, workers)
    try:
        latencies: dict[str, list[float]] = {"search": [], "book": []}
        outcomes: dict[str, int] = {"201": 0, "409": 0, "other_4xx": 0, "5xx": 0, "errors": 0}
        lock = threading.Lock()
        stop_at = time.monotonic() + seconds
        headers = {"Authorization": f"Bearer {token}"}

        def client(n: int) -> None:
            rng = random.Random(n)
            with KeepAliveClient(base, headers) as http:
                free: list[str] = []
                while time.monotonic() < stop_at:
                    if think_ms > 0:
                        time.sleep(rng.expovariate(1000.0 / think_ms))
                        if time.monotonic() >= stop_at:
                            break
                    try:
                        if free and rng.random() < 0.2:
                            t0 = time.perf_counter()
                            code, body = http.request(
                                "POST",
                                "/api/bookings",
                                {"slot": free.pop(rng.randrange(len(free))), "patient": rng.choice(patient_ids)},
                            )
                            kind = "book"
                        else:
                            day = dt.date.today() + dt.timedelta(days=rng.randrange(0, 300))
                            query = urllib.parse.urlencode(
                                {
                                    "site": rng.choice(site_ids),
                                    "date_from": day.isoformat(),
                                    "date_to": (day + dt.timedelta(days=7)).isoformat(),
                                    "free": "true",
                                    "limit": 50,
                                }
                            )
                            t0 = time.perf_counter()
                            code, body = http.request("GET", "/api/slots?" + query)
                            kind = "search"
                            if code == 200:
                                free = [s["id"] for s in json.loads(body)]
                        elapsed = (time.perf_counter() - t0) * 1000
                        with lock:
                            latencies[kind].append(elapsed)
                            key = (
                                str(code)
                                if code in (201, 409)
                                else "5xx"
                                if code >= 500
                                else "other_4xx"
                                if code >= 400
                                else None
                            )
                            if key:
                                outcomes[key] += 1
                    except (OSError, http_client.HTTPException):
                        with lock:
                            outcomes["errors"] += 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        cpu_before = machine_cpu()
        t_start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - t_start
        cpu = machine_cpu().since(cpu_before)
    finally:
        server.terminate()
        server.wait(timeout=20)
        tmp.cleanup()

    def stats(values: list[float]) -> dict[str, float]:
        if not values:
            return {"count": 0}
        values = sorted(values)
        return {
            "count": len(values),
            "p50_ms": round(statistics.median(values), 1),
            "p95_ms": round(values[int(0.95 * (len(values) - 1))], 1),
            "p99_ms": round(values[int(0.99 * (len(values) - 1))], 1),
            "per_s": round(len(values) / wall, 1),
        }

    return {
        "database": "postgresql" if url.startswith("postgres") else "sqlite",
        "patients": patients,
        "sessions": n_sessions,
        "slots": n_slots,
        "clients": clients,
        "seconds": round(wall, 1),
        "server_workers": workers,
        "think_ms": think_ms,
        "prepare_s": round(prepared_s, 1),
        "machine_busy_pct": cpu.busy_pct,
        "cpu_steal_pct": cpu.steal_pct,
        "search": stats(latencies["search"]),
        "book": stats(latencies["book"]),
        "outcomes": outcomes,
    }


def format_figures(f: dict[str, Any]) -> str:
    s, b = f["search"], f["book"]
    pace = f"pause moyenne {f['think_ms']:g} ms entre deux requêtes" if f["think_ms"] else "sans pause"
    return "\n".join(
        [
            f"{f['database']}: {f['patients']} patients, {f['sessions']} séances, {f['slots']} créneaux ; "
            f"{f['clients']} clients pendant {f['seconds']} s (serveur : {f['server_workers']} processus, {pace})",
            f"  recherche de créneaux : p50 {s.get('p50_ms')} ms, p95 {s.get('p95_ms')} ms, "
            f"p99 {s.get('p99_ms')} ms, {s.get('per_s')} req/s",
            f"  réservation           : p50 {b.get('p50_ms')} ms, p95 {b.get('p95_ms')} ms, "
            f"p99 {b.get('p99_ms')} ms, {b.get('per_s')} req/s",
            f"  réponses : {f['outcomes']}",
            f"  machine : {f['machine_busy_pct']} % occupée, {f['cpu_steal_pct']} % du temps pris par "
            "l'hyperviseur (au-delà de 1 %, les latences sont à remesurer)",
        ]
    )
