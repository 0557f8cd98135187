"""The whole enrolment path in a real browser: a patient's public request, a pharmacist's referral,
a CPAM list with two bad lines, the coordinator's assignment, the declaration printed."""

import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.patients.models import Patient
from tests.browser.conftest import ARTEFACTS, sign_in

pytestmark = pytest.mark.browser


def _name(prefix: str) -> str:
    return prefix + "".join(c for c in uuid.uuid4().hex if c.isalpha())[:6]


def _fill_request(page, last: str, first: str, birth: str, commune: str, phone: str) -> None:
    page.get_by_role("textbox", name="Nom", exact=True).fill(last)
    page.get_by_label("Prénom").fill(first)
    page.get_by_label("Date de naissance").fill(birth)
    page.get_by_label("Femme").check()
    page.get_by_role("textbox", name="Commune", exact=True).fill(commune)
    page.get_by_label("Téléphone").fill(phone)


def test_from_requests_and_a_cpam_list_to_a_confirmed_doctor_and_a_printed_declaration(browser, live_server, db):
    context = browser.new_context(base_url=live_server, locale="fr-FR", accept_downloads=True)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    try:
        _journey(page, db)
    finally:
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTEFACTS / "enrolment-journey.png"), full_page=True)
        context.close()


def _journey(page, db) -> None:
    # 1. A patient, without an account, sends the public form and gets a reference number.
    patient_name = _name("Public")
    page.goto("/demande")
    _fill_request(page, patient_name, "Odile", "1948-02-11", "Évron", "06 45 45 45 45")
    page.get_by_label("Je suis en affection de longue durée (ALD)").check()
    page.get_by_label("J'accepte que ces informations").check()
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Votre demande est bien reçue")
    reference = page.locator(".big-date").inner_text()
    assert reference.startswith("SMP-")

    # 2. A pharmacist refers someone.
    referred = _name("Officine")
    sign_in(page, "pharmacie")
    page.goto("/referrals/new")
    _fill_request(page, referred, "Irène", "1939-09-09", "Laval", "02 43 11 22 33")
    page.get_by_label("Le patient a accepté").check()
    page.get_by_role("button", name="Envoyer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Orientation reçue")
    page.get_by_role("button", name="Se déconnecter").click()

    # 3. The secretary imports a CPAM list with two bad lines and sees them listed; she puts the
    #    public request on the waiting list.
    tag = _name("Liste")
    csv = "\n".join(
        [
            "Nom;Prénom;Date de naissance;Sexe;Commune;ALD;C2S",
            f"{tag}a;Anne;01/02/1950;F;Laval;non;oui",
            f"{tag}b;Bruno;30/02/1961;M;Laval;non;non",
            f"{tag}c;Chloé;2012-03-03;F;Craon;non;non",
            f"{tag}d;Denis;01/01/1970;M;Laval;peut-être;non",
        ]
    )
    sign_in(page, "secretariat1")
    page.get_by_role("link", name="Importer une liste CPAM").click()
    page.get_by_label("Fichier de la CPAM").set_input_files(
        files=[{"name": "cpam-novembre.csv", "mimeType": "text/csv", "buffer": csv.encode("utf-8")}]
    )
    page.get_by_role("button", name="Importer").click()
    expect(page.get_by_text("2 ligne(s) importée(s) ; 2 ligne(s) rejetée(s)")).to_be_visible()
    rejected = page.locator("#rejected tbody tr")
    expect(rejected).to_have_count(2)
    expect(rejected.nth(0)).to_contain_text("3")
    expect(rejected.nth(0)).to_contain_text("Date de naissance")
    expect(rejected.nth(1)).to_contain_text("ALD")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger les lignes rejetées (.csv)").click()
    assert f"{tag}b" in download.value.path().read_text(encoding="utf-8-sig")

    db.rollback()
    public = db.scalar(select(Patient).where(Patient.reference == reference))
    assert public.last_name == patient_name and public.channel == "public_form"
    page.goto(f"/patients/{public.id}")
    page.get_by_role("button", name="Inscrire sur la liste d'attente").click()
    expect(page.get_by_text("Dossier passé à l'état « En attente »")).to_be_visible()
    page.get_by_role("button", name="Se déconnecter").click()

    # 4. The coordinator computes the proposals and confirms one for this patient.
    sign_in(page, "coordination")
    page.get_by_role("link", name="Attribuer des médecins traitants").click()
    page.get_by_role("button", name="Calculer les propositions").click()
    expect(page.get_by_text("Propositions calculées en")).to_be_visible()
    page.get_by_label("Chercher un patient").fill(patient_name)
    page.get_by_role("button", name="Chercher").click()
    row = page.locator("#proposals tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("niveau 1")
    buttons = row.get_by_role("button", name="Attribuer")
    assert 2 <= buttons.count() <= 3
    buttons.first.click()
    expect(page.get_by_text("médecin traitant attribué")).to_be_visible()

    # 5. The declaration, pre-filled, prints.
    page.goto(f"/patients/{public.id}")
    expect(page.get_by_text("Médecin attribué (proposition 1 confirmée")).to_be_visible()
    page.get_by_role("link", name="Imprimer la déclaration de choix du médecin traitant").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Déclaration de choix du médecin traitant")
    expect(page.get_by_text(patient_name.upper())).to_be_visible()
    # (the expression ends with a value: a string evaluating to a function would be called by Playwright)
    page.evaluate("window.__printed = 0; window.print = () => { window.__printed += 1; }; true")
    page.get_by_role("button", name="Imprimer").click()
    assert page.evaluate("window.__printed") == 1
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    (ARTEFACTS / "declaration.pdf").write_bytes(pdf)
    db.rollback()
    assert db.scalar(select(Patient.status).where(Patient.id == public.id)) == "assigned"
