"""API shapes for sites (msgspec structs, documented in the OpenAPI schema)."""

from __future__ import annotations

import uuid

import msgspec

from app.sites.models import Site


class SiteOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    commune_insee: str
    commune_name: str
    address: str
    lat: float
    lon: float
    rooms: int
    opening_halfdays: list[str]
    pmr_access: bool
    slot_minutes: int
    phone: str
    active: bool


class SiteCreate(msgspec.Struct):
    name: str
    commune: str
    """INSEE code, name, or ``Name (postal code)`` of a commune of the territory."""
    rooms: int
    opening_halfdays: list[str] = msgspec.field(default_factory=list)
    address: str = ""
    pmr_access: bool = False
    slot_minutes: int = 20
    phone: str = ""
    active: bool = True


class SiteUpdate(msgspec.Struct, omit_defaults=True):
    name: str | msgspec.UnsetType = msgspec.UNSET
    commune: str | msgspec.UnsetType = msgspec.UNSET
    rooms: int | msgspec.UnsetType = msgspec.UNSET
    opening_halfdays: list[str] | msgspec.UnsetType = msgspec.UNSET
    address: str | msgspec.UnsetType = msgspec.UNSET
    pmr_access: bool | msgspec.UnsetType = msgspec.UNSET
    slot_minutes: int | msgspec.UnsetType = msgspec.UNSET
    phone: str | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


def site_out(site: Site, commune_name: str) -> SiteOut:
    return SiteOut(
        id=site.id,
        name=site.name,
        commune_insee=site.commune_insee,
        commune_name=commune_name,
        address=site.address,
        lat=site.lat,
        lon=site.lon,
        rooms=site.rooms,
        opening_halfdays=list(site.opening_halfdays),
        pmr_access=site.pmr_access,
        slot_minutes=site.slot_minutes,
        phone=site.phone,
        active=site.active,
    )


def set_fields(struct: msgspec.Struct) -> dict[str, object]:
    """The fields a client actually sent (UNSET ones left out)."""
    return {k: v for k, v in msgspec.structs.asdict(struct).items() if v is not msgspec.UNSET}
