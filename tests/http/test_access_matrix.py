"""The access-control matrix: every route of the application × every role (and nobody logged in),
generated from the application's own route list. A route without a rule here fails the suite.

Reads (GET) are checked both ways: the roles of the rule get in, every other one is refused.
Changes (POST, PATCH, DELETE) are checked on the refusing side — with a valid CSRF token, so
that the refusal is the role's and not the token's — since letting them through would change
the shared demo clinic; the tests of each feature cover the accepting side. Then the objects of
another user (IDOR): a clinician's availability, API tokens and calendar feeds, a partner's
referrals."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from app.bench.pages import sample_ids
from tests.conftest import csrf_token, login, post_form
from tests.http.access import ROLES, UNSAFE, denied, fill

EVERYONE = frozenset(ROLES)
LOGGED_IN = EVERYONE - {"anon"}
ADMIN = frozenset({"admin"})
MANAGERS = frozenset({"admin", "coordination"})
STAFF = MANAGERS | {"secretariat1"}
CLINICIANS = frozenset({"admin", "medecin", "interne"})
REFERRERS = frozenset({"admin", "medecin", "interne", "pharmacie"})

POLICY: dict[str, frozenset[str]] = {
    # Public: the request form and its follow-up, login, health, calendar feeds (their secret
    # token is the key), the API's description.
    "/demande": EVERYONE,
    "/suivi": EVERYONE,
    "/login": EVERYONE,
    "/confidentialite": EVERYONE,
    # Metrics: the machine itself (the test client counts as local) or an administrator; the guard
    # is checked from outside in tests/http/test_metrics.py.
    "/metrics": EVERYONE,
    "/healthz": EVERYONE,
    "/help/calendars": EVERYONE,
    "/ical/{name:str}": EVERYONE,
    "/schema": EVERYONE,
    "/schema/openapi.json": EVERYONE,
    "/schema/{path:str}": EVERYONE,
    # Every account: its home, its profile, the commune look-ups of the forms.
    "/": LOGGED_IN,
    "/logout": LOGGED_IN,
    "/profile": LOGGED_IN,
    "/profile/password": LOGGED_IN,
    "/profile/tokens": LOGGED_IN,
    "/profile/tokens/{token_id:uuid}/revoke": LOGGED_IN,
    "/profile/calendars": LOGGED_IN,
    "/profile/calendars/{feed_id:uuid}/regenerate": LOGGED_IN,
    "/profile/calendars/{feed_id:uuid}/revoke": LOGGED_IN,
    "/communes/options": LOGGED_IN,
    "/api/communes": LOGGED_IN,
    # The administrator alone: the audit trail.
    "/admin/audit": ADMIN,
    # A clinician's own week, day and availability (the coordinator edits anyone's availability;
    # the administrator has no availability of their own).
    "/my/week": CLINICIANS,
    "/my/day": CLINICIANS,
    "/availability": frozenset({"coordination", "medecin", "interne"}),
    # Referrals: partners and clinicians.
    "/referrals": REFERRERS,
    "/referrals/new": REFERRERS,
    # The committee: aggregates only.
    "/committee": MANAGERS | {"comite"},
    "/committee/export.csv": MANAGERS | {"comite"},
    "/committee/export.xlsx": MANAGERS | {"comite"},
    "/cpts/indicators": STAFF | {"comite"},
    # The API: staff, sites also readable by clinicians.
    "/api/sites": STAFF | {"medecin", "interne"},
    "/api/sites/{site_id:uuid}": STAFF | {"medecin", "interne"},
    "/api/clinicians": STAFF,
    "/api/clinicians/{clinician_id:uuid}": STAFF,
    "/api/patients": STAFF,
    "/api/patients/{patient_id:uuid}": STAFF,
    "/api/slots": STAFF,
    "/api/bookings": STAFF,
    "/api/bookings/{booking_id:uuid}": STAFF,
}
PREFIXES: list[tuple[str, frozenset[str]]] = [
    ("/availability/", frozenset({"coordination", "medecin", "interne"})),
    ("/bookings", STAFF),
    ("/patients/match", MANAGERS),
    ("/patients", STAFF),
    ("/cpts", STAFF),
    ("/clinicians", MANAGERS),
    ("/sites", MANAGERS),
    ("/rota", MANAGERS),
]
"""Whole areas, after the exact paths above."""
UNSAFE_POLICY: dict[str, frozenset[str]] = {
    "/api/sites": MANAGERS,
    "/api/sites/{site_id:uuid}": MANAGERS,
    "/api/clinicians": MANAGERS,
    "/api/clinicians/{clinician_id:uuid}": MANAGERS,
}
"""Where changing is narrower than reading."""


def rule(path: str, method: str = "GET") -> frozenset[str] | None:
    if method in UNSAFE and path in UNSAFE_POLICY:
        return UNSAFE_POLICY[path]
    if path in POLICY:
        return POLICY[path]
    return next((roles for prefix, roles in PREFIXES if path.startswith(prefix)), None)


def _routes(app):  # type: ignore[no-untyped-def]
    for route in app.routes:
        if route.path.startswith("/static"):
            continue
        for method in sorted(getattr(route, "methods", set()) - {"OPTIONS", "HEAD"}):
            yield route.path, method


@pytest.fixture(scope="module")
def matrix_ids(app, engine):  # type: ignore[no-untyped-def]
    from app.db.engine import session_scope

    with session_scope(engine) as session:
        ids = {k: v[0] for k, v in sample_ids(session).items()}
    # Parameters whose objects belong to a user: someone else's (or nobody's) id, so that a
    # guard that lets a role through still cannot act (the IDOR tests below check the owners).
    ids.update(
        name="no-such-feed.ics",
        path="openapi.json",
        item_id=str(uuid.uuid4()),
        token_id=str(uuid.uuid4()),
        feed_id=str(uuid.uuid4()),
        proposal_id=str(uuid.uuid4()),
    )
    return ids


@pytest.fixture(scope="module")
def api_tokens(app, engine):  # type: ignore[no-untyped-def]
    from app.accounts.models import User
    from app.accounts.services import UserService
    from app.db.engine import session_scope

    tokens = {}
    with session_scope(engine) as session:
        for role in ROLES[1:]:
            user = session.scalar(select(User).where(User.username == role))
            tokens[role] = UserService(session=session).issue_token(user, "matrice d'accès")
        session.commit()
    return tokens


def test_every_route_has_an_access_rule(app):
    missing = sorted({f"{m} {p}" for p, m in _routes(app) if rule(p, m) is None})
    assert not missing, "routes without an access rule in tests/http/test_access_matrix.py: " + ", ".join(missing)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_its_routes(app, matrix_ids, api_tokens, role):
    wrong = []
    with TestClient(app=app, base_url="http://testserver.local") as client:
        if role != "anon":
            assert login(client, role).status_code in (302, 303)
        token = csrf_token(client.get("/login" if role == "anon" else "/profile").text)
        for path, method in _routes(app):
            url = fill(path, matrix_ids)
            if url is None:
                continue
            allowed = role in (rule(path, method) or frozenset())
            api = path.startswith("/api/")
            headers = {"Authorization": f"Bearer {api_tokens[role]}"} if api and role != "anon" else {}
            if method == "GET":
                response = client.get(url, headers=headers, follow_redirects=False)
            elif allowed:
                continue  # would change the demo clinic: the feature tests cover it
            elif api:
                response = client.request(method, url, headers=headers, json={}, follow_redirects=False)
            else:
                response = client.request(method, url, data={"_csrf_token": token}, follow_redirects=False)
            if denied(response) == allowed:
                wrong.append(
                    f"{method} {path}: {response.status_code} ({'should pass' if allowed else 'should be refused'})"
                )
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


# --- another user's objects (IDOR) ---------------------------------------------------------


def _clinician_id(db, username: str) -> uuid.UUID:  # type: ignore[no-untyped-def]
    from app.accounts.models import User

    db.rollback()
    return db.scalar(select(User.clinician_id).where(User.username == username))


def test_a_clinician_neither_sees_nor_changes_another_ones_availability(as_user, db):
    from app.availability.models import AvailabilityException
    from app.availability.services import AvailabilityService
    from app.clinicians.models import Clinician

    intern = _clinician_id(db, "interne")
    client = as_user("medecin")
    assert client.get(f"/availability?clinician={intern}", follow_redirects=False).status_code == 403
    token = csrf_token(client.get("/availability").text)
    added = client.post(
        f"/availability/exceptions?clinician={intern}",
        data={"start_date": "2027-03-01", "reason": "leave", "_csrf_token": token},
        follow_redirects=False,
    )
    assert added.status_code == 403
    # The intern's own absence cannot be deleted from the GP's account, with or without the parameter.
    db.rollback()
    target = db.get(Clinician, intern)
    day = dt.date.today() + dt.timedelta(days=90)
    AvailabilityService(db).add_exception(target, {"start_date": day.isoformat(), "reason": "leave"}, dt.date.today())
    item = db.scalar(
        select(AvailabilityException.id).where(
            AvailabilityException.clinician_id == intern, AvailabilityException.start_date == day
        )
    )
    for url in (
        f"/availability/exceptions/{item}/delete",
        f"/availability/exceptions/{item}/delete?clinician={intern}",
    ):
        response = client.post(url, data={"_csrf_token": token}, follow_redirects=False)
        assert response.status_code in (403, 404), url
    db.rollback()
    assert db.get(AvailabilityException, item) is not None


def test_nobody_revokes_another_users_token_or_calendar(as_user, db):
    from app.accounts.models import ApiToken, User
    from app.accounts.services import UserService
    from app.calendars.models import CalendarFeed

    db.rollback()
    secretary = db.scalar(select(User).where(User.username == "secretariat1"))
    UserService(session=db).issue_token(secretary, "le sien")
    db.commit()
    token_id = db.scalar(select(ApiToken.id).where(ApiToken.user_id == secretary.id, ApiToken.revoked_at.is_(None)))
    gp_client = as_user("medecin")
    post_form(gp_client, "/profile/calendars", {"kind": "clinician"}, form_url="/profile")
    db.rollback()
    gp = db.scalar(select(User).where(User.username == "medecin"))
    feed_id = db.scalar(select(CalendarFeed.id).where(CalendarFeed.user_id == gp.id))
    assert feed_id is not None
    intruder = as_user("pharmacie")
    token = csrf_token(intruder.get("/profile").text)
    for url in (
        f"/profile/tokens/{token_id}/revoke",
        f"/profile/calendars/{feed_id}/revoke",
        f"/profile/calendars/{feed_id}/regenerate",
    ):
        response = intruder.post(url, data={"_csrf_token": token}, follow_redirects=False)
        assert response.status_code in (302, 303, 403, 404), url  # refused, or back to one's own profile
    db.rollback()
    db.expire_all()
    assert db.get(ApiToken, token_id).revoked_at is None
    assert db.get(CalendarFeed, feed_id).revoked_at is None


def test_a_partner_sees_only_their_own_referrals(as_user, client, db):
    from app.accounts.models import Role
    from app.accounts.services import UserService

    db.rollback()
    other = f"infirmiere-{uuid.uuid4().hex[:6]}"
    UserService(session=db).create_user(other, Role.PARTNER, "mot-de-passe-long-1234", full_name="Cabinet infirmier")
    db.commit()
    surname = "Orient" + "".join(c for c in uuid.uuid4().hex if c.isalpha())[:6]
    pharmacist = as_user("pharmacie")
    sent = post_form(
        pharmacist,
        "/referrals/new",
        {
            "last_name": surname,
            "first_name": "Paule",
            "birth_date": "1950-02-03",
            "sex": "F",
            "commune": "Laval",
            "phone": "06 11 22 33 44",
            "consent": "on",
        },
    )
    assert sent.status_code in (200, 302, 303), sent.text
    assert surname.upper() in pharmacist.get("/referrals").text.upper()
    login(client, other, "mot-de-passe-long-1234")
    theirs = client.get("/referrals")
    assert theirs.status_code == 200
    assert surname.upper() not in theirs.text.upper()
