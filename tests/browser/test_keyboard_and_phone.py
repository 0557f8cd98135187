"""Without a mouse, and on a phone: a secretary books a consultation and an intern publishes
their availability with the keyboard alone (every focused control visibly outlined); a GP's
week, availability and calendar pages work on a 375 px wide screen (screenshots kept)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.browser.a11y import describe, serious_violations, with_axe
from tests.browser.conftest import ARTEFACTS
from tests.browser.test_booking_journeys import _patient_with_doctor_slots

pytestmark = pytest.mark.browser

_FOCUSED = """() => {
  const e = document.activeElement;
  const style = getComputedStyle(e);
  return { tag: e.tagName.toLowerCase(), type: e.type || "", name: e.getAttribute("name") || "",
           text: (e.innerText || e.value || "").trim().slice(0, 80), label: e.getAttribute("aria-label") || "",
           id: e.id || "", outline: style.outlineStyle + " " + style.outlineWidth };
}"""


class Keyboard:
    """Tab through the page like a keyboard user, and remember every control that had no visible focus."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.unoutlined: list[str] = []

    def log_in(self, username: str, password: str = "demo-smp-2026") -> None:  # noqa: S107 - the demo's
        self.page.goto("/login")
        # The username field takes the focus by itself (autofocus), once the page has rendered.
        expect(self.page.get_by_label("Identifiant")).to_be_focused()
        self.page.keyboard.type(username)
        self.page.keyboard.press("Tab")
        self.page.keyboard.type(password)
        self.page.keyboard.press("Enter")
        try:
            self.page.wait_for_url(lambda url: "/login" not in url, timeout=15_000)
        except PlaywrightTimeout:
            raise AssertionError("still on the login page: " + self.page.locator("main").inner_text()[:300]) from None

    def tab_to(self, wanted: Callable[[dict[str, str]], bool], what: str, limit: int = 120) -> dict[str, str]:
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            focused = self.page.evaluate(_FOCUSED)
            if focused["tag"] != "body" and focused["outline"].startswith("none"):
                self.unoutlined.append(f"{focused['tag']} {focused['text'] or focused['name']}")
            if wanted(focused):
                return focused
        raise AssertionError(f"{what}: not reachable with Tab")


def test_a_secretary_books_a_consultation_with_the_keyboard_alone(browser, live_server, db):
    patient = _patient_with_doctor_slots(db)
    context = browser.new_context(base_url=live_server, locale="fr-FR")
    page = context.new_page()
    keys = Keyboard(page)
    try:
        keys.log_in("secretariat2")
        keys.tab_to(lambda f: f["tag"] == "a" and f["text"] == "Rendez-vous", "menu Rendez-vous")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("Prendre un rendez-vous")
        page.keyboard.type(f"{patient.last_name[:5].lower()} {patient.first_name[:3].lower()}", delay=30)
        expect(page.locator("#patient-results a").first).to_be_visible()
        keys.tab_to(
            lambda f: f["tag"] == "a" and f["text"].startswith(f"{patient.last_name.upper()} {patient.first_name}"),
            "the patient found",
        )
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/bookings/new" in url)
        page.wait_for_load_state()
        keys.tab_to(lambda f: f["tag"] == "button" and f["text"].startswith("Réserver"), "the first slot's Réserver")
        page.keyboard.press("Enter")
        expect(page.get_by_text("Rendez-vous réservé le")).to_be_visible()
        page.screenshot(path=str(ARTEFACTS / "keyboard-booking.png"), full_page=True)
    finally:
        context.close()
    assert not keys.unoutlined, f"focus not visible on: {keys.unoutlined}"


def test_an_intern_publishes_availability_with_the_keyboard_alone(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="fr-FR")
    page = context.new_page()
    keys = Keyboard(page)
    try:
        keys.log_in("interne")
        keys.tab_to(lambda f: f["tag"] == "a" and f["text"] == "Mes disponibilités", "menu Mes disponibilités")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Disponibilités")
        # Tuesday morning: reach its radio group, then choose "préférée" with the arrow keys.
        focused = keys.tab_to(lambda f: f["name"] == "level_tue-am", "the Tuesday morning choices")
        for _ in range(4):
            if focused["label"].endswith("préférée"):
                break
            page.keyboard.press("ArrowLeft")
            focused = page.evaluate(_FOCUSED)
        assert focused["label"].endswith("préférée"), focused
        page.keyboard.press("Space")
        keys.tab_to(lambda f: f["tag"] == "button" and f["text"] == "Enregistrer la semaine type", "the save button")
        page.keyboard.press("Enter")
        expect(page.get_by_text("Semaine type enregistrée")).to_be_visible()
        expect(page.get_by_role("radio", name="mardi matin : préférée")).to_be_checked()
    finally:
        context.close()
    assert not keys.unoutlined, f"focus not visible on: {keys.unoutlined}"


PHONE = {"width": 375, "height": 812}


@pytest.mark.parametrize(
    ("name", "url", "heading"),
    [
        ("my-week", "/my/week", "Mes séances"),
        ("availability", "/availability", "Disponibilités"),
        ("calendars", "/profile", "Mon compte"),
        ("calendar-help", "/help/calendars", "Voir mon planning SMP dans mon agenda"),
    ],
)
def test_a_gps_pages_work_on_a_375_px_phone(browser, live_server, name, url, heading):
    context = with_axe(
        browser.new_context(base_url=live_server, locale="fr-FR", viewport=PHONE, device_scale_factor=2, is_mobile=True)
    )
    page = context.new_page()
    try:
        page.goto("/login")
        page.get_by_label("Identifiant").fill("medecin")
        page.get_by_label("Mot de passe").fill("demo-smp-2026")
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_url(lambda u: "/login" not in u)
        page.goto(url)
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        # Nothing wider than the screen: no sideways scrolling to read or to reach a button.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{url} is {width} px wide on a {PHONE['width']} px screen"
        too_wide = page.evaluate(
            """(limit) => [...document.querySelectorAll('main button, main input, main select, main a')]
                 .filter((e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > limit + 1; })
                 .map((e) => e.outerHTML.slice(0, 80))""",
            PHONE["width"],
        )
        assert not too_wide, too_wide
        found = serious_violations(page)
        assert not found, describe(found)
        if name == "calendars":
            expect(page.locator("#agendas")).to_be_visible()
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTEFACTS / f"phone-{name}.png"), full_page=True)
    finally:
        context.close()
