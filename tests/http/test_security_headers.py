"""Every response carries the security headers: a content security policy without inline script,
no framing, no MIME sniffing, a same-origin referrer; HSTS behind HTTPS only."""

import dataclasses

import pytest
from litestar.testing import TestClient

from app.asgi import CONTENT_SECURITY_POLICY, create_app
from app.settings import get_settings


@pytest.mark.parametrize("path", ["/login", "/demande", "/static/app.css", "/schema/openapi.json", "/nope"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in response.headers  # plain HTTP here


def test_behind_https_the_cookies_are_secure_and_hsts_is_sent(demo):
    settings = dataclasses.replace(get_settings(), secure_cookies=True)
    with TestClient(app=create_app(settings), base_url="https://testserver.local") as secure:
        page = secure.get("/login")
        assert page.headers["strict-transport-security"].startswith("max-age=31536000")
        cookies = page.headers.get_list("set-cookie")
        assert cookies and all("Secure" in c and "HttpOnly" in c for c in cookies)


def test_the_openapi_document_is_served_without_a_browsable_ui_from_a_cdn(client):
    assert client.get("/schema/openapi.json").json()["info"]["title"] == "SMP Planner API"
    ui = client.get("/schema")
    assert "cdn" not in ui.text.lower()
