"""Helpers for server-rendered forms."""

from __future__ import annotations

from typing import Any

from litestar.di import NamedDependency
from litestar.params import URLEncodedBody
from sqlalchemy.orm import Session

FormData = URLEncodedBody[dict[str, Any]]
"""A submitted HTML form: repeated keys (checkboxes) arrive as lists."""

DbSession = NamedDependency[Session]
"""The request's database session (advanced-alchemy's plugin provides it as ``db_session``)."""


def safe_next(target: str | None, default: str = "/") -> str:
    """Only local paths: ``/sites`` yes, ``//evil.example`` or ``https://…`` no."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def form_values(data: dict[str, Any] | None) -> dict[str, Any]:
    """Drop the CSRF field so that the rest can be echoed back into the form."""
    return {k: v for k, v in (data or {}).items() if k != "_csrf_token"}
