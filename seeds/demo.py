"""The demo clinic: the Mayenne SMP with real towns and synthetic people.

Deterministic (same ``seed`` → same data) and idempotent (running it again adds nothing that is
already there). Patients are generated with the shares the CPTS diagnosis gives among patients
without a GP: about 53 % under 16, 5 % ALD, 4 % aged 70 or more, 7 % C2S (see docs/data.md).
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session
from uuid_utils.compat import uuid7

from app.accounts.models import Role, User
from app.accounts.security import hash_password
from app.audit import recorder
from app.clinicians.models import Clinician, ClinicianRole
from app.core.identifiers import luhn_check_digit, nir_key
from app.db.engine import analyze
from app.patients.models import Channel, Patient, PatientEvent, PatientStatus
from app.sites.models import Site
from seeds import names
from sites.catalogue import SiteSpec, parse_catalogue
from sites.communes import Commune, Territory, normalise

DEMO_PASSWORD = "demo-smp-2026"
"""The password of every demo account (printed in the README; never use the demo in production)."""

WEEKDAYS = (
    "mon-am",
    "mon-pm",
    "tue-am",
    "tue-pm",
    "wed-am",
    "wed-pm",
    "thu-am",
    "thu-pm",
    "fri-am",
    "fri-pm",
)

SITES_FILE = Path(__file__).resolve().parent / "data" / "mayenne_sites.csv"
"""The demo's site catalogue: Laval and four antennas in real Mayenne towns."""

# (role, sites by index in SITES, max, target, panel cap, supervisor, home visits radius)
CLINICIANS: tuple[tuple[str, tuple[int, ...], int, int, int, bool, int], ...] = (
    ("coordinator", (0, 1, 2), 6, 5, 550, True, 0),
    ("retired_gp", (0,), 4, 3, 800, True, 10),
    ("retired_gp", (0, 3), 3, 2, 750, False, 0),
    ("retired_gp", (0, 1), 4, 3, 900, True, 15),
    ("retired_gp", (1,), 3, 2, 700, False, 10),
    ("retired_gp", (1, 0), 4, 3, 850, False, 0),
    ("retired_gp", (2,), 4, 3, 800, False, 15),
    ("retired_gp", (2, 4), 3, 2, 650, False, 0),
    ("retired_gp", (4, 2), 4, 3, 900, False, 20),
    ("retired_gp", (3, 0), 3, 2, 750, False, 0),
    ("retired_gp", (0,), 2, 2, 800, False, 0),
    ("retired_gp", (3,), 3, 2, 700, False, 10),
    ("retired_gp", (0, 2), 4, 3, 850, False, 0),
    ("intern", (0,), 6, 5, 0, False, 0),
    ("intern", (0, 1), 6, 5, 0, False, 0),
)


@dataclass
class SeedReport:
    sites: int = 0
    clinicians: int = 0
    users: int = 0
    patients_created: int = 0
    patients_total: int = 0
    sessions_published: int = 0
    bookings: int = 0
    seconds: float = 0.0
    accounts: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sites": self.sites,
            "clinicians": self.clinicians,
            "users": self.users,
            "patients_created": self.patients_created,
            "patients_total": self.patients_total,
            "sessions_published": self.sessions_published,
            "bookings": self.bookings,
            "seconds": round(self.seconds, 2),
            "accounts": self.accounts,
        }


def demo_rpps(rng: random.Random) -> str:
    body = "199" + "".join(str(rng.randrange(10)) for _ in range(7))
    return body + luhn_check_digit(body)


def demo_nir(rng: random.Random, sex: str, birth: dt.date, commune: Commune) -> str:
    dep = commune.insee[:2]
    com = commune.insee[2:]
    body = f"{1 if sex == 'M' else 2}{birth.year % 100:02d}{birth.month:02d}{dep}{com}{rng.randrange(1, 1000):03d}"
    return body + nir_key(body)


def site_from_spec(spec: SiteSpec) -> Site:
    return Site(
        name=spec.name,
        commune_insee=spec.commune.insee,
        address=spec.address,
        lat=spec.commune.lat,
        lon=spec.commune.lon,
        rooms=spec.rooms,
        opening_halfdays=list(spec.open),
        pmr_access=spec.pmr,
        slot_minutes=spec.slot_minutes,
        phone=spec.phone,
        active=True,
    )


def current_semester_start(today: dt.date) -> dt.date:
    """Intern semesters start early in May and early in November."""
    may, nov = dt.date(today.year, 5, 2), dt.date(today.year, 11, 2)
    if today >= nov:
        return nov
    return may if today >= may else dt.date(today.year - 1, 11, 2)


