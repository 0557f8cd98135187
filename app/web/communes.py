"""Commune lookup for forms (htmx suggestions) and the API."""

from __future__ import annotations

import msgspec
from litestar import Controller, get
from litestar.params import FromQuery
from litestar.response import Template

from app.core.parsing import clean_query
from app.web.auth import login_required
from app.web.territory import current_territory


class CommuneOut(msgspec.Struct):
    insee: str
    name: str
    postal_code: str
    departement: str
    lat: float
    lon: float
    population: int


class CommuneController(Controller):
    guards = [login_required]

    @get("/communes/options", sync_to_thread=False, include_in_schema=False)
    def options(self, commune: FromQuery[str] = "", home_commune: FromQuery[str] = "") -> Template:
        q = clean_query(commune or home_commune)
        return Template("partials/commune_options.html", context={"communes": current_territory().search(q, 12)})

    @get("/api/communes", sync_to_thread=False, tags=["communes"], summary="Search the territory's communes")
    def search(self, q: FromQuery[str] = "", limit: FromQuery[int] = 10) -> list[CommuneOut]:
        found = current_territory().search(clean_query(q), max(1, min(limit, 50)))
        return [CommuneOut(c.insee, c.name, c.postal_code, c.departement, c.lat, c.lon, c.population) for c in found]
