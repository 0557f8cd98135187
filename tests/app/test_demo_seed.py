"""The demo clinic: the reference Mayenne SMP, deterministic, idempotent, realistic shares."""

import datetime as dt
import random

from sqlalchemy import func, select

from app.accounts.models import User
from app.clinicians.models import Clinician
from app.core.identifiers import nir_error, rpps_error
from app.patients.models import Patient
from app.sites.models import Site
from app.web.territory import current_territory
from seeds.demo import _patient_rows, seed_demo


def test_the_demo_clinic_has_the_mayenne_smp_team_and_five_real_sites(db, demo):
    sites = db.scalars(select(Site)).all()
    assert {s.name for s in sites} >= {"Laval", "Château-Gontier-sur-Mayenne", "Mayenne", "Évron", "Ernée"}
    laval = next(s for s in sites if s.name == "Laval")
    assert laval.commune_insee == "53130" and laval.rooms == 4 and "sat-am" in laval.opening_halfdays
    roles = dict(
        db.execute(
            select(Clinician.role, func.count()).where(Clinician.rpps.like("199%")).group_by(Clinician.role)
        ).all()
    )
    assert roles == {"retired_gp": 12, "intern": 2, "coordinator": 1}
    accounts = dict(
        db.execute(
            select(User.role, func.count()).where(User.email.like("%@smp53.example.fr")).group_by(User.role)
        ).all()
    )
    assert accounts["secretary"] == 2 and accounts["committee"] == 1 and accounts["partner"] == 1
    for c in db.scalars(select(Clinician).where(Clinician.rpps.like("199%"))):
        assert rpps_error(c.rpps) is None
        if c.role == "intern":
            assert c.supervisor is not None and c.supervisor.is_supervisor
            assert c.semester_start and c.semester_end and c.university_halfdays


def test_seeding_again_adds_nothing(db, demo):
    before = db.scalar(select(func.count()).select_from(Patient))
    report = seed_demo(db, current_territory(), patients=400, seed=53)
    db.commit()
    assert report.patients_created == 0
    assert db.scalar(select(func.count()).select_from(Patient)) == before
    assert db.scalar(select(func.count()).select_from(Site).where(Site.name == "Laval")) == 1


def _strip(rows):
    return [{k: v for k, v in r.items() if k not in {"id", "created_at", "updated_at", "requested_at"}} for r in rows]


def test_patients_are_deterministic_for_a_seed_and_differ_for_another(db, demo):
    clinicians = db.scalars(select(Clinician)).unique().all()
    today = dt.date(2026, 11, 27)
    a = _patient_rows(random.Random(7), current_territory(), clinicians, 300, today)
    b = _patient_rows(random.Random(7), current_territory(), clinicians, 300, today)
    c = _patient_rows(random.Random(8), current_territory(), clinicians, 300, today)
    assert _strip(a) == _strip(b)
    assert _strip(a) != _strip(c)


def test_synthetic_patients_follow_the_cpts_shares_and_live_in_real_communes(db, demo):
    clinicians = db.scalars(select(Clinician)).unique().all()
    today = dt.date(2026, 11, 27)
    rows = _patient_rows(random.Random(53), current_territory(), clinicians, 20_000, today)
    n = len(rows)

    def age(r):
        b = r["birth_date"]
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))

    share = lambda pred: sum(1 for r in rows if pred(r)) / n  # noqa: E731
    assert 0.515 <= share(lambda r: age(r) < 16) <= 0.545
    assert 0.040 <= share(lambda r: r["ald"]) <= 0.060
    assert 0.033 <= share(lambda r: age(r) >= 70) <= 0.047
    assert 0.062 <= share(lambda r: r["c2s"]) <= 0.078
    territory = current_territory()
    assert all(r["commune_insee"] in territory for r in rows)
    # Weighted by population: Laval (a sixth of Mayenne) holds far more patients than a village.
    laval = sum(1 for r in rows if r["commune_insee"] == "53130") / n
    assert 0.12 < laval < 0.20
    assert all(nir_error(r["nir"]) is None for r in rows if r["nir"])


def test_assigned_demo_patients_never_exceed_a_clinicians_panel_cap(db, demo):
    rows = db.execute(
        select(Clinician.panel_cap, func.count(Patient.id))
        .join(Patient, Patient.referring_clinician_id == Clinician.id)
        .group_by(Clinician.id, Clinician.panel_cap)
    ).all()
    assert rows, "the demo has patients with a referring doctor"
    assert all(count <= cap for cap, count in rows)
