"""Sites: validation, creation and update. Used by the pages, the API and the seeds alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from advanced_alchemy.repository import SQLAlchemySyncRepository
from advanced_alchemy.service import SQLAlchemySyncRepositoryService
from sqlalchemy import func, select

from app.core.errors import FieldErrors
from app.core.halfdays import WORKING_HALFDAYS, sort_halfdays
from app.core.parsing import Collector
from app.sites.models import Site
from sites.communes import Territory


class SiteRepository(SQLAlchemySyncRepository[Site]):
    model_type = Site


class SiteService(SQLAlchemySyncRepositoryService[Site, SiteRepository]):
    repository_type = SiteRepository

    def clean(self, data: Mapping[str, Any], territory: Territory, *, current: Site | None = None) -> dict[str, Any]:
        """Validated column values for a site, or :class:`FieldErrors` (French) for every faulty field."""
        c = Collector(data)
        name = c.text("name", required=True, max_len=120, label="Le nom")
        commune_text = c.text("commune", required=True, label="La commune")
        commune = None
        if commune_text:
            found = territory.matches(commune_text)
            commune = found[0] if len(found) == 1 else None
            if len(found) > 1:
                c.errors["commune"] = (
                    "Plusieurs communes correspondent ("
                    + ", ".join(f"{m.name} {m.insee}" for m in found[:4])
                    + ") : précisez le nom et le code postal, ou le code INSEE."
                )
            elif commune is None:
                c.errors["commune"] = (
                    f"Commune inconnue sur le territoire ({', '.join(territory.departements)}) : « {commune_text} »."
                )
        rooms = c.integer("rooms", minimum=0, maximum=50, label="Le nombre de salles")
        slot_minutes = c.integer("slot_minutes", default=20, minimum=5, maximum=120, label="La durée d'un créneau")
        halfdays = c.strings("opening_halfdays")
        bad = [h for h in halfdays if h not in WORKING_HALFDAYS]
        if bad:
            c.errors["opening_halfdays"] = "Demi-journées inconnues : " + ", ".join(bad)
        values: dict[str, Any] = {
            "name": name,
            "address": c.text("address", max_len=255, label="L'adresse"),
            "rooms": rooms,
            "slot_minutes": slot_minutes,
            "opening_halfdays": sort_halfdays(halfdays) if not bad else [],
            "pmr_access": c.boolean("pmr_access"),
            "phone": c.phone("phone"),
            "active": c.boolean("active") if "active" in data else (current.active if current else True),
        }
        if name and "name" not in c.errors:
            clash = select(Site.id).where(func.lower(Site.name) == name.lower())
            if current is not None:
                clash = clash.where(Site.id != current.id)
            if self.repository.session.scalar(clash) is not None:
                c.errors["name"] = "Une antenne porte déjà ce nom."
        if c.errors:
            raise FieldErrors(c.errors)
        assert commune is not None
        values.update(commune_insee=commune.insee, lat=commune.lat, lon=commune.lon)
        return values

    def create_site(self, data: Mapping[str, Any], territory: Territory) -> Site:
        site = self.create(Site(**self.clean(data, territory)), auto_commit=True)
        return site

    def update_site(self, site: Site, data: Mapping[str, Any], territory: Territory) -> Site:
        merged = {**self.as_input(site), **data}
        for key, value in self.clean(merged, territory, current=site).items():
            setattr(site, key, value)
        self.repository.session.commit()
        return site

    @staticmethod
    def as_input(site: Site) -> dict[str, Any]:
        """The site as form/API input (so a partial update can be merged onto it)."""
        return {
            "name": site.name,
            "commune": site.commune_insee,
            "address": site.address,
            "rooms": site.rooms,
            "slot_minutes": site.slot_minutes,
            "opening_halfdays": list(site.opening_halfdays),
            "pmr_access": site.pmr_access,
            "phone": site.phone,
            "active": site.active,
        }
