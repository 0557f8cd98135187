"""Clinicians: validation, creation and update, shared by the pages, the API and the seeds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cache
from typing import Any

from advanced_alchemy.repository import SQLAlchemySyncRepository
from advanced_alchemy.service import SQLAlchemySyncRepositoryService
from sqlalchemy import select

from app.clinicians.models import Clinician, ClinicianRole
from app.core.errors import FieldErrors
from app.core.halfdays import WORKING_HALFDAYS, sort_halfdays
from app.core.identifiers import clean_rpps, rpps_error
from app.core.parsing import Collector
from app.sites.models import Site
from sites.communes import Territory, load_all_communes

MAX_HALFDAYS_PER_WEEK = len(WORKING_HALFDAYS)
INTERN_OUTCOMES = {
    "": "pas encore connu",
    "settled": "installé·e sur le territoire",
    "left": "parti·e hors du territoire",
}
"""What became of an intern after the semester (the committee counts who settled)."""


@cache
def france() -> Territory:
    """Clinicians may live outside the territory they serve: their home is looked up nationally."""
    return Territory(sorted({c.departement for c in load_all_communes()}))


class ClinicianRepository(SQLAlchemySyncRepository[Clinician]):
    model_type = Clinician


class ClinicianService(SQLAlchemySyncRepositoryService[Clinician, ClinicianRepository]):
    repository_type = ClinicianRepository

    def clean(self, data: Mapping[str, Any], *, current: Clinician | None = None) -> dict[str, Any]:
        """Validated values (``sites`` as Site rows), or :class:`FieldErrors` with French messages."""
        session = self.repository.session
        c = Collector(data)
        role = c.text("role", required=True, label="Le rôle")
        if role and role not in {r.value for r in ClinicianRole}:
            c.errors["role"] = "Rôle inconnu : retired_gp, intern, coordinator ou nurse."
        values: dict[str, Any] = {
            "role": role,
            "first_name": c.text("first_name", required=True, max_len=80, label="Le prénom"),
            "last_name": c.text("last_name", required=True, max_len=80, label="Le nom"),
            "email": c.email("email"),
            "phone": c.phone("phone"),
        }
        rpps = clean_rpps(c.text("rpps", required=True, label="Le numéro RPPS"))
        if rpps and "rpps" not in c.errors:
            if msg := rpps_error(rpps):
                c.errors["rpps"] = msg
            else:
                clash = select(Clinician.id).where(Clinician.rpps == rpps)
                if current is not None:
                    clash = clash.where(Clinician.id != current.id)
                if session.scalar(clash) is not None:
                    c.errors["rpps"] = "Ce numéro RPPS est déjà enregistré pour un autre praticien."
        values["rpps"] = rpps

        home_text = c.text("home_commune", required=True, label="La commune de résidence")
        home = france().resolve(home_text) if home_text else None
        if home_text and home is None:
            c.errors["home_commune"] = f"Commune inconnue ou ambiguë : « {home_text} » (précisez le code INSEE)."
        values["home_commune_insee"] = home.insee if home else ""

        site_ids = [c_id for c_id in c.strings("site_ids")]
        sites: list[Site] = []
        if site_ids:
            parsed = []
            for raw in site_ids:
                sub = Collector({"x": raw})
                sid = sub.uuid("x")
                if sid is None:
                    c.errors["site_ids"] = "Antenne inconnue."
                else:
                    parsed.append(sid)
            if parsed:
                sites = list(session.scalars(select(Site).where(Site.id.in_(parsed)).order_by(Site.name)))
                if len(sites) != len(set(parsed)):
                    c.errors["site_ids"] = "Antenne inconnue."
        values["sites"] = sites
        main_site_id = c.uuid("main_site_id", label="L'antenne principale")
        if main_site_id is not None and main_site_id not in {s.id for s in sites}:
            c.errors["main_site_id"] = "L'antenne principale doit faire partie des antennes autorisées."
        values["main_site_id"] = main_site_id or (sites[0].id if sites else None)

        max_w = c.integer(
            "max_halfdays_per_week",
            default=4,
            minimum=0,
            maximum=MAX_HALFDAYS_PER_WEEK,
            label="Le maximum de demi-journées par semaine",
        )
        target_w = c.integer(
            "target_halfdays_per_week",
            default=min(3, max_w),
            minimum=0,
            maximum=MAX_HALFDAYS_PER_WEEK,
            label="L'objectif de demi-journées par semaine",
        )
        if "target_halfdays_per_week" not in c.errors and "max_halfdays_per_week" not in c.errors and target_w > max_w:
            c.errors["target_halfdays_per_week"] = "L'objectif ne peut pas dépasser le maximum hebdomadaire."
        values.update(max_halfdays_per_week=max_w, target_halfdays_per_week=target_w)
        values["panel_cap"] = c.integer(
            "panel_cap", default=0, minimum=0, maximum=5000, label="Le plafond de patientèle"
        )
        values["home_visits"] = c.boolean("home_visits")
        radius = c.integer(
            "home_visit_radius_km", default=0, minimum=0, maximum=100, label="Le rayon des visites à domicile"
        )
        if values["home_visits"] and radius == 0 and "home_visit_radius_km" not in c.errors:
            c.errors["home_visit_radius_km"] = "Indiquez le rayon des visites à domicile (en km)."
        values["home_visit_radius_km"] = radius

        active_from = c.date("active_from", label="La date d'entrée") or dt.date.today()
        active_to = c.date("active_to", label="La date de sortie")
        if active_to is not None and active_to < active_from and "active_to" not in c.errors:
            c.errors["active_to"] = "La date de sortie doit suivre la date d'entrée."
        values.update(active_from=active_from, active_to=active_to)

        is_supervisor = c.boolean("is_supervisor")
        supervisor_id = c.uuid("supervisor_id", label="Le superviseur")
        university = c.strings("university_halfdays")
        semester_start = c.date("semester_start", label="Le début de semestre")
        semester_end = c.date("semester_end", label="La fin de semestre")
        intern_outcome = c.text("intern_outcome", max_len=10, label="Le devenir")
        if intern_outcome not in INTERN_OUTCOMES:
            c.errors["intern_outcome"] = "Devenir inconnu."
        if role == ClinicianRole.INTERN:
            if is_supervisor:
                c.errors["is_supervisor"] = "Un interne ne peut pas être superviseur."
            if semester_start is None and "semester_start" not in c.errors:
                c.errors["semester_start"] = "Le début de semestre est obligatoire pour un interne."
            if semester_end is None and "semester_end" not in c.errors:
                c.errors["semester_end"] = "La fin de semestre est obligatoire pour un interne."
            if semester_start and semester_end and semester_end <= semester_start:
                c.errors["semester_end"] = "La fin de semestre doit suivre son début."
            bad = [h for h in university if h not in WORKING_HALFDAYS]
            if bad:
                c.errors["university_halfdays"] = "Demi-journées inconnues : " + ", ".join(bad)
            if supervisor_id is None and "supervisor_id" not in c.errors:
                c.errors["supervisor_id"] = "Un interne SASPAS doit avoir un superviseur nommé."
            elif supervisor_id is not None:
                sup = session.get(Clinician, supervisor_id)
                if sup is None or not (sup.is_supervisor or sup.role == ClinicianRole.COORDINATOR):
                    c.errors["supervisor_id"] = "Le superviseur doit être le coordonnateur ou un médecin superviseur."
        else:
            supervisor_id, semester_start, semester_end, university = None, None, None, []
            intern_outcome = ""
        if role == ClinicianRole.COORDINATOR:
            is_supervisor = True
        values.update(
            is_supervisor=is_supervisor,
            supervisor_id=supervisor_id,
            semester_start=semester_start,
            semester_end=semester_end,
            intern_outcome=intern_outcome,
            university_halfdays=sort_halfdays([h for h in university if h in WORKING_HALFDAYS]),
        )
        if c.errors:
            raise FieldErrors(c.errors)
        return values

    def create_clinician(self, data: Mapping[str, Any]) -> Clinician:
        values = self.clean(data)
        clinician = Clinician(**values)
        self.repository.session.add(clinician)
        self.repository.session.commit()
        return clinician

    def update_clinician(self, clinician: Clinician, data: Mapping[str, Any]) -> Clinician:
        merged = {**self.as_input(clinician), **data}
        for key, value in self.clean(merged, current=clinician).items():
            setattr(clinician, key, value)
        self.repository.session.commit()
        return clinician

    @staticmethod
    def as_input(cl: Clinician) -> dict[str, Any]:
        return {
            "role": cl.role,
            "first_name": cl.first_name,
            "last_name": cl.last_name,
            "rpps": cl.rpps,
            "email": cl.email,
            "phone": cl.phone,
            "home_commune": cl.home_commune_insee,
            "site_ids": [str(s.id) for s in cl.sites],
            "main_site_id": str(cl.main_site_id) if cl.main_site_id else "",
            "max_halfdays_per_week": cl.max_halfdays_per_week,
            "target_halfdays_per_week": cl.target_halfdays_per_week,
            "panel_cap": cl.panel_cap,
            "home_visits": cl.home_visits,
            "home_visit_radius_km": cl.home_visit_radius_km,
            "active_from": cl.active_from.isoformat(),
            "active_to": cl.active_to.isoformat() if cl.active_to else "",
            "is_supervisor": cl.is_supervisor,
            "supervisor_id": str(cl.supervisor_id) if cl.supervisor_id else "",
            "semester_start": cl.semester_start.isoformat() if cl.semester_start else "",
            "semester_end": cl.semester_end.isoformat() if cl.semester_end else "",
            "university_halfdays": list(cl.university_halfdays),
            "intern_outcome": cl.intern_outcome,
        }
