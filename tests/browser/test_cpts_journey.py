"""The CPTS coordinator in a real browser: a contact round answer takes a GP off the "to
re-contact" list, three census GPs are proposed to a patient who needs home visits, and the
departing GP's waiting-room poster prints."""

import datetime as dt
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.core.identifiers import luhn_check_digit
from app.cpts import census
from app.cpts.models import CensusGp
from app.patients.models import Channel
from app.patients.services import PatientService, add_request
from app.web.territory import current_territory
from tests.browser.conftest import ARTEFACTS, sign_in

pytestmark = pytest.mark.browser


def _rpps() -> str:
    body = "1" + f"{uuid.uuid4().int % 10**9:09d}"
    return body + luhn_check_digit(body)


def _setting(db) -> tuple[str, str]:
    """Three GPs doing home visits in a commune where nobody practised yet, and a patient there who
    needs home visits (what the secretary would have entered)."""
    db.rollback()
    territory = current_territory()
    taken = set(db.scalars(select(CensusGp.commune_insee)))
    commune = next(c for c in territory.communes if c.insee not in taken and c.population > 500)
    today = dt.date.today()
    for n in range(3):
        db.rollback()
        census.create_gp(
            db,
            {
                "last_name": f"Visite{n}{uuid.uuid4().hex[:4]}",
                "first_name": "Anne",
                "rpps": _rpps(),
                "commune": commune.insee,
                "accepts": "yes",
                "radius_km": "10",
                "home_visits": "on",
            },
            territory,
            "tests",
            today,
        )
    db.rollback()
    values = PatientService(session=db).clean(
        {
            "last_name": "Domicile" + "".join(c for c in uuid.uuid4().hex if c.isalpha())[:5],
            "first_name": "Germaine",
            "birth_date": "1936-04-09",
            "sex": "F",
            "commune": commune.insee,
            "phone": "06 71 72 73 74",
            "needs_home_visit": "on",
        },
        territory,
        today,
        unique_nir=False,
    )
    db.rollback()
    patient = add_request(
        db, values, territory, channel=Channel.DESK, actor="tests", now=dt.datetime.now(dt.UTC)
    ).patient
    db.commit()
    return str(patient.id), commune.name


def test_a_contact_round_three_proposals_and_the_departure_poster(browser, live_server, db):
    patient_id, commune = _setting(db)
    context = browser.new_context(base_url=live_server, locale="fr-FR")
    page = context.new_page()
    try:
        sign_in(page, "coordination")
        # 1. The contact round: record the first GP's answer on their row.
        page.get_by_role("link", name="Médecins du territoire").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Médecins du territoire (CPTS)")
        page.get_by_role("link", name="À recontacter").click()
        row = page.locator("table.call-list tbody tr").first
        name = row.locator("th a").inner_text()
        row.get_by_label("accepte de nouveaux patients").check()
        row.get_by_label("Notes").fill("tour d'appels de novembre")
        row.get_by_role("button", name="Enregistrer").click()
        expect(page.get_by_role("status").filter(has_text="Contact enregistré")).to_be_visible()
        page.reload()
        expect(page.locator("table.call-list")).not_to_contain_text(name)
        page.screenshot(path=str(ARTEFACTS / "cpts-recontact.png"), full_page=True)

        # 2. Three GPs for a patient who needs home visits.
        page.goto(f"/patients/{patient_id}")
        page.get_by_role("link", name="Médecins du territoire à proposer (CPTS)").click()
        expect(page.get_by_text("visites à domicile").first).to_be_visible()
        boxes = page.get_by_role("checkbox")
        expect(boxes).to_have_count(3)
        expect(page.locator("ol.offers")).to_contain_text("fait des visites à domicile")
        expect(page.locator("ol.offers")).to_contain_text(commune)
        page.screenshot(path=str(ARTEFACTS / "cpts-proposals.png"), full_page=True)
        page.get_by_role("button", name="Noter les propositions envoyées").click()
        expect(page.get_by_text("3 médecin(s) proposé(s)")).to_be_visible()
        expect(page.get_by_role("button", name="Accepte : le prend en charge")).to_have_count(3)

        # 3. The departing GP's poster, from the coordinator's home page.
        page.get_by_role("link", name="Accueil").click()
        page.locator("#h-leaving + ul").get_by_role("link", name="affiche").first.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Votre médecin part")
        expect(page.get_by_role("img", name="QR code : formulaire de demande de médecin traitant")).to_be_visible()
        page.evaluate("window.__printed = 0; window.print = () => { window.__printed += 1; }; true")
        page.get_by_role("button", name="Imprimer").click()
        assert page.evaluate("window.__printed") == 1
        pdf = page.pdf(format="A4")
        assert pdf.startswith(b"%PDF") and len(pdf) > 5_000
        (ARTEFACTS / "departure-poster.pdf").write_bytes(pdf)
    finally:
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTEFACTS / "cpts-journey.png"), full_page=True)
        context.close()
