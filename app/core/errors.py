"""Field-level validation errors shared by the pages (French messages next to each field) and the
JSON API (a structured 4xx body)."""

from __future__ import annotations


class FieldErrors(Exception):
    """One or more fields are invalid; nothing was written."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class Conflict(Exception):
    """The change contradicts the current state (a taken name, a taken slot)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def user_message(exc: FieldErrors | Conflict) -> str:
    """One French sentence for a flash message: the conflict's, or every field's message."""
    return exc.message if isinstance(exc, Conflict) else " ".join(exc.errors.values())
