"""A real server (uvicorn, as in production) and a real headless Chromium driven by Playwright.

Chromium is Debian's package (``/usr/bin/chromium``); Playwright never downloads a browser.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTEFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artefacts"


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium package is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server, request):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=live_server, locale="fr-FR")
    pg = context.new_page()
    yield pg
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTEFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def sign_in(page, username: str, password: str = "demo-smp-2026") -> None:  # type: ignore[no-untyped-def]  # noqa: S107
    page.goto("/login")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
