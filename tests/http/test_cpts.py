"""CPTS mode through the pages: the census and its history, contact rounds, 2–3 proposals per
patient with the matching module's rules, the GP's answer, departures with their priority
patients and poster, communication material, the action card's indicators, and who may see what."""

import datetime as dt
import re
import uuid

import pytest
from sqlalchemy import func, select

from app.core.dates import PARIS
from app.core.identifiers import luhn_check_digit
from app.cpts import census
from app.cpts.models import CensusEvent, CensusGp, CptsProposal
from app.patients.models import Patient, PatientEvent, PatientStatus
from app.patients.services import tier_of
from app.web.territory import current_territory
from tests.conftest import csrf_token, post_form


def _today() -> dt.date:
    return dt.datetime.now(PARIS).date()


def an_rpps() -> str:
    body = "1" + f"{uuid.uuid4().int % 10**9:09d}"
    return body + luhn_check_digit(body)


def _gp_form(**over):
    data = {
        "last_name": "Lemaître",
        "first_name": "Odile",
        "rpps": an_rpps(),
        "commune": "Évron",
        "accepts": "yes",
        "radius_km": "12",
        "home_visits": "on",
        "phone": "02 43 01 02 03",
    }
    data.update(over)
    return data


def _make_gp(db, commune_insee: str, **over) -> CensusGp:
    """A census GP written through the service (setup for the proposal tests)."""
    db.rollback()
    values = _gp_form(commune=commune_insee, last_name=f"Test{uuid.uuid4().hex[:6]}", **over)
    values = {k: v for k, v in values.items() if v is not None}
    return census.create_gp(db, values, current_territory(), "tests", _today())


def _fresh(db, model, key):
    """The row as the database has it now (the test session may hold an older copy)."""
    db.rollback()
    db.expire_all()
    return db.get(model, key)


def _empty_commune(db) -> str:
    """A Mayenne commune where no census GP practises (so distances 0 km are ours alone)."""
    db.rollback()
    taken = set(db.scalars(select(CensusGp.commune_insee)))
    return next(c.insee for c in current_territory().communes if c.insee not in taken and c.population > 300)


def test_the_census_lists_the_seeded_gps_and_searches_them(as_user, db):
    client = as_user("coordination")
    page = client.get("/cpts")
    assert page.status_code == 200
    db.rollback()
    gp = db.scalars(select(CensusGp).order_by(CensusGp.search_name)).first()
    assert gp.name in page.text
    found = client.get("/cpts", params={"q": gp.last_name.upper()})
    assert gp.name in found.text
    nobody = client.get("/cpts", params={"q": "zzzz-personne"})
    assert "Aucun médecin ne correspond" in nobody.text


@pytest.mark.parametrize(
    ("over", "field", "message"),
    [
        ({"rpps": "12345678901"}, "rpps", "chiffre de contrôle"),
        ({"commune": "Atlantide"}, "commune", "inconnue"),
        ({"accepts": "conditions", "conditions": ""}, "conditions", "Précisez les conditions"),
        ({"radius_km": "", "perimeter_communes": ""}, "radius_km", "périmètre"),
        ({"departure": "retirement", "departure_date": ""}, "departure_date", "date"),
    ],
)
def test_a_bad_census_form_names_the_field_and_writes_nothing(as_user, db, over, field, message):
    client = as_user("secretariat1")
    db.rollback()
    before = db.scalar(select(func.count()).select_from(CensusGp))
    response = post_form(client, "/cpts/gps/new", _gp_form(**over))
    assert response.status_code == 400
    assert f'href="#f-{field}"' in response.text
    assert message in response.text
    db.rollback()
    assert db.scalar(select(func.count()).select_from(CensusGp)) == before


def test_adding_then_editing_a_gp_keeps_every_version_in_the_history(as_user, db):
    client = as_user("coordination")
    form = _gp_form(perimeter_communes="Évron, Mézangers")
    created = post_form(client, "/cpts/gps/new", form)
    assert created.status_code in (302, 303), created.text
    gp_url = created.headers["location"]
    edit = post_form(
        client,
        gp_url + "/edit",
        {**form, "accepts": "conditions", "conditions": "enfants seulement", "home_visits": ""},
        form_url=gp_url + "/edit",
    )
    assert edit.status_code in (302, 303), edit.text
    page = client.get(gp_url)
    assert "accepte sous conditions" in page.text and "enfants seulement" in page.text
    db.rollback()
    gp = db.scalar(select(CensusGp).where(CensusGp.rpps == form["rpps"]))
    assert gp.home_visits is False and len(gp.perimeter_communes) == 2
    offers = [e.accepts for e in census.history(db, gp)]
    assert offers == ["conditions", "yes"]  # newest first: the change is visible
    # The same RPPS cannot be entered twice.
    again = post_form(client, "/cpts/gps/new", _gp_form(rpps=form["rpps"]))
    assert again.status_code == 400 and "déjà au recensement" in again.text


