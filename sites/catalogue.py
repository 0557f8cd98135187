"""A site catalogue: the antennes of a territory described in a CSV file.

One row a site::

    name,commune,address,rooms,open,pmr,slot_minutes,phone
    Laval,53130,12 rue de la Paix,4,mon-am mon-pm tue-am …,yes,20,02 43 00 10 00

``commune`` is an INSEE code or a name of the territory, ``open`` the opening half-days separated by
spaces. Every row is checked; errors name the line and the column, and a catalogue with any error
is rejected whole (nothing half-loaded).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from sites.communes import Commune, Territory

OPENABLE = (*(f"{d}-{p}" for d in ("mon", "tue", "wed", "thu", "fri") for p in ("am", "pm")), "sat-am")
COLUMNS = ("name", "commune", "address", "rooms", "open", "pmr", "slot_minutes", "phone")
YES = {"yes", "oui", "1", "true", "o", "y"}
NO = {"no", "non", "0", "false", "n", ""}


@dataclass(frozen=True)
class SiteSpec:
    name: str
    commune: Commune
    address: str
    rooms: int
    open: tuple[str, ...]
    pmr: bool
    slot_minutes: int
    phone: str


@dataclass(frozen=True)
class CatalogueError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"ligne {self.line}, colonne « {self.column} » : {self.message}"


class CatalogueInvalid(ValueError):
    def __init__(self, errors: list[CatalogueError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def _int(raw: str, line: int, column: str, lo: int, hi: int, errors: list[CatalogueError]) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        errors.append(CatalogueError(line, column, f"nombre entier attendu, trouvé « {raw} »"))
        return 0
    if not lo <= value <= hi:
        errors.append(CatalogueError(line, column, f"doit être entre {lo} et {hi}, trouvé {value}"))
    return value


def parse_catalogue(path: Path, territory: Territory) -> list[SiteSpec]:
    """The sites of ``path``, or :class:`CatalogueInvalid` listing every faulty cell."""
    errors: list[CatalogueError] = []
    specs: list[SiteSpec] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise CatalogueInvalid([CatalogueError(1, c, "colonne absente de l'en-tête") for c in missing])
        seen: dict[str, int] = {}
        for line, row in enumerate(reader, start=2):
            name = (row["name"] or "").strip()
            if not name:
                errors.append(CatalogueError(line, "name", "le nom est obligatoire"))
            elif name.lower() in seen:
                errors.append(CatalogueError(line, "name", f"nom déjà utilisé ligne {seen[name.lower()]}"))
            else:
                seen[name.lower()] = line
            found = territory.matches(row["commune"] or "")
            if len(found) != 1:
                what = "ambiguë" if found else "inconnue sur le territoire"
                errors.append(CatalogueError(line, "commune", f"commune {what} : « {row['commune']} »"))
            halfdays = tuple((row["open"] or "").split())
            bad = [h for h in halfdays if h not in OPENABLE]
            if bad:
                errors.append(CatalogueError(line, "open", "demi-journées inconnues : " + ", ".join(bad)))
            pmr_raw = (row["pmr"] or "").strip().lower()
            if pmr_raw not in YES | NO:
                errors.append(CatalogueError(line, "pmr", f"oui ou non attendu, trouvé « {row['pmr']} »"))
            rooms = _int(row["rooms"] or "", line, "rooms", 0, 50, errors)
            slot = _int(row["slot_minutes"] or "", line, "slot_minutes", 5, 120, errors)
            if len(found) == 1 and not bad and name:
                specs.append(
                    SiteSpec(
                        name=name,
                        commune=found[0],
                        address=(row["address"] or "").strip(),
                        rooms=rooms,
                        open=tuple(h for h in OPENABLE if h in halfdays),
                        pmr=pmr_raw in YES,
                        slot_minutes=slot,
                        phone=(row["phone"] or "").strip(),
                    )
                )
    if errors:
        raise CatalogueInvalid(errors)
    return specs
