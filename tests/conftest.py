"""Test configuration: one database per run, migrated from empty, seeded once with the demo clinic.

SQLite (a file in a temporary folder) by default; PostgreSQL when ``SMP_TEST_DATABASE_URL`` is set
(its ``public`` schema is dropped and recreated first, so use a database made for the tests).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

_TMP = Path(tempfile.mkdtemp(prefix="smp-tests-"))


def pytest_configure(config: pytest.Config) -> None:
    # Settings are read once per process: fix them before anything imports the app.
    url = os.environ.get("SMP_TEST_DATABASE_URL") or f"sqlite:///{_TMP / 'test.sqlite3'}"
    os.environ["SMP_DATABASE_URL"] = url
    os.environ["SMP_VAR_DIR"] = str(_TMP / "var")
    os.environ["SMP_SECRET_KEY"] = "test-secret-key-not-for-production-0123456789"
    os.environ["SMP_LOGIN_RATE_LIMIT"] = "100000"  # the rate-limit test builds its own app


def _reset_database(url: str) -> None:
    from sqlalchemy import text

    from app.db.engine import make_engine

    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url() -> str:
    from app.settings import get_settings

    return get_settings().database_url


@pytest.fixture(scope="session")
def migrated(database_url: str) -> str:
    """The test database, migrated from empty to the latest revision."""
    from app.db.migrate import upgrade

    _reset_database(database_url)
    upgrade(database_url)
    return database_url


@pytest.fixture(scope="session")
def engine(migrated: str):  # type: ignore[no-untyped-def]
    from app.db.engine import get_engine

    return get_engine(migrated)


@pytest.fixture(scope="session")
def demo(engine):  # type: ignore[no-untyped-def]
    """The demo clinic with 400 patients, seeded once for the whole run."""
    from app.audit.recorder import Actor, acting_as
    from app.db.engine import session_scope
    from app.web.territory import current_territory
    from seeds.demo import seed_demo

    with acting_as(Actor(None, "system:tests")), session_scope(engine) as session:
        return seed_demo(session, current_territory(), patients=400, seed=53)


@pytest.fixture
def db(engine) -> Iterator:  # type: ignore[no-untyped-def]
    from app.db.engine import session_scope

    with session_scope(engine) as session:
        yield session


@pytest.fixture(scope="session")
def app(demo):  # type: ignore[no-untyped-def]
    from app.asgi import create_app

    return create_app()


@pytest.fixture
def client(app) -> Iterator:  # type: ignore[no-untyped-def]
    from litestar.testing import TestClient

    with TestClient(app=app, base_url="http://testserver.local") as c:
        yield c


CSRF_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    found = CSRF_RE.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def login(client, username: str, password: str | None = None):  # type: ignore[no-untyped-def]
    from seeds.demo import DEMO_PASSWORD

    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": password or DEMO_PASSWORD,
            "_csrf_token": csrf_token(page.text),
        },
        follow_redirects=False,
    )
    return response


def post_form(client, url: str, data: dict, form_url: str | None = None):  # type: ignore[no-untyped-def]
    """GET the form (for its CSRF token), then POST it like a browser would."""
    page = client.get(form_url or url)
    return client.post(url, data={**data, "_csrf_token": csrf_token(page.text)}, follow_redirects=False)


@pytest.fixture
def as_user(client):  # type: ignore[no-untyped-def]
    def _as(username: str):  # type: ignore[no-untyped-def]
        response = login(client, username)
        assert response.status_code in (302, 303), response.text
        return client

    return _as


ARTEFACTS = Path(__file__).resolve().parents[1] / "var" / "test-artefacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(demo) -> Iterator[str]:
    port = _free_port()
    smp = str(Path(sys.executable).parent / "smp")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    log = (ARTEFACTS / "live-server.log").open("w")
    proc = subprocess.Popen([smp, "serve", "--port", str(port)], env=os.environ.copy(), stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("the server did not start")
    yield base
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture
def scratch_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database next to the test one, on the same engine: a SQLite file, or a
    database created on the PostgreSQL server (dropped afterwards)."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from app.db.migrate import upgrade

    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        upgrade(url)
        yield url
        return
    name = f"smp_scratch_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        from app.db.engine import get_engine

        get_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
