"""The JSON API: bearer tokens, role checks, structured 4xx, nothing written on bad input."""

import uuid

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.accounts.services import UserService
from app.sites.models import Site
from tests.http.test_clinicians import fresh_rpps


@pytest.fixture
def token_for(db, demo):
    def _token(username: str) -> dict[str, str]:
        account = db.scalar(select(User).where(User.username == username))
        return {"Authorization": f"Bearer {UserService(session=db).issue_token(account, 'tests')}"}

    return _token


def test_the_api_refuses_anonymous_callers_with_json(client):
    response = client.get("/api/sites")
    assert response.status_code == 401
    assert response.json()["status_code"] == 401


def test_the_api_ignores_the_session_cookie(as_user):
    # Pages use the cookie, the API only bearer tokens: so CSRF cannot be abused through the API.
    assert as_user("coordination").get("/api/sites").status_code == 401


def test_a_secretary_lists_sites_and_clinicians_with_a_token(client, token_for):
    headers = token_for("secretariat1")
    sites = client.get("/api/sites", headers=headers).json()
    assert "Laval" in {s["name"] for s in sites}
    laval = next(s for s in sites if s["name"] == "Laval")
    assert laval["commune_name"] == "Laval" and laval["rooms"] == 4
    clinicians = client.get("/api/clinicians", headers=headers).json()
    assert {"retired_gp", "intern", "coordinator"} <= {c["role"] for c in clinicians}


def test_the_coordinator_creates_and_updates_a_site_through_the_api(client, token_for):
    headers = token_for("coordination")
    name = f"API {uuid.uuid4().hex[:6]}"
    created = client.post(
        "/api/sites",
        headers=headers,
        json={"name": name, "commune": "53084", "rooms": 2, "opening_halfdays": ["tue-am", "mon-pm"]},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["commune_name"] == "Craon" and body["opening_halfdays"] == ["mon-pm", "tue-am"]
    patched = client.patch(f"/api/sites/{body['id']}", headers=headers, json={"rooms": 3})
    assert patched.status_code == 200 and patched.json()["rooms"] == 3
    assert patched.json()["opening_halfdays"] == ["mon-pm", "tue-am"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "X1", "commune": "Nowhere", "rooms": 1}, "commune"),
        ({"name": "X2", "commune": "Laval", "rooms": -3}, "rooms"),
        ({"name": "Laval", "commune": "Laval", "rooms": 1}, "name"),
    ],
)
def test_bad_site_data_gets_a_400_naming_the_field_and_writes_nothing(client, token_for, db, payload, field):
    headers = token_for("coordination")
    db.rollback()
    before = db.scalar(select(func.count()).select_from(Site))
    response = client.post("/api/sites", headers=headers, json=payload)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"].startswith("Données invalides")
    assert field in {e["field"] for e in body["errors"]}
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Site)) == before


def test_a_malformed_body_is_a_400_not_a_500(client, token_for):
    response = client.post("/api/sites", headers=token_for("coordination"), json={"name": "X", "rooms": "many"})
    assert response.status_code == 400


def test_a_secretary_cannot_create_sites_or_clinicians(client, token_for):
    headers = token_for("secretariat1")
    assert (
        client.post("/api/sites", headers=headers, json={"name": "Y", "commune": "Laval", "rooms": 1}).status_code
        == 403
    )


def test_the_committee_and_partners_cannot_list_clinicians(client, token_for):
    assert client.get("/api/clinicians", headers=token_for("comite")).status_code == 403
    assert client.get("/api/clinicians", headers=token_for("pharmacie")).status_code == 403


def test_a_clinician_is_created_and_a_bad_rpps_refused_through_the_api(client, token_for, db):
    headers = token_for("coordination")
    laval = db.scalar(select(Site.id).where(Site.name == "Laval"))
    ok = client.post(
        "/api/clinicians",
        headers=headers,
        json={
            "role": "retired_gp",
            "first_name": "Jean",
            "last_name": "Api",
            "rpps": fresh_rpps(),
            "home_commune": "53130",
            "site_ids": [str(laval)],
            "panel_cap": 500,
        },
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["main_site_id"] == str(laval)
    bad = client.post(
        "/api/clinicians",
        headers=headers,
        json={
            "role": "retired_gp",
            "first_name": "Jean",
            "last_name": "Api",
            "rpps": "00000000001",
            "home_commune": "53130",
        },
    )
    assert bad.status_code == 400
    assert bad.json()["errors"] == [
        {"field": "rpps", "message": "Le numéro RPPS est invalide (chiffre de contrôle erroné)."}
    ]


def test_a_revoked_token_no_longer_opens_the_api(as_user, client, db):
    from tests.conftest import csrf_token

    browser = as_user("secretariat2")
    profile = browser.get("/profile")
    created = browser.post("/profile/tokens", data={"name": "tableur", "_csrf_token": csrf_token(profile.text)})
    token = created.text.split('id="new-token">')[1].split("<")[0]
    assert client.get("/api/sites", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    token_id = created.text.split("/profile/tokens/")[1].split("/revoke")[0]
    browser.post(f"/profile/tokens/{token_id}/revoke", data={"_csrf_token": csrf_token(created.text)})
    assert client.get("/api/sites", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert "révoqué" in browser.get("/profile").text


def test_a_deactivated_account_loses_the_api_at_once_even_after_its_token_was_trusted(client, db, token_for):
    """Checked tokens are trusted again for a few seconds without a query, but any change to an
    account made by this process forgets them at once."""
    service = UserService(session=db)
    account = service.create_user(f"secretariat-{uuid.uuid4().hex[:8]}", "secretary", "Un-mot-de-passe-solide-42")
    headers = {"Authorization": f"Bearer {service.issue_token(account, 'tests')}"}
    assert client.get("/api/sites", headers=headers).status_code == 200  # checked, then trusted
    account.is_active = False
    db.commit()
    assert client.get("/api/sites", headers=headers).status_code == 401
    account.is_active = True
    db.commit()
    assert client.get("/api/sites", headers=headers).status_code == 200


def test_a_token_checked_by_another_process_is_trusted_only_for_a_few_seconds():
    """What another server process revoked takes effect here when the entry expires."""
    import time

    from app.web.auth import TokenCache

    cache = TokenCache(ttl=0.2)
    user = User(username="x", role="secretary")
    cache.put("digest", user)
    assert cache.get("digest") is user
    assert cache.get("another digest") is None  # only tokens found valid are kept
    time.sleep(0.25)
    assert cache.get("digest") is None


def test_the_commune_search_api_finds_communes_of_the_territory(client, token_for):
    found = client.get("/api/communes", params={"q": "chateau gontier"}, headers=token_for("secretariat1")).json()
    assert found[0]["insee"] == "53062"
