"""Probing who may reach which route: shared by the access-control matrix test."""

from __future__ import annotations

import re
from typing import Any

ROLES = ("anon", "admin", "coordination", "secretariat1", "medecin", "interne", "comite", "pharmacie")
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def fill(path: str, ids: dict[str, str]) -> str | None:
    """The route's path with a real object in each parameter, or None when one is missing."""
    params = re.findall(r"\{([a-z_]+):[a-z]+\}", path)
    if any(p not in ids for p in params):
        return None
    return re.sub(r"\{([a-z_]+):[a-z]+\}", lambda m: ids[m.group(1)], path)


def denied(response: Any) -> bool:
    """Refused: 401/403, or (a page) sent to the login form."""
    if response.status_code in (401, 403):
        return True
    return response.status_code in (302, 303) and response.headers.get("location", "").startswith("/login")
