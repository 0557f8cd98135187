"""The rota in a real browser: solve with live progress, pin, re-solve, publish; a GP's availability."""

import datetime as dt

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.core.dates import MONTHS_FR
from app.rota.models import RotaSession
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def _monday_in(weeks: int) -> dt.date:
    d = dt.date.today() + dt.timedelta(weeks=weeks)
    return d - dt.timedelta(days=d.weekday())


def test_the_coordinator_solves_watches_pins_resolves_and_publishes(page, db):
    start = _monday_in(40)
    end = start + dt.timedelta(days=13)
    sign_in(page, "coordination")
    page.get_by_role("navigation").get_by_role("link", name="Planning").click()
    page.get_by_label("Du").fill(start.isoformat())
    page.get_by_label("Au (inclus)").fill(end.isoformat())
    page.get_by_role("button", name="Lancer le calcul").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Calcul du planning")
    expect(page.get_by_text("Temps écoulé")).to_be_visible()
    # htmx polls the progress and moves on to the proposal when the worker is done.
    expect(page.get_by_role("heading", name="Détail du coût par règle")).to_be_visible(timeout=60_000)
    page.get_by_label("Antenne").select_option(label="Laval")
    page.get_by_role("button", name="Afficher").click()

    pin = page.get_by_role("button", name="Épingler").first
    pin.click()
    expect(page.get_by_text("Séance épinglée : un nouveau calcul la gardera.")).to_be_visible()
    pinned_label = page.locator("ul.sessions li.pinned").first
    expect(pinned_label).to_contain_text("épinglée")
    pinned_name = pinned_label.inner_text().split("\n")[0].replace("épinglée", "").strip()

    page.get_by_role("button", name="Recalculer (séances épinglées gardées)").click()
    expect(page.get_by_role("heading", name="Détail du coût par règle")).to_be_visible(timeout=60_000)
    page.get_by_label("Antenne").select_option(label="Laval")
    page.get_by_role("button", name="Afficher").click()
    expect(page.locator("ul.sessions li.pinned").first).to_contain_text(pinned_name)

    page.get_by_role("link", name="Publier…").click()
    page.get_by_role("button", name="Publier").click()
    expect(page.get_by_text("Planning publié du")).to_be_visible()
    db.rollback()
    assert (
        db.scalar(
            select(func.count())
            .select_from(RotaSession)
            .where(RotaSession.date >= start, RotaSession.date <= end, RotaSession.status == "published")
        )
        > 0
    )
    assert (
        db.scalar(
            select(func.count())
            .select_from(RotaSession)
            .where(RotaSession.date >= start, RotaSession.date <= end, RotaSession.pinned.is_(True))
        )
        >= 1
    )


def test_a_gp_publishes_a_weekly_pattern_and_an_absence(page):
    start = _monday_in(3)
    sign_in(page, "medecin")
    page.get_by_role("link", name="Mes disponibilités").click()
    page.get_by_label("mardi matin : préférée").check()
    page.get_by_label("jeudi après-midi : possible").check()
    page.get_by_label("À partir du").fill(start.isoformat())
    page.get_by_role("button", name="Enregistrer la semaine type").click()
    expect(page.get_by_text("Semaine type enregistrée")).to_be_visible()
    # This pattern's own notice: other tests may have left the same doctor patterns for other weeks.
    starts = f"{start.day} {MONTHS_FR[start.month - 1]}"
    expect(page.get_by_text(f"Une nouvelle semaine type prendra effet le lundi {starts}")).to_be_visible()

    page.locator("#f-start_date").fill((start + dt.timedelta(days=7)).isoformat())
    page.locator("#f-end_date").fill((start + dt.timedelta(days=11)).isoformat())
    page.get_by_label("Motif").select_option("leave")
    page.get_by_role("button", name="Ajouter l'absence").click()
    expect(page.get_by_text("Absence enregistrée du")).to_be_visible()
    expect(page.locator("#h-exceptions + table")).to_contain_text("congés")
