"""Every page as every role: no page ships more than 100 KB of JavaScript and CSS together, all of
it served by the application itself (nothing from a CDN), and every page has a title that says
where you are and the favicon."""

import re

import pytest

from app.bench.pages import ROLES, WEIGHT_LIMIT, asset_bytes, page_assets, page_urls, sample_ids


@pytest.fixture(scope="module")
def urls(app, engine):  # type: ignore[no-untyped-def]
    from app.db.engine import session_scope

    with session_scope(engine) as session:
        return page_urls(app.routes, sample_ids(session))


@pytest.mark.parametrize("username", [None, *ROLES])
def test_every_page_is_light_local_and_titled(as_user, client, urls, username):
    if username:
        as_user(username)
    checked = 0
    for url in urls:
        response = client.get(url, follow_redirects=False)
        if response.status_code != 200 or "text/html" not in response.headers.get("content-type", ""):
            continue
        checked += 1
        assets = set(page_assets(response.text))
        weight = sum(asset_bytes(a) for a in assets)  # raises on an asset from elsewhere
        assert weight <= WEIGHT_LIMIT, f"{url}: {weight} bytes of JS and CSS"
        title = re.search(r"<title>([^<]+)</title>", response.text)
        assert title and title.group(1).strip(), f"{url} has no title"
        assert 'rel="icon"' in response.text, f"{url} has no favicon"
    assert checked >= (3 if username is None else 5)
