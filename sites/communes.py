"""The communes of France (INSEE COG 2026) and the territory a clinic serves.

The data file ships in ``seeds/data/france_communes.csv`` with its attribution in
``seeds/data/SOURCES.md``. This module only reads it; it knows nothing of the web layer or the
database, so a researcher can reuse it as is.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sites.geo import haversine_km

DATA_FILE = Path(__file__).resolve().parent.parent / "seeds" / "data" / "france_communes.csv"
DEFAULT_DEPARTEMENTS: tuple[str, ...] = ("53",)


@dataclass(frozen=True, slots=True)
class Commune:
    insee: str
    name: str
    departement: str
    postal_code: str
    lat: float
    lon: float
    population: int

    @property
    def label(self) -> str:
        """How people write it: ``Laval (53000)``."""
        return f"{self.name} ({self.postal_code})"

    def distance_km(self, other: Commune) -> float:
        return haversine_km(self.lat, self.lon, other.lat, other.lon)


def normalise(text: str) -> str:
    """Accent-, case- and punctuation-insensitive key: ``Château-Gontier`` -> ``chateau gontier``."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    cleaned = "".join(c if c.isalnum() else " " for c in stripped)
    words = cleaned.split()
    # "St" and "Ste" are how people often abbreviate Saint / Sainte.
    expanded = ["saint" if w == "st" else "sainte" if w == "ste" else w for w in words]
    return " ".join(expanded)


@cache
def load_all_communes(path: Path = DATA_FILE) -> tuple[Commune, ...]:
    """Every commune of France, sorted by INSEE code (read once per process)."""
    with path.open(encoding="utf-8", newline="") as fh:
        return tuple(
            Commune(
                insee=row["insee"],
                name=row["name"],
                departement=row["dep"],
                postal_code=row["postal_code"],
                lat=float(row["lat"]),
                lon=float(row["lon"]),
                population=int(row["population"]),
            )
            for row in csv.DictReader(fh)
        )


def load_communes(departements: Iterable[str] | None = None) -> list[Commune]:
    """Communes of the given départements (all of France when ``None``)."""
    everything = load_all_communes()
    if departements is None:
        return list(everything)
    wanted = {d.strip().upper() for d in departements}
    return [c for c in everything if c.departement.upper() in wanted]


class Territory:
    """The communes a clinic serves: one or more départements, with lookups.

    >>> t = Territory(["53"])
    >>> t.by_insee("53130").name
    'Laval'
    """

    def __init__(self, departements: Iterable[str] = DEFAULT_DEPARTEMENTS) -> None:
        self.departements: tuple[str, ...] = tuple(sorted({d.strip().upper() for d in departements}))
        known = {c.departement for c in load_all_communes()}
        unknown = [d for d in self.departements if d not in known]
        if not self.departements or unknown:
            raise ValueError(f"Unknown département code(s): {', '.join(unknown) or '(none given)'}")
        self.communes: list[Commune] = load_communes(self.departements)
        self._by_insee = {c.insee: c for c in self.communes}
        self._by_postal: dict[str, list[Commune]] = {}
        self._by_name: dict[str, list[Commune]] = {}
        self._key: dict[str, str] = {c.insee: normalise(c.name) for c in self.communes}
        """Normalised names, computed once: a search as you type must not redo 240 normalisations."""
        for c in self.communes:
            self._by_postal.setdefault(c.postal_code, []).append(c)
            self._by_name.setdefault(normalise(c.name), []).append(c)

    def __contains__(self, insee: object) -> bool:
        return insee in self._by_insee

    def __len__(self) -> int:
        return len(self.communes)

    @property
    def population(self) -> int:
        return sum(c.population for c in self.communes)

    def by_insee(self, insee: str) -> Commune | None:
        return self._by_insee.get(insee.strip().upper())

    def by_postal_code(self, postal_code: str) -> list[Commune]:
        return list(self._by_postal.get(postal_code.strip(), []))

    def by_name(self, name: str) -> list[Commune]:
        """Exact name match, ignoring accents, case and punctuation."""
        return list(self._by_name.get(normalise(name), []))

    def search(self, query: str, limit: int = 10) -> list[Commune]:
        """Communes matching an INSEE code, a postal code or a name (prefix first, then substring)."""
        q = query.strip()
        if not q:
            return []
        if q.isdigit() or (len(q) == 5 and q[:2].upper() in {"2A", "2B"}):
            exact = self.by_insee(q)
            found = ([exact] if exact else []) + [c for c in self.by_postal_code(q) if c is not exact]
            if found:
                return found[:limit]
            return [c for c in self.communes if c.postal_code.startswith(q) or c.insee.startswith(q)][:limit]
        key = normalise(q)
        exact_name = self.by_name(q)
        prefix = [c for c in self.communes if self._key[c.insee].startswith(key) and c not in exact_name]
        inner = [c for c in self.communes if key in self._key[c.insee] and c not in exact_name and c not in prefix]
        prefix.sort(key=lambda c: -c.population)
        inner.sort(key=lambda c: -c.population)
        return (exact_name + prefix + inner)[:limit]

    def matches(self, text: str) -> list[Commune]:
        """Every commune that ``text`` names exactly: an INSEE code, a postal code, a name, or
        ``Name (postal code)``. More than one means the user must be more precise."""
        t = text.strip()
        if not t:
            return []
        if t.endswith(")") and "(" in t:
            name, _, code = t[:-1].rpartition("(")
            code = code.strip()
            return [c for c in self.by_name(name) if code in (c.postal_code, c.insee)]
        found: list[Commune] = []
        if exact := self.by_insee(t):
            found.append(exact)
        if t.isdigit():
            found += [c for c in self.by_postal_code(t) if c not in found]
        else:
            found += [c for c in self.by_name(t) if c not in found]
        return found

    def resolve(self, text: str) -> Commune | None:
        """The one commune a user meant, or ``None`` when unknown or ambiguous (see :meth:`matches`)."""
        found = self.matches(text)
        return found[0] if len(found) == 1 else None

    def nearest(self, lat: float, lon: float) -> Commune:
        return min(self.communes, key=lambda c: haversine_km(lat, lon, c.lat, c.lon))
