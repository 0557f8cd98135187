"""The territory of this installation (from the settings), shared by every request."""

from __future__ import annotations

from functools import cache

from app.settings import get_settings
from sites.communes import Territory


@cache
def territory_for(departements: tuple[str, ...]) -> Territory:
    return Territory(departements)


def current_territory() -> Territory:
    return territory_for(get_settings().departements)


def commune_name(insee: str) -> str:
    from app.clinicians.services import france

    commune = current_territory().by_insee(insee) or france().by_insee(insee)
    return commune.name if commune else insee