def _seed_sites(session: Session, territory: Territory, report: SeedReport) -> list[Site]:
    sites = []
    for spec in parse_catalogue(SITES_FILE, territory):
        site = session.scalar(select(Site).where(Site.name == spec.name))
        if site is None:
            site = site_from_spec(spec)
            session.add(site)
        sites.append(site)
    session.flush()
    report.sites = len(sites)
    return sites


def _home_near(rng: random.Random, territory: Territory, site: Site, max_km: float = 25) -> Commune:
    near = [c for c in territory.communes if c.distance_km(territory.by_insee(site.commune_insee)) <= max_km]  # type: ignore[arg-type]
    return rng.choices(near, weights=[c.population for c in near])[0]


def _seed_clinicians(
    session: Session,
    rng: random.Random,
    territory: Territory,
    sites: list[Site],
    today: dt.date,
    report: SeedReport,
) -> list[Clinician]:
    clinicians: list[Clinician] = []
    used_names: set[str] = set()
    coordinator: Clinician | None = None
    for i, (role, site_idx, max_w, target_w, cap, supervisor, radius) in enumerate(CLINICIANS):
        sex = rng.choice("FM")
        first = rng.choice(names.FEMALE if sex == "F" else names.MALE)
        last = rng.choice([n for n in names.SURNAMES if n not in used_names])
        used_names.add(last)
        rpps = demo_rpps(rng)
        home = _home_near(rng, territory, sites[site_idx[0]])
        existing = session.scalar(select(Clinician).where(Clinician.rpps == rpps))
        if existing is not None:
            clinicians.append(existing)
            if role == ClinicianRole.COORDINATOR:
                coordinator = existing
            continue
        semester_start = current_semester_start(today)
        c = Clinician(
            role=role,
            first_name=first,
            last_name=last,
            rpps=rpps,
            email=f"{normalise(first).replace(' ', '-')}.{normalise(last).replace(' ', '-')}@smp53.example.fr",
            phone=f"06 {rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}",
            is_supervisor=supervisor,
            home_commune_insee=home.insee,
            main_site_id=sites[site_idx[0]].id,
            max_halfdays_per_week=max_w,
            target_halfdays_per_week=target_w,
            panel_cap=cap,
            home_visits=radius > 0,
            home_visit_radius_km=radius,
            active_from=dt.date(2017, 6, 1)
            if role == ClinicianRole.COORDINATOR
            else today - dt.timedelta(days=rng.randrange(60, 2400)),
            sites=[sites[j] for j in site_idx],
        )
        if role == ClinicianRole.INTERN:
            c.semester_start = semester_start
            c.semester_end = semester_start + dt.timedelta(days=181)
            c.active_from = semester_start
            c.active_to = c.semester_end
            c.university_halfdays = ["thu-pm"] if i % 2 else ["tue-pm"]
            c.supervisor = coordinator
        session.add(c)
        clinicians.append(c)
        if role == ClinicianRole.COORDINATOR:
            coordinator = c
    session.flush()
    report.clinicians = len(clinicians)
    return clinicians


def _seed_users(session: Session, clinicians: list[Clinician], report: SeedReport) -> None:
    coordinator = next(c for c in clinicians if c.role == ClinicianRole.COORDINATOR)
    gps = [c for c in clinicians if c.role == ClinicianRole.RETIRED_GP]
    interns = [c for c in clinicians if c.role == ClinicianRole.INTERN]
    accounts: list[tuple[str, str, str, Clinician | None, str]] = [
        ("admin", Role.ADMIN, "Administrateur SMP", None, ""),
        ("coordination", Role.COORDINATOR, coordinator.display_name, coordinator, ""),
        ("secretariat1", Role.SECRETARY, "Secrétariat Laval", None, ""),
        ("secretariat2", Role.SECRETARY, "Secrétariat antennes", None, ""),
        ("medecin", Role.CLINICIAN, gps[0].display_name, gps[0], ""),
        ("interne", Role.CLINICIAN, interns[0].display_name, interns[0], ""),
        ("comite", Role.COMMITTEE, "Comité de pilotage", None, ""),
        ("pharmacie", Role.PARTNER, "Pharmacie du Centre", None, "Pharmacie du Centre, Laval"),
    ]
    password_hash: str | None = None
    for username, role, full_name, clinician, org in accounts:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            password_hash = password_hash or hash_password(DEMO_PASSWORD)
            session.add(
                User(
                    username=username,
                    role=role,
                    full_name=full_name,
                    password_hash=password_hash,
                    clinician_id=clinician.id if clinician else None,
                    organisation=org,
                    email=f"{username}@smp53.example.fr",
                )
            )
        report.accounts.append({"username": username, "role": str(role), "password": DEMO_PASSWORD})
    session.flush()
    report.users = len(accounts)


