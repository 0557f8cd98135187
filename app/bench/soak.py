"""``smp bench soak``: many clients for minutes against the real server, to see that nothing fails
and memory stays flat. Each client mixes what the secretaries do all day through the API: slot
searches, bookings (some lost to another client: 409), cancellations, sites and clinicians lists.
The server's resident memory is sampled every few seconds from ``/proc``."""

from __future__ import annotations

import datetime as dt
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.services import UserService
from app.audit.recorder import Actor, acting_as
from app.bench.http import start_server
from app.db.engine import make_engine, session_scope
from app.db.migrate import upgrade
from app.patients.models import Patient
from app.sites.models import Site
from app.web.territory import current_territory
from seeds.demo import seed_demo


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(*, clients: int = 50, seconds: float = 300.0, patients: int = 2000, sample_s: float = 5.0) -> dict[str, Any]:
    tmp = tempfile.TemporaryDirectory()
    url = f"sqlite:///{Path(tmp.name) / 'soak.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with acting_as(Actor(None, "system:bench-soak")), session_scope(engine) as session:
        seed_demo(session, current_territory(), patients=patients, seed=17)
        account = session.scalar(select(User).where(User.username == "secretariat1"))
        assert account is not None
        token = UserService(session=session).issue_token(account, "soak")
        patient_ids = [str(p) for p in session.scalars(select(Patient.id))]
        site_ids = [str(s) for s in session.scalars(select(Site.id))]
    engine.dispose()

    server, base = start_server(url, tmp.name)
    counts = {"requests": 0, "2xx": 0, "409": 0, "other_4xx": 0, "5xx": 0, "errors": 0}
    latencies: list[float] = []
    memory: list[tuple[float, float]] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(n: int) -> None:
        rng = random.Random(n)
        mine: list[str] = []
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
            while time.monotonic() < stop_at:
                time.sleep(rng.expovariate(1 / 0.5))  # a person: about two actions a second
                draw = rng.random()
                try:
                    t0 = time.perf_counter()
                    if draw < 0.55:
                        day = dt.date.today() + dt.timedelta(days=rng.randrange(0, 28))
                        r = http.get(
                            "/api/slots",
                            params={
                                "site": rng.choice(site_ids),
                                "date_from": day.isoformat(),
                                "free": "true",
                                "limit": 20,
                            },
                        )
                        free = [s["id"] for s in r.json()] if r.status_code == 200 else []
                        if free and rng.random() < 0.5:
                            r = http.post(
                                "/api/bookings",
                                json={"slot": rng.choice(free), "patient": rng.choice(patient_ids), "kind": "office"},
                            )
                            if r.status_code == 201:
                                mine.append(r.json()["id"])
                    elif draw < 0.7 and mine:
                        r = http.delete(f"/api/bookings/{mine.pop()}", params={"reason": "patient"})
                    elif draw < 0.85:
                        r = http.get("/api/sites")
                    else:
                        r = http.get("/api/clinicians")
                    elapsed = (time.perf_counter() - t0) * 1000
                    code = r.status_code
                    with lock:
                        counts["requests"] += 1
                        latencies.append(elapsed)
                        key = "2xx" if code < 300 else "409" if code == 409 else "5xx" if code >= 500 else "other_4xx"
                        counts[key] += 1
                except httpx.HTTPError:
                    with lock:
                        counts["errors"] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    try:
        for t in threads:
            t.start()
        while time.monotonic() < stop_at:
            memory.append((round(time.monotonic() - started, 1), round(rss_mib(server.pid), 1)))
            time.sleep(sample_s)
        for t in threads:
            t.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
        tmp.cleanup()
    wall = time.monotonic() - started
    values = [m for _, m in memory]
    third = max(1, len(values) // 3)
    latencies.sort()
    return {
        "clients": clients,
        "seconds": round(wall, 1),
        "counts": counts,
        "per_s": round(counts["requests"] / wall, 1),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1) if latencies else None,
        "rss_first_third_mib": round(statistics.mean(values[:third]), 1) if values else None,
        "rss_last_third_mib": round(statistics.mean(values[-third:]), 1) if values else None,
        "rss_max_mib": max(values) if values else None,
        "memory": memory,
    }


def format_figures(f: dict[str, Any]) -> str:
    c = f["counts"]
    return (
        f"Endurance : {f['clients']} clients pendant {f['seconds']} s, {c['requests']} requêtes ({f['per_s']}/s), "
        f"p50 {f['p50_ms']} ms, p95 {f['p95_ms']} ms ; réponses 2xx {c['2xx']}, 409 {c['409']}, autres 4xx "
        f"{c['other_4xx']}, 5xx {c['5xx']}, erreurs réseau {c['errors']} ; mémoire du serveur "
        f"{f['rss_first_third_mib']} Mio (premier tiers) → {f['rss_last_third_mib']} Mio (dernier tiers), "
        f"max {f['rss_max_mib']} Mio."
    )
