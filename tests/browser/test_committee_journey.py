"""A committee member, in a real browser: where the SMP stands, when it reaches the target, a
what-if, and the spreadsheet export."""

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_a_committee_member_sees_the_target_the_projection_and_exports_a_spreadsheet(page):
    sign_in(page, "comite")
    page.get_by_role("link", name="Pilotage").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Où en est le SMP ?")
    expect(page.locator(".card").first).to_contain_text("patients avec un médecin traitant du SMP")
    expect(page.locator(".card").first).to_contain_text("objectif 10\u202f000")
    expect(page.get_by_text("objectif atteint, au rythme des trois derniers mois")).to_be_visible()
    expect(
        page.get_by_role("img", name="Patients avec un médecin traitant du SMP, par mois, et objectif")
    ).to_be_visible()
    expect(page.get_by_role("img", name="Patients en attente pour 1 000 habitants, par commune")).to_be_visible()
    # No link from the dashboard leads to a patient.
    assert not page.locator("a[href^='/patients']").count()

    page.get_by_label("Praticiens ajoutés").fill("3")
    page.get_by_role("button", name="Comparer").click()
    expect(page.locator("#what-if")).to_contain_text("Scénario")

    with page.expect_download() as download:
        page.get_by_role("link", name="Tout exporter (.xlsx)").click()
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert "synthese" in book.sheetnames and "communes" in book.sheetnames
