"""What a person does in a real browser on the foundation pages."""

import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.sites.models import Site
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_the_secretary_logs_in_and_sees_her_home_page(page):
    sign_in(page, "secretariat1")
    expect(page.get_by_role("heading", level=1)).to_have_text("Secrétariat")
    expect(page.get_by_text("Bienvenue, Secrétariat Laval.")).to_be_visible()
    expect(page.get_by_text("demandes en attente")).to_be_visible()
    expect(page).to_have_title(re.compile("Accueil secrétariat"))


def test_a_wrong_password_shows_a_french_error(page):
    sign_in(page, "secretariat1", "mauvais mot de passe")
    expect(page.get_by_role("alert")).to_have_text("Identifiant ou mot de passe incorrect.")
    expect(page.get_by_label("Identifiant")).to_have_value("secretariat1")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")


def test_a_site_with_a_bad_commune_shows_the_error_at_the_field_and_is_not_created(page, db):
    name = f"Antenne {uuid.uuid4().hex[:6]}"
    sign_in(page, "coordination")
    page.get_by_role("link", name="Antennes").first.click()
    page.get_by_role("link", name="Nouvelle antenne").click()
    page.get_by_label("Nom").fill(name)
    page.get_by_label("Commune").fill("Atlantide")
    page.get_by_label("Salles de consultation").fill("2")
    page.get_by_label("lundi matin").check()
    page.get_by_role("button", name="Enregistrer").click()
    field_error = page.locator("#e-commune")
    expect(field_error).to_contain_text("Commune inconnue sur le territoire")
    expect(page.get_by_label("Commune")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error-summary")).to_contain_text("rien n'a été enregistré")
    # What was typed is kept, so only the commune needs fixing.
    expect(page.get_by_label("Nom")).to_have_value(name)
    expect(page.get_by_label("lundi matin")).to_be_checked()
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Site).where(Site.name == name)) == 0

    page.get_by_label("Commune").fill("Évron")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text(f"Antenne « {name} » créée.")).to_be_visible()
    db.rollback()
    assert db.scalar(select(Site.commune_insee).where(Site.name == name)) == "53097"


def test_the_commune_field_suggests_communes_as_you_type(page):
    sign_in(page, "coordination")
    page.goto("/sites/new")
    page.get_by_label("Commune").press_sequentially("chateau-g", delay=30)
    expect(page.locator("#commune-options option").first).to_have_attribute(
        "value", "Château-Gontier-sur-Mayenne (53200)"
    )