def test_a_contact_answer_takes_the_gp_off_the_recontact_list_in_one_step(as_user, db):
    client = as_user("coordination")
    db.rollback()
    stale = db.scalars(census.to_recontact(_today())).first()
    assert stale is not None, "the demo census has GPs to re-contact"
    listing = client.get("/cpts/recontact")
    assert f'id="gp-{stale.id}"' in listing.text
    token = csrf_token(listing.text)
    # A "conditions" answer without the conditions is refused on the row itself (htmx).
    refused = client.post(
        f"/cpts/gps/{stale.id}/contact",
        data={"answer": "conditions", "_csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert refused.status_code == 400 and "Précisez les conditions" in refused.text
    done = client.post(
        f"/cpts/gps/{stale.id}/contact",
        data={"answer": "yes", "notes": "rappel tour de novembre", "_csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert done.status_code == 200 and "quitte la liste" in done.text
    assert f'id="gp-{stale.id}"' not in client.get("/cpts/recontact").text
    gp = _fresh(db, CensusGp, stale.id)
    assert gp.last_contact_on == _today() and gp.accepts == "yes"
    last = census.history(db, gp)[0]
    assert (last.kind, last.answer, last.actor, last.notes) == (
        "contact",
        "yes",
        "coordination",
        "rappel tour de novembre",
    )


def test_no_answer_is_kept_in_the_history_and_the_gp_stays_to_recontact(as_user, db):
    gp = _make_gp(db, "53097", accepts="no", home_visits=None)
    client = as_user("secretariat1")
    response = post_form(client, f"/cpts/gps/{gp.id}/contact", {"answer": "no_answer"}, form_url=f"/cpts/gps/{gp.id}")
    assert response.status_code in (302, 303)
    gp = _fresh(db, CensusGp, gp.id)
    assert gp.accepts == "no" and gp.last_contact_on is None
    assert census.history(db, gp)[0].answer == "no_answer"
    assert gp.id in set(db.scalars(census.to_recontact(_today()).with_only_columns(CensusGp.id)))  # still listed


def _desk_patient(client, commune_insee: str, **over) -> uuid.UUID:
    phone = f"06 {uuid.uuid4().int % 90 + 10} {uuid.uuid4().int % 90 + 10} 11 22"
    data = {
        "last_name": f"Proposé{uuid.uuid4().hex[:5]}",
        "first_name": "Jeanne",
        "birth_date": "1941-05-02",
        "sex": "F",
        "commune": commune_insee,
        "phone": phone,
    }
    data.update(over)
    response = post_form(client, "/patients/new", data)
    assert response.status_code in (302, 303), response.text
    return uuid.UUID(response.headers["location"].rsplit("/", 1)[1])


def test_proposals_follow_the_rules_and_the_answer_closes_the_request(as_user, db):
    commune = _empty_commune(db)
    fits_first = _make_gp(db, commune, radius_km="5")
    fits_conditions = _make_gp(db, commune, accepts="conditions", conditions="plus de 70 ans", radius_km="5")
    no_home_visits = _make_gp(db, commune, home_visits=None, radius_km="5")
    refuses = _make_gp(db, commune, accepts="no", radius_km="5")
    leaving = _make_gp(db, commune, radius_km="5", departure="retirement", departure_date="2027-03-31")
    client = as_user("secretariat1")
    patient_id = _desk_patient(client, commune, needs_home_visit="on")
    page = client.get(f"/cpts/patients/{patient_id}")
    assert page.status_code == 200
    offered = re.findall(r'name="gp" value="([0-9a-f-]+)"', page.text)
    assert 2 <= len(offered) <= 3
    assert offered[:2] == sorted([str(fits_first.id), str(fits_conditions.id)])  # 0 km, ties by id
    assert not {str(no_home_visits.id), str(refuses.id), str(leaving.id)} & set(offered)
    assert "fait des visites à domicile" in page.text and "accepte sous conditions : plus de 70 ans" in page.text
    db.rollback()
    for gp_id in offered[2:]:  # a third one, farther away, fits the same rules
        gp = db.get(CensusGp, uuid.UUID(gp_id))
        assert gp.home_visits and gp.accepts != "no" and gp.departure_date is None
    token = csrf_token(page.text)
    sent = client.post(
        f"/cpts/patients/{patient_id}/send", data={"gp": offered, "_csrf_token": token}, follow_redirects=False
    )
    assert sent.status_code in (302, 303)
    db.rollback()
    rows = db.scalars(select(CptsProposal).where(CptsProposal.patient_id == patient_id).order_by(CptsProposal.rank))
    rows = list(rows)
    assert [str(r.gp_id) for r in rows] == offered and all(r.answer == "pending" for r in rows)
    # The first refuses: not proposed again; the second accepts: the patient leaves the list.
    page = client.get(f"/cpts/patients/{patient_id}")
    token = csrf_token(page.text)
    client.post(f"/cpts/patients/proposals/{rows[0].id}/answer", data={"answer": "refused", "_csrf_token": token})
    client.post(f"/cpts/patients/proposals/{rows[1].id}/answer", data={"answer": "accepted", "_csrf_token": token})
    patient = _fresh(db, Patient, patient_id)
    assert patient.status == PatientStatus.LEFT
    gp = db.get(CensusGp, rows[1].gp_id)
    note = db.scalars(
        select(PatientEvent.note).where(PatientEvent.patient_id == patient_id).order_by(PatientEvent.occurred_at.desc())
    ).first()
    assert f"pris en charge par {gp.name}" in note
    final = client.get(f"/cpts/patients/{patient_id}")
    assert f"Pris en charge par {gp.name}" in final.text
    # A second answer on a closed request is refused with a message, nothing changes.
    again = client.post(
        f"/cpts/patients/{patient_id}/send", data={"gp": offered[:1], "_csrf_token": csrf_token(final.text)}
    )
    assert again.status_code == 200 and "attend plus de médecin traitant" in again.text


def test_sending_nothing_is_refused_at_the_field(as_user, db):
    client = as_user("secretariat1")
    patient_id = _desk_patient(client, "53130")
    page = client.get(f"/cpts/patients/{patient_id}")
    response = client.post(f"/cpts/patients/{patient_id}/send", data={"_csrf_token": csrf_token(page.text)})
    assert response.status_code == 400 and "Cochez au moins un médecin" in response.text
    db.rollback()
    assert db.scalar(select(func.count()).where(CptsProposal.patient_id == patient_id)) == 0


def test_a_departure_shows_on_the_home_page_and_its_priority_patients_enter_tier_one(as_user, db):
    soon = (_today() + dt.timedelta(days=200)).isoformat()
    gp = _make_gp(db, "53130", departure="retirement", departure_date=soon)
    client = as_user("coordination")
    home = client.get("/")
    assert gp.name in home.text and "départ à la retraite" in home.text
    assert gp.name in client.get("/cpts/departures").text
    page = client.get(f"/cpts/gps/{gp.id}")
    token = csrf_token(page.text)
    suffix = uuid.uuid4().hex[:5]
    bad = (
        "nom;prénom;date de naissance;sexe;commune;ALD\n"
        f"Priorit{suffix};Marcel;12/02/1939;M;Laval;oui\n"
        f"Priorit{suffix};Louise;31/02/1944;F;Laval;non\n"
    )
    db.rollback()
    before = db.scalar(select(func.count()).select_from(Patient))
    refused = client.post(
        f"/cpts/gps/{gp.id}/priority",
        files={"file": ("patients.csv", bad.encode(), "text/csv")},
        data={"_csrf_token": token},
    )
    assert refused.status_code == 400 and "rien n'a été enregistré" in refused.text
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Patient)) == before
    good = bad.replace("31/02/1944", "28/02/1944")
    done = client.post(
        f"/cpts/gps/{gp.id}/priority",
        files={"file": ("patients.csv", good.encode(), "text/csv")},
        data={"_csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code in (302, 303), done.text
    db.rollback()
    imported = db.scalars(select(Patient).where(Patient.departing_gp_id == gp.id)).all()
    assert len(imported) == 2
    assert all(p.status == PatientStatus.WAITING and tier_of(p, _today()) == 1 for p in imported)
    listing = client.get(f"/patients?departing={gp.id}")
    assert f"Priorit{suffix}".upper() in listing.text and "son médecin part" in listing.text


def test_the_departure_poster_counts_the_months_and_carries_a_qr_code(as_user, db):
    day = census.add_months(_today(), 5) + dt.timedelta(days=3)
    gp = _make_gp(db, "53130", departure="retirement", departure_date=day.isoformat())
    client = as_user("coordination")
    poster = client.get(f"/cpts/gps/{gp.id}/poster")
    assert poster.status_code == 200
    assert "Votre médecin part dans 5 mois" in poster.text
    assert "<svg" in poster.text and "/demande" in poster.text
    assert "Service Médical de Proximité de la Mayenne" in poster.text  # the contact printed


def test_site_posters_flyers_and_the_guide_are_printable_with_qr_codes(as_user, db):
    client = as_user("coordination")
    material = client.get("/cpts/material")
    site_ids = re.findall(r'href="/cpts/material/poster/([0-9a-f-]+)"', material.text)
    assert site_ids
    for url in (f"/cpts/material/poster/{site_ids[0]}", f"/cpts/material/flyer/{site_ids[0]}", "/cpts/material/guide"):
        page = client.get(url)
        assert page.status_code == 200 and "<svg" in page.text and "data-print" in page.text, url
    assert "/referrals/new" in client.get("/cpts/material/guide").text
    # The CPTS's contact is edited on the same page; a contact without phone or e-mail is refused.
    bad = post_form(client, "/cpts/profile", {"name": "CPTS test", "phone": "", "email": ""}, form_url="/cpts/material")
    assert bad.status_code == 400 and "Indiquez un téléphone ou un e-mail" in bad.text


def test_the_indicators_chart_every_cpam_list_and_the_committee_may_read_them(as_user, db):
    client = as_user("secretariat1")
    surnames = [f"Indic{uuid.uuid4().hex[:6]}" for _ in range(3)]
    csv_text = "nom;prénom;date de naissance;sexe;commune;ALD;C2S\n" + "".join(
        f"{name};Paul;0{i + 1}/01/{1950 + 30 * (i % 2)};M;Laval;{'oui' if i == 0 else 'non'};non\n"
        for i, name in enumerate(surnames)
    )
    page = client.get("/patients/imports")
    client.post(
        "/patients/imports",
        files={"file": ("liste.csv", csv_text.encode(), "text/csv")},
        data={"_csrf_token": csrf_token(page.text), "mode": "valid_only", "list_date": "2026-01-15"},
    )
    committee = as_user("comite")
    indicators = committee.get("/cpts/indicators")
    assert indicators.status_code == 200
    assert "15 janvier 2026" in indicators.text and "<svg" in indicators.text
    assert not [name for name in surnames if name.upper() in indicators.text.upper()]  # aggregates only


@pytest.mark.parametrize("username", ["medecin", "comite", "pharmacie"])
def test_the_census_and_proposals_are_closed_to_other_roles(as_user, db, username):
    db.rollback()
    gp = db.scalars(select(CensusGp)).first()
    patient = db.scalars(select(Patient)).first()
    client = as_user(username)
    for url in ("/cpts", "/cpts/recontact", f"/cpts/gps/{gp.id}", f"/cpts/patients/{patient.id}", "/cpts/material"):
        assert client.get(url, follow_redirects=False).status_code == 403, url
    if username != "comite":
        assert client.get("/cpts/indicators", follow_redirects=False).status_code == 403


def test_months_and_dates_arithmetic():
    assert census.add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert census.add_months(dt.date(2026, 11, 27), 12) == dt.date(2027, 11, 27)
    assert census.months_until(dt.date(2026, 11, 27), dt.date(2027, 5, 26)) == 5
    assert census.months_until(dt.date(2026, 11, 27), dt.date(2027, 5, 27)) == 6
    assert census.months_until(dt.date(2026, 11, 27), dt.date(2026, 1, 1)) == 0


def test_every_contact_is_kept_with_the_offer_of_its_time(db):
    gp = _make_gp(db, "53130", accepts="yes")
    for answer, conditions in (("conditions", "enfants seulement"), ("no", ""), ("no_answer", "")):
        db.rollback()
        census.record_contact(
            db, db.get(CensusGp, gp.id), {"answer": answer, "conditions": conditions}, "tests", _today()
        )
    db.rollback()
    rows = db.scalars(select(CensusEvent).where(CensusEvent.gp_id == gp.id).order_by(CensusEvent.created_at)).all()
    assert [(r.kind, r.answer, r.accepts) for r in rows] == [
        ("edit", "", "yes"),
        ("contact", "conditions", "conditions"),
        ("contact", "no", "no"),
        ("contact", "no_answer", "no"),
    ]
