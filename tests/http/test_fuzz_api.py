"""Fuzzing the JSON API with schemathesis, from the application's own OpenAPI document, with a
logged-in token: no generated request may get a 5xx.

It runs against a database of its own (the fuzzer creates sites, patients, bookings), seeded with a
small demo clinic, on the same engine as the rest of the suite. ``make test`` runs a short form
(``SMP_FUZZ_EXAMPLES``, 15 examples per operation); the full run is documented in docs/security.md:

    SMP_FUZZ_EXAMPLES=200 .venv/bin/python -m pytest tests/http/test_fuzz_api.py -q -s

and prints how many requests were sent.
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

EXAMPLES = int(os.environ.get("SMP_FUZZ_EXAMPLES", "15"))
SENT: dict[str, int] = {}


@pytest.fixture(scope="module")
def fuzz_app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    from app.accounts.models import User
    from app.accounts.services import UserService
    from app.asgi import create_app
    from app.audit.recorder import Actor, acting_as
    from app.db.engine import get_engine, session_scope
    from app.db.migrate import upgrade
    from app.settings import get_settings
    from app.web.territory import current_territory
    from seeds.demo import seed_demo

    admin = None
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.sqlite3'}"
    else:
        name = f"smp_fuzz_{uuid.uuid4().hex[:8]}"
        admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        engine = get_engine(url)
        with acting_as(Actor(None, "system:fuzz")), session_scope(engine) as session:
            seed_demo(session, current_territory(), patients=60, seed=5)
            user = session.scalar(select(User).where(User.username == "coordination"))
            token = UserService(session=session).issue_token(user, "fuzz")
        yield create_app(dataclasses.replace(get_settings(), database_url=url)), token
        total = sum(SENT.values())
        report = Path(__file__).resolve().parents[2] / "var" / "test-artefacts" / "fuzz-requests.txt"
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(f"{total} requests\n" + "".join(f"{k}: {v}\n" for k, v in sorted(SENT.items())))
        print(f"\nschemathesis: {total} generated requests")
        engine.dispose()
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def test_no_generated_api_request_gets_a_server_error(fuzz_app):  # type: ignore[no-untyped-def]
    app, token = fuzz_app
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10, "the API's operations"

    def fuzz(operation):  # type: ignore[no-untyped-def]
        key = f"{operation.method.upper()} {operation.path}"

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def call(case):  # type: ignore[no-untyped-def]
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            SENT[key] = SENT.get(key, 0) + 1
            if response.status_code >= 500:
                failures.append(f"{key} -> {response.status_code}: {case.as_curl_command()[:300]}")

        call()

    for operation in operations:
        fuzz(operation)
    assert not failures, "\n".join(failures[:10])
