"""Login, logout, role home pages, and what anonymous visitors get."""

import pytest

from tests.conftest import csrf_token, login


def test_health_and_the_openapi_document_answer_without_login(client):
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
    schema = client.get("/schema/openapi.json").json()
    assert "/api/sites" in schema["paths"] and "/api/clinicians" in schema["paths"]
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_an_anonymous_visitor_is_sent_to_the_login_page_and_comes_back_after(client):
    response = client.get("/sites?q=laval", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/login?next=/sites")
    page = client.get(response.headers["location"])
    done = client.post(
        "/login",
        data={
            "username": "coordination",
            "password": "demo-smp-2026",
            "next": "/sites?q=laval",
            "_csrf_token": csrf_token(page.text),
        },
        follow_redirects=False,
    )
    assert done.headers["location"] == "/sites?q=laval"


def test_a_wrong_password_shows_a_french_error_and_no_session(client):
    response = login(client, "secretariat1", "mauvais-mot-de-passe")
    assert response.status_code == 400
    assert "Identifiant ou mot de passe incorrect." in response.text
    assert client.get("/", follow_redirects=False).status_code in (302, 303)


def test_login_does_not_redirect_to_another_site(client):
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": "secretariat1",
            "password": "demo-smp-2026",
            "next": "//evil.example/",
            "_csrf_token": csrf_token(page.text),
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_a_login_post_without_the_csrf_token_is_refused(client):
    client.get("/login")
    response = client.post("/login", data={"username": "secretariat1", "password": "demo-smp-2026"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("username", "heading"),
    [
        ("secretariat1", "<h1>Secrétariat</h1>"),
        ("coordination", "<h1>Coordination</h1>"),
        ("admin", "<h1>Administration</h1>"),
        ("comite", "<h1>Comité de pilotage</h1>"),
        ("pharmacie", "<h1>Espace partenaire</h1>"),
        ("medecin", "patients dont vous êtes le médecin traitant"),
        ("interne", "Superviseur"),
    ],
)
def test_each_role_lands_on_its_own_home_page(as_user, username, heading):
    page = as_user(username).get("/")
    assert page.status_code == 200
    assert heading in page.text
    assert 'lang="fr"' in page.text


def test_the_committee_home_shows_figures_but_no_patient_identity(as_user, db):
    from sqlalchemy import select

    from app.patients.models import Patient

    page = as_user("comite").get("/").text
    assert "objectif de 10" in page
    for last, first, ref in db.execute(select(Patient.last_name, Patient.first_name, Patient.reference).limit(50)):
        assert ref not in page
        assert f"{last} {first}" not in page and f"{first} {last}" not in page


def test_logout_ends_the_session(as_user):
    client = as_user("secretariat1")
    home = client.get("/")
    client.post("/logout", data={"_csrf_token": csrf_token(home.text)})
    assert client.get("/", follow_redirects=False).status_code in (302, 303)


def test_the_login_is_rate_limited_with_a_french_message(demo):
    import dataclasses

    from litestar.testing import TestClient

    from app.asgi import create_app
    from app.settings import get_settings

    limited = create_app(dataclasses.replace(get_settings(), login_rate_limit_per_minute=10))
    with TestClient(app=limited) as fresh:
        page = fresh.get("/login")
        token = csrf_token(page.text)
        codes = [
            fresh.post("/login", data={"username": "nobody", "password": "x" * 12, "_csrf_token": token}).status_code
            for _ in range(12)
        ]
        assert codes[:10] == [400] * 10
        assert codes[-1] == 429
        refused = fresh.post("/login", data={"username": "nobody", "password": "x" * 12, "_csrf_token": token})
        assert "Trop de tentatives" in refused.text


@pytest.fixture
def browser_like(app):
    """A client that gets the responses a browser would (server errors are not re-raised)."""
    from litestar.testing import TestClient

    with TestClient(app=app, raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("path", ["/nonexistent", "/favicon.ico", "/patients/not-a-uuid", "/rota/drafts/xyz"])
def test_an_unknown_address_is_a_french_404_page_not_a_crash(browser_like, path):
    response = browser_like.get(path)
    assert response.status_code == 404
    assert "Page introuvable" in response.text


def test_a_wrong_method_is_a_405_not_a_crash(browser_like):
    assert browser_like.put("/").status_code == 405


def test_control_characters_in_a_form_or_a_search_are_refused_cleanly(as_user):
    from tests.conftest import post_form

    client = as_user("secretariat1")
    response = post_form(
        client,
        "/patients/new",
        {
            "first_name": "Jeanne\x00",
            "last_name": "Dupont",
            "birth_date": "1950-01-01",
            "sex": "F",
            "commune": "Laval",
            "phone": "02 43 11 22 33",
        },
    )
    assert response.status_code == 400 and "caractères invisibles" in response.text
    assert as_user("coordination").get("/sites", params={"q": "La\x00val"}).status_code == 200


def test_five_wrong_passwords_lock_the_account_for_a_quarter_of_an_hour(client, db):
    import datetime as dt
    import uuid

    from sqlalchemy import select

    from app.accounts.models import Role, User
    from app.accounts.services import LOCK_AFTER, UserService

    name = "verrou-" + uuid.uuid4().hex[:6]
    db.rollback()
    UserService(session=db).create_user(name, Role.SECRETARY, "le-bon-mot-de-passe-42")
    db.commit()
    for _ in range(LOCK_AFTER - 1):
        assert login(client, name, "faux").status_code == 400
    locked = login(client, name, "faux")
    assert locked.status_code == 429 and "bloqué jusqu" in locked.text
    # Even the right password waits for the end of the lock.
    assert login(client, name, "le-bon-mot-de-passe-42").status_code == 429
    db.rollback()
    db.expire_all()
    user = db.scalar(select(User).where(User.username == name))
    assert user.locked_until is not None
    later = user.locked_until + dt.timedelta(seconds=1)
    assert UserService(session=db).authenticate(name, "le-bon-mot-de-passe-42", now=later) is not None
    db.rollback()
    db.expire_all()
    assert db.scalar(select(User.locked_until).where(User.username == name)) is None
