"""Clinician pages (coordinator): creation with RPPS, contract and intern rules."""

import uuid

import pytest
from sqlalchemy import func, select

from app.clinicians.models import Clinician
from app.core.identifiers import luhn_check_digit
from app.sites.models import Site
from tests.conftest import post_form


def fresh_rpps() -> str:
    body = "188" + str(uuid.uuid4().int)[:7]
    return body + luhn_check_digit(body)


def _form(db, **over):
    laval = db.scalar(select(Site).where(Site.name == "Laval"))
    data = {
        "role": "retired_gp",
        "first_name": "Odile",
        "last_name": f"Test{uuid.uuid4().hex[:5]}",
        "rpps": fresh_rpps(),
        "home_commune": "Bonchamp-lès-Laval",
        "site_ids": [str(laval.id)],
        "max_halfdays_per_week": "4",
        "target_halfdays_per_week": "3",
        "panel_cap": "700",
        "active_from": "2026-09-01",
        "email": "odile@example.fr",
    }
    data.update(over)
    return data


def _count(db):
    db.rollback()
    return db.scalar(select(func.count()).select_from(Clinician))


def test_the_coordinator_adds_a_retired_gp_who_then_appears_in_the_list(as_user, db):
    client = as_user("coordination")
    data = _form(db)
    response = post_form(client, "/clinicians/new", data)
    assert response.status_code in (302, 303), response.text
    assert data["last_name"].upper() in client.get("/clinicians", params={"q": data["last_name"]}).text
    db.rollback()
    created = db.scalar(select(Clinician).where(Clinician.rpps == data["rpps"]))
    assert created.home_commune_insee == "53034" and [s.name for s in created.sites] == ["Laval"]
    assert created.main_site.name == "Laval"


@pytest.mark.parametrize(
    ("over", "field", "message"),
    [
        ({"rpps": "12345678901"}, "rpps", "chiffre de contrôle"),
        ({"rpps": "123"}, "rpps", "11 chiffres"),
        ({"home_commune": "Atlantide"}, "home_commune", "Commune inconnue"),
        (
            {"target_halfdays_per_week": "6", "max_halfdays_per_week": "4"},
            "target_halfdays_per_week",
            "dépasser le maximum",
        ),
        ({"max_halfdays_per_week": "12"}, "max_halfdays_per_week", "inférieur ou égal à 11"),
        ({"panel_cap": "-5"}, "panel_cap", "supérieur ou égal à 0"),
        ({"email": "pas-un-email"}, "email", "adresse e-mail"),
        ({"home_visits": "on", "home_visit_radius_km": "0"}, "home_visit_radius_km", "rayon"),
        ({"role": "intern"}, "supervisor_id", "superviseur nommé"),
        ({"role": "intern"}, "semester_start", "obligatoire pour un interne"),
        ({"active_to": "2020-01-01"}, "active_to", "suivre la date d'entrée"),
    ],
)
def test_a_bad_clinician_form_names_the_faulty_field_and_writes_nothing(as_user, db, over, field, message):
    client = as_user("coordination")
    before = _count(db)
    response = post_form(client, "/clinicians/new", _form(db, **over))
    assert response.status_code == 400
    assert message in response.text.replace("&#39;", "'")
    assert f'href="#f-{field}"' in response.text
    assert _count(db) == before


def test_a_duplicate_rpps_is_refused(as_user, db):
    client = as_user("coordination")
    existing = db.scalar(select(Clinician.rpps).limit(1))
    response = post_form(client, "/clinicians/new", _form(db, rpps=existing))
    assert response.status_code == 400 and "déjà enregistré" in response.text


def test_an_intern_needs_a_supervisor_who_is_one(as_user, db):
    client = as_user("coordination")
    not_supervisor = db.scalar(
        select(Clinician).where(Clinician.role == "retired_gp", Clinician.is_supervisor.is_(False)).limit(1)
    )
    coordinator = db.scalar(select(Clinician).where(Clinician.role == "coordinator"))
    base = _form(
        db, role="intern", semester_start="2026-11-02", semester_end="2027-05-01", university_halfdays=["thu-pm"]
    )
    refused = post_form(client, "/clinicians/new", {**base, "supervisor_id": str(not_supervisor.id)})
    assert refused.status_code == 400 and "coordonnateur ou un médecin superviseur" in refused.text
    accepted = post_form(client, "/clinicians/new", {**base, "supervisor_id": str(coordinator.id)})
    assert accepted.status_code in (302, 303), accepted.text
    db.rollback()
    intern = db.scalar(select(Clinician).where(Clinician.rpps == base["rpps"]))
    assert intern.supervisor_id == coordinator.id and intern.university_halfdays == ["thu-pm"]


def test_editing_a_clinician_keeps_the_form_values_on_error(as_user, db):
    client = as_user("coordination")
    data = _form(db)
    post_form(client, "/clinicians/new", data)
    db.rollback()
    clinician = db.scalar(select(Clinician).where(Clinician.rpps == data["rpps"]))
    page = client.get(f"/clinicians/{clinician.id}/edit")
    assert data["rpps"] in page.text and "Bonchamp-lès-Laval (53960)" in page.text
    response = post_form(client, f"/clinicians/{clinician.id}/edit", {**data, "first_name": "Odette", "panel_cap": "x"})
    assert response.status_code == 400 and 'value="Odette"' in response.text
    ok = post_form(client, f"/clinicians/{clinician.id}/edit", {**data, "first_name": "Odette"})
    assert ok.status_code in (302, 303)
    db.rollback()
    assert db.get(Clinician, clinician.id).first_name == "Odette"


@pytest.mark.parametrize("username", ["secretariat1", "medecin", "comite", "pharmacie"])
def test_only_coordination_and_admin_manage_clinicians(as_user, username):
    assert as_user(username).get("/clinicians").status_code == 403