def _age_years(rng: random.Random) -> int:
    draw = rng.random()
    if draw < 0.53:
        return rng.randrange(0, 16)
    if draw < 0.57:
        return rng.randrange(70, 96)
    return rng.randrange(16, 70)


def _patient_rows(
    rng: random.Random, territory: Territory, clinicians: list[Clinician], n: int, today: dt.date
) -> list[dict[str, Any]]:
    communes = territory.communes
    weights = [c.population for c in communes]
    home = rng.choices(communes, weights=weights, k=n)
    referring = [c for c in clinicians if c.panel_cap > 0 and c.main_site is not None]
    where = {c.id: (c.main_site.lat, c.main_site.lon) for c in referring if c.main_site is not None}
    panel_left = {c.id: c.panel_cap for c in referring}
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    rows = []
    for i in range(n):
        sex = rng.choice("FM")
        age = _age_years(rng)
        birth = today - dt.timedelta(days=age * 365 + rng.randrange(0, 365))
        first = rng.choice(names.FEMALE if sex == "F" else names.MALE)
        last = rng.choice(names.SURNAMES)
        commune = home[i]
        # ALD is rarer in children and commoner in the old; overall about 5 % of patients without a GP.
        ald = rng.random() < (0.02 if age < 16 else 0.20 if age >= 70 else 0.07)
        days_ago = int(rng.triangular(0, 730, 30))
        requested = now - dt.timedelta(days=days_ago, minutes=rng.randrange(0, 24 * 60))
        draw = rng.random()
        if days_ago > 120 and draw < 0.62:
            status = PatientStatus.ASSIGNED if draw < 0.55 else PatientStatus.DECLARED
        elif draw < 0.03:
            status = PatientStatus.EXCLUDED
        elif days_ago < 14 and draw < 0.5:
            status = PatientStatus.REQUESTED
        else:
            status = PatientStatus.WAITING
        doctor = None
        if status in (PatientStatus.ASSIGNED, PatientStatus.DECLARED):
            candidates = [c for c in referring if panel_left[c.id] > 0]
            if candidates:
                doctor = min(
                    candidates,
                    key=lambda c: (
                        (where[c.id][0] - commune.lat) ** 2 + (where[c.id][1] - commune.lon) ** 2 + rng.random() * 0.01
                    ),
                )
                panel_left[doctor.id] -= 1
            else:
                status = PatientStatus.WAITING
        rows.append(
            {
                "id": uuid.UUID(bytes=uuid7().bytes),
                "reference": f"SMP-{requested.year}-{i + 1:06d}",
                "first_name": first,
                "last_name": last,
                "search_name": normalise(f"{last} {first}"),
                "birth_date": birth,
                "sex": sex,
                "commune_insee": commune.insee,
                "address": f"{rng.randrange(1, 80)} {rng.choice(names.STREETS)}",
                "phone": f"0{rng.choice('67')} " + " ".join(str(rng.randrange(10, 99)) for _ in range(4)),
                "email": f"patient{i + 1}@example.org" if rng.random() < 0.3 else None,
                "nir": demo_nir(rng, sex, birth, commune) if rng.random() < 0.7 else None,
                "ald": ald,
                "c2s": rng.random() < 0.07,
                "fragile": rng.random() < (0.12 if age >= 70 else 0.01),
                "needs_home_visit": rng.random() < (0.15 if age >= 80 else 0.003),
                "needs_pmr": rng.random() < (0.06 if age >= 70 else 0.008),
                "channel": rng.choices(list(Channel), weights=[30, 20, 25, 5, 20])[0].value,
                "status": status.value,
                "requested_at": requested,
                "referring_clinician_id": doctor.id if doctor else None,
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


def _event_rows(rng: random.Random, patients: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each synthetic patient's history, consistent with their status: the request, then the
    waiting list or the exclusion, then the assignment (and the signature) some weeks later — so
    that the committee's monthly curves have a past to show."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    rows: list[dict[str, Any]] = []

    def add(row: dict[str, Any], before: str, after: str, at: dt.datetime) -> None:
        rows.append(
            {
                "id": uuid.UUID(bytes=uuid7().bytes),
                "patient_id": row["id"],
                "from_status": before,
                "to_status": after,
                "actor": "démo",
                "note": "",
                "occurred_at": min(at, now),
                "created_at": now,
                "updated_at": now,
            }
        )

    for row in patients:
        start: dt.datetime = row["requested_at"]
        span = max((now - start).total_seconds(), 3600.0)
        add(row, "", "requested", start)
        status = row["status"]
        if status == "requested":
            continue
        if status == "excluded":
            add(row, "requested", "excluded", start + dt.timedelta(seconds=span * 0.05))
            continue
        waiting_at = start + dt.timedelta(seconds=span * rng.uniform(0.01, 0.05))
        add(row, "requested", "waiting", waiting_at)
        if status in ("assigned", "declared"):
            assigned_at = waiting_at + dt.timedelta(seconds=(now - waiting_at).total_seconds() * rng.uniform(0.2, 0.9))
            add(row, "waiting", "assigned", assigned_at)
            if status == "declared":
                add(row, "assigned", "declared", assigned_at + dt.timedelta(days=rng.randint(3, 21)))
    return rows


# Wanted sessions per opening half-day (rooms minus a margin): Laval fills 2 of its 4 rooms.
SITE_TARGETS = {"Laval": 2, "Château-Gontier-sur-Mayenne": 1, "Mayenne": 1, "Évron": 1, "Ernée": 1}


def _seed_availability(session: Session, rng: random.Random, clinicians: list[Clinician], today: dt.date) -> None:
    """A weekly pattern per clinician (in force since a month ago), a week of leave, a one-off half-day."""
    from app.availability.models import AvailabilityException, AvailabilityExtra, AvailabilityPattern

    valid_from = today - dt.timedelta(days=30)
    for c in clinicians:
        exists = session.scalar(select(AvailabilityPattern.id).where(AvailabilityPattern.clinician_id == c.id).limit(1))
        openings = sorted({h for s in c.sites for h in s.opening_halfdays} - set(c.university_halfdays))
        if c.role == ClinicianRole.RETIRED_GP:
            count = min(len(openings), rng.randint(c.target_halfdays_per_week + 1, c.max_halfdays_per_week + 2))
        else:
            count = min(len(openings), c.max_halfdays_per_week + 2)
        chosen = rng.sample(openings, count)
        levels = {h: ("preferred" if rng.random() < 0.45 else "available") for h in chosen}
        if exists is None:
            session.add(
                AvailabilityPattern(
                    clinician_id=c.id,
                    valid_from=valid_from,
                    levels=levels,
                    preferred_site_ids=[str(c.main_site_id)] if c.main_site_id else [],
                )
            )
    gps = [c for c in clinicians if c.role == ClinicianRole.RETIRED_GP]
    on_leave, one_off = gps[2], gps[4]
    leave_start = today + dt.timedelta(days=14 - today.weekday())
    if (
        session.scalar(select(AvailabilityException.id).where(AvailabilityException.clinician_id == on_leave.id))
        is None
    ):
        session.add(
            AvailabilityException(
                clinician_id=on_leave.id,
                start_date=leave_start,
                end_date=leave_start + dt.timedelta(days=6),
                reason="leave",
                note="vacances",
            )
        )
    site = one_off.sites[-1]
    day = today + dt.timedelta(days=1)
    while f"{('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun')[day.weekday()]}-am" not in site.opening_halfdays:
        day += dt.timedelta(days=1)
    if session.scalar(select(AvailabilityExtra.id).where(AvailabilityExtra.clinician_id == one_off.id)) is None:
        session.add(
            AvailabilityExtra(clinician_id=one_off.id, date=day, period="am", site_id=site.id, level="preferred")
        )
    session.flush()


def _publish_demo_rota(session: Session, today: dt.date, weeks: int = 4) -> int:
    """Solve and publish the coming weeks, unless sessions are already published for them."""
    from app.rota import drafts
    from app.rota.models import RotaDraft, RotaSession
    from app.rota.problem import build_problem, item_of
    from scheduling.rota.solver import solve

    end = today + dt.timedelta(days=7 * weeks - 1)
    if session.scalar(select(RotaSession.id).where(RotaSession.date >= today, RotaSession.date <= end).limit(1)):
        return 0
    problem = build_problem(session, today, end, time_limit_s=10)
    solution = solve(problem, time_limit_s=10, seed=0, workers=8)
    if not solution.has_rota:
        return 0
    draft = RotaDraft(
        start_date=today,
        end_date=end,
        created_by="démo",
        assignments=[item_of(k) for k in sorted(solution.assignments)],
    )
    session.add(draft)
    session.flush()
    return drafts.publish(session, draft, "démo").created


def _book_demo_consultations(session: Session, rng: random.Random, today: dt.date, share: float = 0.55) -> int:
    """Book about half of the next two weeks' slots (one booking per patient), if none is booked yet."""
    from app.rota.models import Booking, RotaSession, Slot

    if session.scalar(select(Booking.id).limit(1)) is not None:
        return 0
    now = dt.datetime.now(dt.UTC)
    slots = session.scalars(
        select(Slot)
        .join(RotaSession, RotaSession.id == Slot.session_id)
        .where(
            Slot.status == "open",
            RotaSession.status == "published",
            Slot.starts_at > now,
            RotaSession.date <= today + dt.timedelta(days=13),
        )
        .order_by(Slot.starts_at)
    ).all()
    patients = list(
        session.scalars(
            select(Patient.id)
            .where(Patient.status.in_(["assigned", "declared", "waiting"]))
            .order_by(Patient.reference)
        )
    )
    rng.shuffle(patients)
    patients = patients[: len(patients) // 2]  # not everyone on the list has an appointment yet
    kinds = ["office"] * 17 + ["home_visit", "teleconsultation", "teleconsultation"]
    count = 0
    for slot in slots:
        if count >= len(patients):
            break
        if rng.random() < share:
            session.add(Booking.for_slot(slot, patients[count], kind=rng.choice(kinds), booked_by="démo"))
            count += 1
    session.flush()
    return count


def _seed_cpts_side(session: Session, territory: Territory, rng: random.Random, today: dt.date) -> None:
    """The CPTS side of the same installation: a census of the Mayenne GPs who are not SMP staff."""
    from app.cpts.models import CptsProfile
    from seeds.cpts import seed_census

    if session.scalar(select(CptsProfile.id).limit(1)) is None:
        session.add(
            CptsProfile(
                name="Service Médical de Proximité de la Mayenne",
                phone="02 43 00 53 53",
                email="smp@smp53.example.fr",
                address="Laval",
            )
        )
    seed_census(session, list(territory.communes), rng, today, 30)


def seed_demo(
    session: Session,
    territory: Territory,
    *,
    patients: int = 2000,
    seed: int = 53,
    today: dt.date | None = None,
    publish_rota: bool = True,
) -> SeedReport:
    """Build (or complete) the demo clinic in ``session``; the caller commits."""
    started = time.perf_counter()
    today = today or dt.date.today()
    rng = random.Random(seed)
    report = SeedReport()
    sites = _seed_sites(session, territory, report)
    clinicians = _seed_clinicians(session, rng, territory, sites, today, report)
    _seed_users(session, clinicians, report)
    for site in sites:
        if not site.session_targets:
            wanted = SITE_TARGETS.get(site.name, 1)
            site.session_targets = {h: (1 if h == "sat-am" else wanted) for h in site.opening_halfdays}
    _seed_availability(session, random.Random(seed + 1), clinicians, today)
    _seed_cpts_side(session, territory, random.Random(seed + 4), today)
    # Patients come from their own generator, so their data do not depend on what existed before.
    rows = _patient_rows(random.Random(seed * 1_000_003 + patients), territory, clinicians, patients, today)
    existing = set(session.scalars(select(Patient.reference)))
    nirs = set(session.scalars(select(Patient.nir).where(Patient.nir.is_not(None))))
    missing = []
    for row in rows:
        if row["reference"] in existing:
            continue
        if row["nir"] in nirs:
            row["nir"] = None
        nirs.add(row["nir"])
        missing.append(row)
    batch = 5000
    for start in range(0, len(missing), batch):
        session.execute(insert(Patient), missing[start : start + batch])
    events = _event_rows(random.Random(seed + 3), missing)
    for start in range(0, len(events), batch):
        session.execute(insert(PatientEvent), events[start : start + batch])
    if missing:
        recorder.record(session, "bulk_create", "patient", "*", f"démo : {len(missing)} patients synthétiques")
    report.patients_created = len(missing)
    report.patients_total = session.scalar(select(func.count()).select_from(Patient)) or 0
    if publish_rota:
        report.sessions_published = _publish_demo_rota(session, today)
        report.bookings = _book_demo_consultations(session, random.Random(seed + 2), today)
    if report.patients_created or report.sessions_published:
        analyze(session)
    report.seconds = time.perf_counter() - started
    return report
