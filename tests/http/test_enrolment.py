"""From a request to a referring doctor: exclusions recorded at intake, the usual doctor first,
the coordinator's proposals confirmed one by one or in a batch, likely duplicates merged (audited),
and a departing clinician's panel re-assigned."""

import datetime as dt
import uuid

import pytest
from sqlalchemy import delete, func, select

from app.audit.models import AuditEntry
from app.clinicians.models import Clinician
from app.core.identifiers import luhn_check_digit
from app.patients import assignment
from app.patients.lifecycle import change_status
from app.patients.models import AssignmentProposal, Channel, Patient, PatientEvent, PatientRequest
from app.patients.services import submit_request
from app.sites.models import Site
from app.web.territory import current_territory
from tests.conftest import csrf_token


def _name() -> str:
    return "Enr" + "".join(c for c in uuid.uuid4().hex if c.isalpha())[:7]


def _request(db, **over):
    data = {
        "last_name": _name(),
        "first_name": "Claire",
        "birth_date": "1975-05-05",
        "sex": "F",
        "commune": "Laval",
        "phone": "06 11 22 33 44",
        **over,
    }
    return submit_request(db, data, current_territory(), channel=Channel.DESK, actor="tests")


def _waiting(db, **over) -> Patient:
    patient = _request(db, **over).patient
    change_status(db, patient, "waiting", "tests")
    return patient


def _post(client, url, data, page_url):
    page = client.get(page_url)
    return client.post(url, data={**data, "_csrf_token": csrf_token(page.text)}, follow_redirects=True)


def _main(page) -> str:
    """The page's visible text (for failure messages)."""
    import re

    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text[page.text.find("<main") :]))[:1500]


def _fresh(db, model, ident):
    db.rollback()
    db.expire_all()
    return db.get(model, ident)


def test_the_public_form_records_a_request_from_outside_the_territory_and_excludes_it(client, db):
    name = _name()
    page = client.get("/demande")
    data = {
        "last_name": name,
        "first_name": "Hors",
        "birth_date": "1960-02-02",
        "sex": "M",
        "commune": "Rennes",
        "phone": "06 12 12 12 12",
        "consent": "on",
        "_csrf_token": csrf_token(page.text),
    }
    done = client.post("/demande", data=data)
    assert done.status_code == 200, done.text[done.text.find("<main") :]
    assert "hors du territoire" in done.text
    patient = db.scalar(select(Patient).where(Patient.last_name == name))
    assert patient.status == "excluded" and patient.exclusion_reason == "habite hors du territoire"
    assert patient.commune_insee == "35238"
    event = db.scalar(
        select(PatientEvent).where(PatientEvent.patient_id == patient.id, PatientEvent.to_status == "excluded")
    )
    assert event.actor == "système : éligibilité"


def test_a_person_who_says_they_have_a_referring_doctor_is_excluded_with_the_reason(as_user, db):
    client = as_user("secretariat1")
    name = _name()
    form = {"last_name": name, "first_name": "Paul", "birth_date": "1980-03-03", "sex": "M", "commune": "Évron"}
    page = _post(client, "/patients/new", {**form, "phone": "0611111111", "has_gp": "on"}, "/patients/new")
    assert "a déjà un médecin traitant" in page.text
    assert db.scalar(select(Patient.status).where(Patient.last_name == name)) == "excluded"


def test_the_usual_doctor_is_proposed_first_and_the_patient_waits_outside_the_smp_capacity(as_user, db):
    patient = _waiting(db, usual_doctor="Dr Marie Habituel")
    other = _waiting(db, usual_doctor="Dr Jean Habituel")
    today = dt.date.today()
    ids = {p.id for p in assignment.build_problem(db, current_territory(), today).patients}
    db.rollback()  # building the problem writes an audit row: end that transaction
    assert str(patient.id) not in ids and str(other.id) not in ids
    client = as_user("secretariat1")
    url = f"/patients/{patient.id}"
    detail = client.get(url)
    assert "Médecin habituel : Dr Marie Habituel" in detail.text and "proposez-lui d'abord" in detail.text
    declaration = client.get(f"{url}/declaration?doctor=usual")
    assert declaration.status_code == 200 and "Dr Marie Habituel" in declaration.text
    _post(client, f"{url}/usual-doctor", {"outcome": "refused"}, url)
    _post(client, f"/patients/{other.id}/usual-doctor", {"outcome": "accepted"}, f"/patients/{other.id}")
    db.rollback()
    ids = {p.id for p in assignment.build_problem(db, current_territory(), today).patients}
    db.rollback()  # building the problem writes an audit row: end that transaction
    assert str(patient.id) in ids  # refused: now takes a place in the SMP's capacity
    other = _fresh(db, Patient, other.id)
    assert other.status == "left" and other.usual_doctor_outcome == "accepted"
    notes = db.scalars(select(PatientEvent.note).where(PatientEvent.patient_id == other.id)).all()
    assert any("médecin habituel déclaré : Dr Jean Habituel" in n for n in notes)
    again = _post(client, f"/patients/{other.id}/usual-doctor", {"outcome": "refused"}, f"/patients/{other.id}")
    assert "pas (ou plus) à solliciter" in again.text, _main(again)


