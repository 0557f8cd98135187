"""``smp bench pages``: every page of the application, opened as each role that may open it, on the
demo clinic served by the real server: the server time of each (median and slowest of a few
requests) and the JavaScript + CSS each page loads.

The page inventory comes from the application's own route list, with real objects of the demo in
the paths, so a new page is measured (and walked by the accessibility tests, which use the same
inventory) without being listed anywhere.
"""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

ROLES = ("coordination", "secretariat1", "medecin", "interne", "comite", "pharmacie", "admin")
NOT_PAGES = ("/static", "/schema", "/api/", "/ical/", "/healthz", "/communes/options", "/logout")
"""The API, feeds, static files and fragments: not pages a person reads."""
FRAGMENTS = re.compile(r"/(cell|progress|move)$|\.(csv|xlsx|ics|json)$")
"""htmx fragments and downloads; the ``move`` pages need a query (walked by the booking tests)."""
STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
WEIGHT_LIMIT = 100 * 1024
"""No page ships more than 100 KB of JavaScript and CSS together."""


def sample_ids(session: Session) -> dict[str, list[str]]:
    """Real objects of the database for each path parameter of the application's routes (a waiting
    and an assigned patient: their pages differ)."""
    from app.clinicians.models import Clinician
    from app.cpts.models import CensusGp
    from app.patients.duplicates import likely_pairs
    from app.patients.models import CpamImport, Patient
    from app.rota.models import Booking, RotaDraft, RotaJob
    from app.sites.models import Site

    def first(statement: Any) -> Any:
        return session.scalar(statement.limit(1))

    ids: dict[str, list[Any]] = {
        "site_id": [first(select(Site.id).order_by(Site.name))],
        "clinician_id": [first(select(Clinician.id).where(Clinician.role == "retired_gp").order_by(Clinician.id))],
        "patient_id": [
            first(select(Patient.id).where(Patient.status == status).order_by(Patient.reference))
            for status in ("waiting", "assigned")
        ],
        "gp_id": [first(select(CensusGp.id).where(CensusGp.departure_date.is_not(None)).order_by(CensusGp.id))],
        "import_id": [first(select(CpamImport.id).order_by(CpamImport.imported_at))],
        "booking_id": [first(select(Booking.id).where(Booking.status == "booked").order_by(Booking.id))],
        "draft_id": [first(select(RotaDraft.id).order_by(RotaDraft.created_at.desc()))],
        "job_id": [first(select(RotaJob.id).order_by(RotaJob.created_at.desc()))],
    }
    pairs = likely_pairs(session, limit=1)
    if pairs:
        ids["first"], ids["second"] = [pairs[0].first.id], [pairs[0].second.id]
    return {k: [str(x) for x in v if x is not None] for k, v in ids.items() if any(x is not None for x in v)}


def page_urls(routes: Iterable[Any], ids: dict[str, list[str]]) -> list[str]:
    """Every GET page of ``routes`` (``app.routes``), its path parameters filled from ``ids``; a
    route whose objects the database does not have is left out."""
    urls = []
    for route in routes:
        path = route.path
        if "GET" not in getattr(route, "methods", set()) or path.startswith(NOT_PAGES) or FRAGMENTS.search(path):
            continue
        params = re.findall(r"\{([a-z_]+):[a-z]+\}", path)
        if any(p not in ids for p in params):
            continue
        for n in range(max((len(ids[p]) for p in params), default=1)):
            url = path
            for p in params:
                url = re.sub(r"\{" + p + r":[a-z]+\}", ids[p][min(n, len(ids[p]) - 1)], url)
            urls.append(url)
    return sorted(set(urls))


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.found.append(str(a["src"]))
        elif tag == "link" and "stylesheet" in (a.get("rel") or "") and a.get("href"):
            self.found.append(str(a["href"]))


def page_assets(html: str) -> list[str]:
    """The scripts and style sheets a page loads (``src`` / ``href`` as written)."""
    parser = _Assets()
    parser.feed(html)
    return parser.found


def asset_bytes(url: str) -> int:
    """Size of a local static file (``/static/...``); a URL elsewhere is an error: nothing from a CDN."""
    if not url.startswith("/static/"):
        raise ValueError(f"asset outside the application: {url}")
    return (STATIC_DIR / url.removeprefix("/static/").split("?", 1)[0]).stat().st_size


def login(client: httpx.Client, username: str, password: str) -> None:
    form = client.get("/login").text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form)
    assert token is not None
    client.post("/login", data={"username": username, "password": password, "_csrf_token": token.group(1)})


def run(*, patients: int = 2000, repeats: int = 5) -> dict[str, Any]:
    """Seed the demo clinic in a temporary SQLite database, start the server, and open every page as
    every role that may open it."""
    from app.asgi import create_app
    from app.audit.recorder import Actor, acting_as
    from app.bench.http import start_server
    from app.db.engine import make_engine, session_scope
    from app.db.migrate import upgrade
    from app.web.territory import current_territory
    from seeds.demo import DEMO_PASSWORD, seed_demo

    tmp = tempfile.TemporaryDirectory()
    url = f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with acting_as(Actor(None, "system:bench-pages")), session_scope(engine) as session:
        seed_demo(session, current_territory(), patients=patients, seed=53)
    with session_scope(engine) as session:
        urls = page_urls(create_app().routes, sample_ids(session))
    engine.dispose()
    server, base = start_server(url, tmp.name)
    rows: list[dict[str, Any]] = []
    try:
        for role in ROLES:
            with httpx.Client(base_url=base, timeout=60) as client:
                login(client, role, DEMO_PASSWORD)
                for page in urls:
                    first = client.get(page)
                    if first.status_code != 200 or "text/html" not in first.headers.get("content-type", ""):
                        continue
                    times = []
                    for _ in range(repeats):
                        t = time.perf_counter()
                        client.get(page)
                        times.append((time.perf_counter() - t) * 1000)
                    weight = sum(asset_bytes(a) for a in set(page_assets(first.text)))
                    rows.append(
                        {
                            "role": role,
                            "page": re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "{id}", page),
                            "ms_p50": round(statistics.median(times), 1),
                            "ms_max": round(max(times), 1),
                            "js_css_kb": round(weight / 1024, 1),
                        }
                    )
    finally:
        server.terminate()
        server.wait(timeout=30)
        tmp.cleanup()
    return {
        "patients": patients,
        "repeats": repeats,
        "pages": rows,
        "distinct_pages": len({r["page"] for r in rows}),
        "slowest": max(rows, key=lambda r: r["ms_p50"]) if rows else None,
        "heaviest_kb": max((r["js_css_kb"] for r in rows), default=0),
    }


def format_table(figures: dict[str, Any]) -> str:
    lines = [
        f"Pages de la clinique de démonstration ({figures['patients']} patients), serveur réel, SQLite : "
        f"{figures['distinct_pages']} pages, {len(figures['pages'])} couples page × rôle, "
        f"{figures['repeats']} requêtes chacun.",
        f"{'rôle':<13} {'page':<52} {'médiane ms':>10} {'max ms':>8} {'JS+CSS Ko':>10}",
    ]
    for r in figures["pages"]:
        lines.append(f"{r['role']:<13} {r['page']:<52} {r['ms_p50']:>10} {r['ms_max']:>8} {r['js_css_kb']:>10}")
    if figures["slowest"]:
        s = figures["slowest"]
        lines.append(
            f"La plus lente : {s['page']} ({s['role']}) {s['ms_p50']} ms ; "
            f"la plus lourde : {figures['heaviest_kb']} Ko de JS et CSS."
        )
    return "\n".join(lines)
