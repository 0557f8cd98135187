"""French identifiers: RPPS (health professionals) and NIR (social security number)."""

from __future__ import annotations

import re

_RPPS = re.compile(r"^\d{11}$")
_NIR = re.compile(r"^[12378]\d{4}(\d{2}|2A|2B)\d{6}\d{2}$")


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_check_digit(body: str) -> str:
    """The digit to append to ``body`` so that the whole number passes the Luhn check."""
    for d in "0123456789":
        if luhn_valid(body + d):
            return d
    raise AssertionError("unreachable")


def clean_rpps(value: str) -> str:
    return re.sub(r"[\s.-]", "", value or "")


def rpps_error(value: str) -> str | None:
    """French message when ``value`` is not a valid RPPS number, else ``None``."""
    v = clean_rpps(value)
    if not _RPPS.match(v):
        return "Le numéro RPPS doit comporter exactement 11 chiffres."
    if not luhn_valid(v):
        return "Le numéro RPPS est invalide (chiffre de contrôle erroné)."
    return None


def clean_nir(value: str) -> str:
    return re.sub(r"[\s.-]", "", value or "").upper()


def _nir_number(body13: str) -> int:
    # Corsica: 2A counts as 19 and 2B as 18 in the key computation.
    return int(body13.replace("2A", "19").replace("2B", "18"))


def nir_key(body13: str) -> str:
    """The two-digit key of a 13-character NIR body: 97 − (number mod 97)."""
    return f"{97 - (_nir_number(body13) % 97):02d}"


def nir_error(value: str) -> str | None:
    """French message when ``value`` is not a valid NIR, else ``None``."""
    v = clean_nir(value)
    if len(v) != 15:
        return "Le numéro de sécurité sociale doit comporter 15 caractères (13 + clé de 2 chiffres)."
    if not _NIR.match(v):
        return "Le numéro de sécurité sociale n'a pas la forme attendue (sexe, année, mois, département, commune)."
    if nir_key(v[:13]) != v[13:]:
        return "La clé du numéro de sécurité sociale ne correspond pas au numéro."
    return None