def test_the_coordinator_computes_proposals_and_confirms_one_then_a_batch(as_user, db):
    first = _waiting(db, ald="on", commune="Évron")
    second = _waiting(db, c2s="on", commune="Craon")
    client = as_user("coordination")
    assert client.get("/patients/match").status_code == 200
    page = _post(client, "/patients/match/run", {}, "/patients/match")
    assert "Propositions calculées" in page.text, _main(page)
    assert "attribué avant votre confirmation" in page.text
    db.rollback()
    proposals = db.scalars(
        select(AssignmentProposal).where(AssignmentProposal.patient_id == first.id).order_by(AssignmentProposal.rank)
    ).all()
    assert 2 <= len(proposals) <= 3 and [p.rank for p in proposals] == list(range(1, len(proposals) + 1))
    assert sum(p.chosen for p in proposals) == 1
    assert [p.km for p in proposals] == sorted(p.km for p in proposals)
    not_chosen = next(p for p in proposals if not p.chosen)
    doctor_id = not_chosen.clinician_id
    done = _post(client, f"/patients/match/{first.id}/confirm", {"clinician": str(doctor_id)}, "/patients/match")
    assert "médecin traitant attribué" in done.text
    first = _fresh(db, Patient, first.id)
    assert first.status == "assigned" and first.referring_clinician_id == doctor_id
    assert db.scalar(select(func.count()).where(AssignmentProposal.patient_id == first.id)) == 0
    stale = _post(client, f"/patients/match/{first.id}/confirm", {"clinician": str(doctor_id)}, "/patients/match")
    assert "Cette proposition n&#39;existe plus" in stale.text, _main(stale)

    # The batch: only this test's second patient is left with proposals, so the batch is theirs.
    db.rollback()  # a stale read snapshot cannot become a write on SQLite
    db.execute(delete(AssignmentProposal).where(AssignmentProposal.patient_id != second.id))
    db.commit()
    chosen = db.scalar(
        select(AssignmentProposal.clinician_id).where(
            AssignmentProposal.patient_id == second.id, AssignmentProposal.chosen.is_(True)
        )
    )
    batch = _post(client, "/patients/match/confirm-all", {}, "/patients/match")
    assert "1 attribution(s) confirmée(s)" in batch.text
    second = _fresh(db, Patient, second.id)
    assert second.status == "assigned" and second.referring_clinician_id == chosen


def test_the_secretariat_cannot_run_the_assignment(as_user):
    client = as_user("secretariat1")
    assert client.get("/patients/match").status_code == 403


def test_likely_duplicates_are_proposed_and_merged_with_an_audit_row(as_user, db):
    base = _name()
    a = _request(db, last_name=f"{base}ond", first_name="Marie", birth_date="1951-07-14", commune="Meslay-du-Maine")
    b = _request(
        db,
        last_name=f"{base}ont",
        first_name="Marie",
        birth_date="1951-07-14",
        commune="Meslay-du-Maine",
        phone="",
        email="marie@example.org",
        ald="on",
    )
    a, b = a.patient, b.patient
    client = as_user("secretariat1")
    listing = client.get("/patients/duplicates")
    assert a.reference in listing.text and b.reference in listing.text
    compare = client.get(f"/patients/duplicates/{a.id}/{b.id}")
    assert compare.status_code == 200 and "Fusionner" in compare.text
    merged = _post(
        client,
        "/patients/duplicates/merge",
        {"keep": str(a.id), "first": str(a.id), "second": str(b.id)},
        f"/patients/duplicates/{a.id}/{b.id}",
    )
    assert "Dossiers fusionnés" in merged.text, _main(merged)
    db.rollback()
    assert db.scalar(select(Patient.id).where(Patient.id == b.id)) is None
    kept = _fresh(db, Patient, a.id)
    assert kept.email == "marie@example.org" and kept.ald and kept.phone  # filled in, flags added, phone kept
    assert db.scalar(select(func.count()).where(PatientRequest.patient_id == a.id)) == 2
    audit = db.scalar(select(AuditEntry).where(AuditEntry.action == "merge", AuditEntry.object_id == str(a.id)))
    assert audit is not None and audit.actor == "secretariat1"
    assert a.reference not in client.get("/patients/duplicates").text


def test_two_different_people_are_not_proposed_again(as_user, db):
    base = _name()
    a = _request(db, last_name=f"{base}in", first_name="Louis", birth_date="2001-01-09", commune="Ernée").patient
    b = _request(db, last_name=f"{base}ain", first_name="Louis", birth_date="2001-01-09", commune="Ernée").patient
    client = as_user("secretariat2")
    assert b.reference in client.get("/patients/duplicates").text
    _post(client, "/patients/duplicates/distinct", {"first": str(b.id), "second": str(a.id)}, "/patients/duplicates")
    assert b.reference not in client.get("/patients/duplicates").text


