"""Turn raw form or JSON values into typed values, collecting French error messages per field."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from typing import Any

CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+?[0-9 .-]{6,20}$")


def clean_query(text: str, max_len: int = 200) -> str:
    """A search box's text without control characters (a NUL byte breaks PostgreSQL)."""
    return CONTROL_RE.sub("", text or "").strip()[:max_len]


class Collector:
    """Reads fields from a mapping and records one message per faulty field."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, str] = {}

    def raw(self, name: str) -> Any:
        return self.data.get(name)

    def text(self, name: str, *, required: bool = False, max_len: int = 255, label: str = "Ce champ") -> str:
        value = self.data.get(name)
        text = "" if value is None else str(value).strip()
        if CONTROL_RE.search(text):
            self.errors[name] = f"{label} contient des caractères invisibles non autorisés."
            return ""
        if required and not text:
            self.errors[name] = f"{label} est obligatoire."
        elif len(text) > max_len:
            self.errors[name] = f"{label} ne doit pas dépasser {max_len} caractères."
        return text

    def integer(
        self,
        name: str,
        *,
        default: int | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
        label: str = "La valeur",
    ) -> int:
        value = self.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if default is None:
                self.errors[name] = f"{label} est obligatoire."
                return 0
            return default
        if isinstance(value, bool):
            self.errors[name] = f"{label} doit être un nombre entier."
            return 0
        try:
            number = int(str(value).strip())
        except ValueError:
            self.errors[name] = f"{label} doit être un nombre entier."
            return 0
        if minimum is not None and number < minimum:
            self.errors[name] = f"{label} doit être supérieur ou égal à {minimum}."
        elif maximum is not None and number > maximum:
            self.errors[name] = f"{label} doit être inférieur ou égal à {maximum}."
        return number

    def boolean(self, name: str) -> bool:
        value = self.data.get(name)
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in {"1", "true", "on", "yes", "oui"} if value is not None else False

    def date(self, name: str, *, required: bool = False, label: str = "La date") -> dt.date | None:
        value = self.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.errors[name] = f"{label} est obligatoire."
            return None
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            self.errors[name] = f"{label} doit être au format AAAA-MM-JJ."
            return None

    def uuid(self, name: str, *, label: str = "La valeur") -> uuid.UUID | None:
        value = self.data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, uuid.UUID):
            return value
        try:
            return uuid.UUID(str(value).strip())
        except ValueError:
            self.errors[name] = f"{label} est inconnu(e)."
            return None

    def strings(self, name: str) -> list[str]:
        value = self.data.get(name)
        if value is None or value == "":
            return []
        if isinstance(value, list | tuple):
            return [str(v).strip() for v in value if str(v).strip()]
        return [s.strip() for s in str(value).split(",") if s.strip()]

    def email(self, name: str, *, required: bool = False) -> str:
        text = self.text(name, required=required, label="L'adresse e-mail")
        if text and not EMAIL_RE.match(text):
            self.errors[name] = "L'adresse e-mail n'est pas valide (exemple : nom@domaine.fr)."
        return text

    def phone(self, name: str) -> str:
        text = self.text(name, max_len=30, label="Le téléphone")
        if text and not PHONE_RE.match(text):
            self.errors[name] = "Le numéro de téléphone n'est pas valide (exemple : 02 43 00 00 00)."
        return text
