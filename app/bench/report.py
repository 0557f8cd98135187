"""``smp bench report``: the committee dashboard's server time with 100,000 patients, two years of
history (requests, assignments) and a year of published sessions, served by the real server."""

from __future__ import annotations

import datetime as dt
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from app.audit.recorder import Actor, acting_as
from app.bench.http import publish_year, start_server
from app.db.engine import analyze, make_engine, session_scope
from app.db.migrate import upgrade
from app.reports.figures import build_report
from app.web.territory import current_territory
from seeds.demo import DEMO_PASSWORD, seed_demo


def run(database_url: str | None, *, patients: int = 100_000, repeats: int = 10) -> dict[str, Any]:
    tmp = tempfile.TemporaryDirectory()
    url = database_url or f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    started = time.perf_counter()
    upgrade(url)
    engine = make_engine(url)
    with acting_as(Actor(None, "system:bench-report")), session_scope(engine) as session:
        seed_demo(session, current_territory(), patients=patients, seed=13, publish_rota=False)
        publish_year(session)
        analyze(session)
    prepared_s = time.perf_counter() - started
    compute: list[float] = []
    with session_scope(engine) as session:
        for _ in range(repeats):
            t = time.perf_counter()
            report = build_report(
                session, current_territory(), dt.date.today(), target=10_000, visits_per_year=4, annual_budget=561_600
            )
            compute.append((time.perf_counter() - t) * 1000)
        events = report.trend["new"].sum()
    engine.dispose()

    server, base = start_server(url, tmp.name)
    pages: list[float] = []
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            form = client.get("/login").text
            token = re.search(r'name="_csrf_token" value="([^"]+)"', form)
            assert token is not None
            client.post("/login", data={"username": "comite", "password": DEMO_PASSWORD, "_csrf_token": token.group(1)})
            client.get("/committee")  # the first request warms the process (imports, caches)
            for _ in range(repeats):
                t = time.perf_counter()
                response = client.get("/committee")
                pages.append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200, response.status_code
    finally:
        server.terminate()
        server.wait(timeout=30)
        tmp.cleanup()
    return {
        "database": url.split(":", 1)[0],
        "patients": patients,
        "enrolments_in_24_months": int(events),
        "prepare_s": round(prepared_s, 1),
        "compute_ms_p50": round(statistics.median(compute), 1),
        "compute_ms_max": round(max(compute), 1),
        "page_ms_p50": round(statistics.median(pages), 1),
        "page_ms_max": round(max(pages), 1),
        "repeats": repeats,
    }


def format_figures(f: dict[str, Any]) -> str:
    def n(value: int) -> str:
        return f"{value:,}".replace(",", "\u202f")

    return (
        f"Tableau de bord du comité, {n(f['patients'])} patients ({n(f['enrolments_in_24_months'])} inscriptions "
        f"sur 24 mois), {f['database']} : calcul {f['compute_ms_p50']} ms (médiane ; max {f['compute_ms_max']}), "
        f"page complète servie {f['page_ms_p50']} ms (médiane ; max {f['page_ms_max']}) sur {f['repeats']} essais "
        f"(préparation {f['prepare_s']} s)."
    )
