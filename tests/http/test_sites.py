"""Sites pages (coordinator) and API: creation, validation, edit, deactivation, access."""

import uuid

import pytest
from sqlalchemy import func, select

from app.sites.models import Site
from tests.conftest import csrf_token, post_form


def _count(db, name=None):
    db.rollback()
    stmt = select(func.count()).select_from(Site)
    if name:
        stmt = stmt.where(Site.name == name)
    return db.scalar(stmt)


def _site_form(**over):
    data = {
        "name": f"Antenne {uuid.uuid4().hex[:6]}",
        "commune": "Craon",
        "rooms": "2",
        "slot_minutes": "20",
        "opening_halfdays": ["mon-am", "thu-pm"],
        "pmr_access": "on",
        "address": "2 rue des Écoles",
    }
    data.update(over)
    return data


def test_the_coordinator_creates_a_site_and_finds_it_in_the_list(as_user, db):
    client = as_user("coordination")
    data = _site_form()
    response = post_form(client, "/sites/new", data)
    assert response.status_code in (302, 303)
    listing = client.get("/sites", params={"q": data["name"]}).text
    assert data["name"] in listing and "Antenne" in listing and "créée" in listing
    db.rollback()
    site = db.scalar(select(Site).where(Site.name == data["name"]))
    assert site.commune_insee == "53084" and site.opening_halfdays == ["mon-am", "thu-pm"] and site.pmr_access


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("commune", "Paris", "Commune inconnue sur le territoire"),
        ("commune", "53200", "Plusieurs communes correspondent"),
        ("rooms", "-1", "supérieur ou égal à 0"),
        ("rooms", "deux", "nombre entier"),
        ("name", "", "Le nom est obligatoire."),
        ("name", "Laval", "Une antenne porte déjà ce nom."),
        ("slot_minutes", "2", "supérieur ou égal à 5"),
        ("opening_halfdays", ["sun-pm"], "Demi-journées inconnues"),
    ],
)
def test_a_bad_site_form_shows_the_error_at_the_field_and_creates_nothing(as_user, db, field, value, message):
    client = as_user("coordination")
    data = _site_form(**{field: value})
    before = _count(db)
    response = post_form(client, "/sites/new", data)
    assert response.status_code == 400
    assert message in response.text
    assert f'id="e-{field}"' in response.text or f'id="f-{field}"' in response.text
    assert "rien n&#39;a été enregistré" in response.text or "rien n'a été enregistré" in response.text
    assert _count(db) == before


def test_editing_a_site_keeps_what_was_not_changed_and_unticking_closes_a_halfday(as_user, db):
    client = as_user("coordination")
    data = _site_form()
    post_form(client, "/sites/new", data)
    db.rollback()
    site = db.scalar(select(Site).where(Site.name == data["name"]))
    edit = {**data, "rooms": "3", "opening_halfdays": ["mon-am"]}
    del edit["pmr_access"]
    response = post_form(client, f"/sites/{site.id}/edit", edit)
    assert response.status_code in (302, 303)
    db.rollback()
    db.refresh(site)
    assert site.rooms == 3 and site.opening_halfdays == ["mon-am"] and not site.pmr_access


def test_deactivating_asks_first_then_hides_the_site_from_the_active_list(as_user, db):
    client = as_user("coordination")
    data = _site_form()
    post_form(client, "/sites/new", data)
    db.rollback()
    site = db.scalar(select(Site).where(Site.name == data["name"]))
    confirm = client.get(f"/sites/{site.id}/active")
    assert "Désactiver l'antenne" in confirm.text and "historique est conservé" in confirm.text
    client.post(f"/sites/{site.id}/active", data={"_csrf_token": csrf_token(confirm.text)})
    assert data["name"] not in client.get("/sites").text
    assert data["name"] in client.get("/sites", params={"show": "all"}).text


@pytest.mark.parametrize("username", ["secretariat1", "medecin", "comite", "pharmacie"])
def test_only_coordination_and_admin_manage_sites(as_user, username):
    client = as_user(username)
    assert client.get("/sites").status_code == 403
    assert client.get("/sites/new").status_code == 403
    assert "Accès refusé" in client.get("/sites").text


def test_an_unknown_site_is_a_404_page(as_user):
    assert as_user("coordination").get(f"/sites/{uuid.uuid4()}/edit").status_code == 404


def test_the_site_list_is_paginated(as_user, db, monkeypatch):
    from app import settings as settings_module

    client = as_user("coordination")
    real = settings_module.get_settings()
    monkeypatch.setattr("app.sites.controllers.get_settings", lambda: type(real)(**{**real.__dict__, "page_size": 2}))
    first = client.get("/sites", params={"show": "all"}).text
    assert "Page 1 / " in first and 'rel="next"' in first
    last_page = _count(db)
    assert "Page" in client.get("/sites", params={"show": "all", "page": last_page}).text