@pytest.fixture
def departing_gp(db, demo):
    laval = db.scalar(select(Site).where(Site.name == "Laval"))
    body = "177" + str(uuid.uuid4().int)[:7]
    gp = Clinician(
        role="retired_gp",
        first_name="Partant",
        last_name=_name(),
        rpps=body + luhn_check_digit(body),
        home_commune_insee="53130",
        active_from=dt.date(2020, 1, 1),
        panel_cap=10,
        sites=[laval],
        main_site_id=laval.id,
    )
    db.add(gp)
    db.commit()
    return gp


def test_a_departing_clinicians_panel_goes_to_the_others_priority_patients_first(as_user, db, departing_gp):
    panel = [_waiting(db, ald="on"), _waiting(db), _waiting(db, commune="Laval", birth_date="2015-01-01")]
    db.rollback()
    for p in panel:
        p = db.get(Patient, p.id)
        p.referring_clinician_id, p.status = departing_gp.id, "declared"
    db.commit()
    client = as_user("coordination")
    confirm = client.get(f"/patients/match/departure/{departing_gp.id}")
    assert "3 patients ont ce médecin" in confirm.text, _main(confirm)
    assert "1 prioritaire" in confirm.text
    page = _post(
        client, f"/patients/match/departure/{departing_gp.id}", {}, f"/patients/match/departure/{departing_gp.id}"
    )
    assert "3 patient(s) réattribué(s)" in page.text
    db.rollback()
    for p in panel:
        p = _fresh(db, Patient, p.id)
        assert p.referring_clinician_id not in (None, departing_gp.id) and p.status == "assigned"


def test_requests_arriving_together_all_get_a_distinct_reference(engine, demo):
    """Eight requests at the same moment (the public form, the desk, a CPAM import): none fails,
    each gets its own number."""
    from concurrent.futures import ThreadPoolExecutor

    from app.audit.recorder import Actor, acting_as
    from app.db.engine import session_scope

    base = _name()

    def one(i: int) -> str:
        with acting_as(Actor(None, "tests")), session_scope(engine) as session:
            data = {
                "last_name": f"{base}{'abcdefgh'[i]}",
                "first_name": "Simultané",
                "birth_date": "1990-01-01",
                "sex": "M",
                "commune": "Laval",
                "phone": "0600000000",
            }
            return submit_request(
                session, data, current_territory(), channel=Channel.PUBLIC_FORM, actor="t"
            ).patient.reference

    with ThreadPoolExecutor(max_workers=8) as pool:
        references = list(pool.map(one, range(8)))
    assert len(set(references)) == 8


def test_a_merge_refuses_two_records_booked_at_the_same_time(as_user, db):
    from app.booking import services as booking

    base = _name()
    a = _request(db, last_name=f"{base}el", first_name="Rémi", birth_date="1966-06-06", commune="Laval").patient
    b = _request(db, last_name=f"{base}elle", first_name="Rémi", birth_date="1966-06-06", commune="Laval").patient
    rows = db.execute(
        booking.free_slots_query(start=dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).offset(150).limit(2000)
    ).all()
    by_time: dict = {}
    for row in rows:
        by_time.setdefault(row[0].starts_at, []).append(row[0])
    first, second = next(slots for slots in by_time.values() if len(slots) >= 2)[:2]
    first_id, second_id = first.id, second.id
    booking.book(db, first_id, a.id, "office", "tests")
    booking.book(db, second_id, b.id, "office", "tests")
    client = as_user("secretariat1")
    page = _post(
        client,
        "/patients/duplicates/merge",
        {"keep": str(a.id), "first": str(a.id), "second": str(b.id)},
        f"/patients/duplicates/{a.id}/{b.id}",
    )
    assert "se chevauchent" in page.text, _main(page)
    db.rollback()
    assert db.scalar(select(func.count()).where(Patient.id.in_([a.id, b.id]))) == 2


def test_a_departed_doctor_gets_no_more_patients(as_user, db, departing_gp):
    patient = _waiting(db, commune="Laval")
    client = as_user("coordination")
    _post(client, f"/patients/match/departure/{departing_gp.id}", {}, f"/patients/match/departure/{departing_gp.id}")
    gp = _fresh(db, Clinician, departing_gp.id)
    assert gp.panel_cap == 0
    # A proposal left over for a doctor who no longer practises is skipped by the batch.
    gp.active_to = dt.date.today() - dt.timedelta(days=1)
    db.execute(delete(AssignmentProposal))
    db.add(AssignmentProposal(patient_id=patient.id, clinician_id=gp.id, rank=1, km=1.0, chosen=True, tier=3))
    db.commit()
    page = _post(client, "/patients/match/confirm-all", {}, "/patients/match")
    assert "0 attribution(s) confirmée(s) ; 1 passée(s)" in page.text, _main(page)
    assert _fresh(db, Patient, patient.id).status == "waiting"
