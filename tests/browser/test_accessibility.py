"""Every page of every role, walked in a real browser with axe-core: no serious or critical WCAG 2.1
A/AA violation. The pages come from the application's own route list (a new page is walked
without being listed here), with real objects of the demo clinic in their paths."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.bench.pages import ROLES, page_urls, sample_ids
from tests.browser.a11y import describe, serious_violations, with_axe
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def _urls(db) -> list[str]:  # type: ignore[no-untyped-def]
    """The application's pages (route list, real objects in the paths); a CPAM list is imported
    first when none was, so that its page is walked too."""
    from app.asgi import create_app
    from app.patients.cpam import import_list
    from app.patients.models import CpamImport
    from app.web.territory import current_territory

    db.rollback()
    if db.scalar(select(CpamImport.id).limit(1)) is None:
        rows = "nom;prénom;date de naissance;sexe;commune\nAxe;Lina;03/04/2012;F;Laval\nAxe;Bad;31/02/2012;F;Laval\n"
        import_list(db, current_territory(), "liste.csv", rows.encode(), mode="valid_only", actor="tests")
    ids = sample_ids(db)
    db.rollback()
    return page_urls(create_app().routes, ids)


def _walk(page, urls: list[str]) -> tuple[list[str], dict[str, str]]:  # type: ignore[no-untyped-def]
    """Open each page, run axe; a page that breaks the content security policy (an inline script or
    style, something from elsewhere) fails too: the browser reports it on the console."""
    seen, failures = [], {}
    refused: list[str] = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if m.type == "error" and "Content Security Policy" in m.text else None,
    )
    for url in urls:
        refused.clear()
        response = page.goto(url)
        if response is None or response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
            continue
        seen.append(url)
        found = serious_violations(page)
        if found:
            failures[url] = describe(found)
        if refused:
            failures[url] = failures.get(url, "") + "\n  CSP: " + "\n  CSP: ".join(refused)
    return seen, failures


@pytest.mark.parametrize("username", [None, *ROLES])
def test_every_page_of_every_role_is_axe_clean(browser, live_server, db, username):
    urls = _urls(db)
    context = with_axe(browser.new_context(base_url=live_server, locale="fr-FR"))
    page = context.new_page()
    try:
        if username:
            sign_in(page, username)
            page.wait_for_url(lambda url: "/login" not in url)
        seen, failures = _walk(page, urls)
    finally:
        context.close()
    assert len(seen) >= (3 if username is None else 5), seen
    assert not failures, "\n".join(f"{url}:\n{text}" for url, text in failures.items())
