"""The secretary's day in a real browser: find, book, move, cancel — and a race lost politely."""

import datetime as dt
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.booking import services
from app.patients.models import Patient
from app.rota.models import Booking, RotaSession, Slot
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def _patient_with_doctor_slots(db):
    now = dt.datetime.now(dt.UTC)
    busy = select(Booking.patient_id).where(Booking.status == "booked")
    for patient in db.scalars(
        select(Patient)
        .where(Patient.referring_clinician_id.is_not(None), Patient.id.not_in(busy))
        .order_by(Patient.reference)
        .limit(60)
    ):
        if db.execute(
            services.free_slots_query(clinician_id=patient.referring_clinician_id, start=now).limit(1)
        ).first():
            return patient
    raise AssertionError("the demo has a patient whose referring doctor has free slots")


def test_the_secretary_finds_books_the_referring_doctors_first_slot_moves_and_cancels_it(page, db):
    patient = _patient_with_doctor_slots(db)
    sign_in(page, "secretariat1")
    page.get_by_role("navigation").get_by_role("link", name="Rendez-vous").click()
    page.get_by_label("Patient").press_sequentially(patient.last_name[:4].lower(), delay=40)
    page.get_by_label("Patient").press_sequentially(" " + patient.first_name[:3].lower(), delay=40)
    result = (
        page.locator("#patient-results")
        .get_by_role("link", name=f"{patient.last_name.upper()} {patient.first_name}")
        .first
    )
    expect(result).to_be_visible()
    result.click()
    first = page.locator("tbody tr").first
    expect(first).to_contain_text("son médecin traitant")
    first.get_by_role("button", name="Réserver").click()
    expect(page.get_by_text("Rendez-vous réservé le")).to_be_visible()
    db.rollback()
    booked = db.scalar(select(Booking).where(Booking.patient_id == patient.id, Booking.status == "booked"))
    slot = db.get(Slot, booked.slot_id)
    assert db.get(RotaSession, slot.session_id).clinician_id == patient.referring_clinician_id

    page.get_by_role("link", name="Déplacer").click()
    page.locator("tbody tr").nth(1).get_by_role("button", name="Choisir").click()
    expect(page.get_by_text("Rendez-vous déplacé au")).to_be_visible()

    page.get_by_label("Motif").select_option("patient")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Annuler le rendez-vous").click()
    expect(page.get_by_text("Rendez-vous annulé.")).to_be_visible()
    expect(page.get_by_role("button", name="Annuler l'annulation")).to_be_visible()
    db.rollback()
    db.expire_all()
    assert db.get(Booking, booked.id).status == "cancelled"


def test_a_second_secretary_on_the_same_slot_gets_a_clear_refusal(browser, live_server, db):
    # Two new patients of the same commune with no referring doctor: both are offered the same
    # nearest-site slots, soonest first.
    from app.patients.models import Channel
    from app.patients.services import submit_request
    from app.web.territory import current_territory

    made = [
        submit_request(
            db,
            {
                "last_name": f"Course{i}{uuid.uuid4().hex[:4]}",
                "first_name": "Jo",
                "birth_date": "1970-01-01",
                "sex": "M",
                "commune": "Évron",
                "phone": "06 10 20 30 40",
            },
            current_territory(),
            channel=Channel.DESK,
            actor="t",
        ).patient
        for i in range(2)
    ]
    first, second = made
    pages = []
    for username, patient in (("secretariat1", first), ("secretariat2", second)):
        context = browser.new_context(base_url=live_server, locale="fr-FR")
        pg = context.new_page()
        sign_in(pg, username)
        pg.goto(f"/bookings/new?patient={patient.id}")
        pages.append(pg)
    # Both see the same first proposal at the nearest site; the first to click wins.
    slot_id = pages[0].locator("button[name=slot]").first.get_attribute("value")
    assert pages[1].locator("button[name=slot]").first.get_attribute("value") == slot_id
    pages[0].locator(f"button[name=slot][value='{slot_id}']").click()
    expect(pages[0].get_by_text("Rendez-vous réservé le")).to_be_visible()
    pages[1].locator(f"button[name=slot][value='{slot_id}']").click()
    expect(pages[1].get_by_role("alert")).to_contain_text("vient d'être réservé par quelqu'un d'autre")
    expect(pages[1].locator("button[name=slot]").first).to_be_visible()
    for pg in pages:
        pg.context.close()
