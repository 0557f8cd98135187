"""The README's screenshots, taken from the running application so that they stay true.

Every run writes them to ``var/test-artefacts/screens``; ``make screenshots`` writes them to
``docs/screenshots`` (the README's pictures) by setting ``SMP_SCREENSHOTS_DIR``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTEFACTS, sign_in

pytestmark = pytest.mark.browser

SCREENS = [
    # (file, user, path, heading, viewport)
    ("coordinator-home", "coordination", "/", "Coordination", (1280, 900)),
    ("rota", "coordination", "/rota", None, (1280, 1100)),  # then the latest project's grid
    ("booking", "secretariat1", "/bookings/week", None, (1280, 900)),
    ("waiting-list", "secretariat1", "/patients", "Liste d'attente", (1280, 900)),
    ("committee", "comite", "/committee", "Où en est le SMP ?", (1280, 1400)),
    ("cpts-census", "coordination", "/cpts", "Médecins du territoire (CPTS)", (1280, 900)),
    ("gp-week-phone", "medecin", "/my/week", "Mes séances", (375, 812)),
]


def _folder() -> Path:
    folder = Path(os.environ.get("SMP_SCREENSHOTS_DIR") or ARTEFACTS / "screens")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize(("name", "user", "path", "heading", "size"), SCREENS, ids=[s[0] for s in SCREENS])
def test_readme_screenshot(browser, live_server, name, user, path, heading, size):
    width, height = size
    context = browser.new_context(base_url=live_server, locale="fr-FR", viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        sign_in(page, user)
        page.wait_for_url(lambda url: "/login" not in url)
        response = page.goto(path)
        assert response is not None and response.status == 200
        if heading:
            expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        if name == "rota":
            page.locator("a[href^='/rota/drafts/']").first.click()
            expect(page.locator("table.rota-grid").first).to_be_visible()
            week = page.get_by_label("Semaine du")
            week.select_option(index=1)  # a whole week (the first one starts today)
            page.get_by_role("button", name="Afficher").click()
            expect(page.locator("table.rota-grid").first).to_be_visible()
        target = _folder() / f"{name}.png"
        page.screenshot(path=str(target))
        assert target.stat().st_size > 10_000
    finally:
        context.close()
