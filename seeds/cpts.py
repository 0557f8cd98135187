"""CPTS demo data: a census of the territory's GPs (for any territory), and the Vienne CPTS —
``smp seed demo --cpts`` — with real communes around Loudun, about 40 census GPs and CPAM lists
whose indicators reproduce the action card's diagnosis (see docs/cpts.md).

Deterministic: the same seed gives the same data. Idempotent: a second run adds nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.accounts.security import hash_password
from app.cpts.models import Accepts, CensusEvent, CensusGp, CptsProfile, Departure
from app.patients.cpam import import_list
from app.patients.models import CpamImport
from seeds import names
from seeds.demo import DEMO_PASSWORD, demo_rpps
from sites.communes import Commune, Territory, normalise

CPTS_TOWN = "86137"
"""Loudun (Vienne): the centre of the demo CPTS."""
CPTS_RADIUS_KM = 22.0
"""Every commune of the Vienne within this distance of Loudun makes the CPTS's territory."""
JUNE_2023 = dt.date(2023, 6, 30)
DIAGNOSIS = {"without_gp": 5299, "under_16": 2808, "ald": 267, "over_70": 224, "c2s": 355}
"""The action card's diagnosis for the CPAM list of June 2023."""
LATER = dt.date(2025, 6, 30)
LATER_DIAGNOSIS = {"without_gp": 4912, "under_16": 2603, "ald": 251, "over_70": 216, "c2s": 331}
"""A later synthetic list: every indicator falls a little (the action card's target)."""
WITH_GP_LINES = 120
"""Lines of each list whose person has a referring doctor: excluded, not counted."""
ACTIVITIES = ("pédiatrie", "gériatrie", "médecine du sport", "gynécologie médicale", "addictologie")
CONDITIONS = ("enfants seulement", "habitants de la commune", "familles de patients déjà suivis", "plus de 70 ans")


@dataclass
class CptsReport:
    communes: int = 0
    census: int = 0
    imports: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, str]] = field(default_factory=list)


def _town_near(rng: random.Random, communes: list[Commune]) -> Commune:
    return rng.choices(communes, weights=[max(c.population, 50) for c in communes])[0]


def seed_census(
    session: Session,
    communes: list[Commune],
    rng: random.Random,
    today: dt.date,
    count: int,
    actor: str = "démo",
) -> int:
    """``count`` census GPs practising in ``communes`` (larger towns more likely), with their
    answers over the past year: some to re-contact, three leaving within twelve months. Adds
    nothing when the census already holds GPs."""
    if session.scalar(select(CensusGp.id).limit(1)) is not None:
        return 0
    rpps_seen: set[str] = set()
    for i in range(count):
        sex = rng.choice("FM")
        first = rng.choice(names.FEMALE if sex == "F" else names.MALE)
        last = rng.choice(names.SURNAMES)
        rpps = demo_rpps(rng)
        while rpps in rpps_seen:
            rpps = demo_rpps(rng)
        rpps_seen.add(rpps)
        town = _town_near(rng, communes)
        draw = rng.random()
        accepts = Accepts.YES if draw < 0.4 else Accepts.CONDITIONS if draw < 0.55 else Accepts.NO
        nearby = sorted(
            (c for c in communes if c.insee != town.insee and c.distance_km(town) <= 8), key=town.distance_km
        )
        by_communes = rng.random() < 0.2 and nearby
        gp = CensusGp(
            last_name=last,
            first_name=first,
            search_name=normalise(f"{last} {first}"),
            rpps=rpps,
            address=f"{rng.randrange(1, 80)} {rng.choice(names.STREETS)}",
            commune_insee=town.insee,
            phone=f"05 49 {rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}"
            if town.departement == "86"
            else f"02 43 {rng.randrange(10, 99)} {rng.randrange(10, 99)} {rng.randrange(10, 99)}",
            email="",
            accepts=accepts,
            conditions=rng.choice(CONDITIONS) if accepts == Accepts.CONDITIONS else "",
            radius_km=None if by_communes else float(rng.choice((8, 10, 12, 15, 20))),
            perimeter_communes=sorted([town.insee, *(c.insee for c in nearby[:6])]) if by_communes else [],
            home_visits=rng.random() < 0.5,
            pmr=rng.random() < 0.6,
            activity=rng.choice(ACTIVITIES) if rng.random() < 0.15 else "",
        )
        if i < 3:  # three retirements within the year: the coordinator's home page shows them
            gp.departure = Departure.RETIREMENT
            gp.departure_date = today + dt.timedelta(days=45 + 100 * i)
        elif i == 3:
            gp.departure, gp.departure_date = Departure.MOVE, today + dt.timedelta(days=400)
        session.add(gp)
        session.flush()
        # The history: a first contact a year or so ago, then (for most) a recent one.
        first_contact = today - dt.timedelta(days=rng.randrange(200, 420))
        contacts = [first_contact]
        if rng.random() < 0.6:
            contacts.append(today - dt.timedelta(days=rng.randrange(5, 170)))
        for n, on in enumerate(contacts):
            answer = gp.accepts if n == len(contacts) - 1 else rng.choice(("yes", "no", "conditions"))
            session.add(
                CensusEvent(
                    gp_id=gp.id,
                    kind="contact",
                    occurred_on=on,
                    actor=actor,
                    answer=answer,
                    accepts=answer,
                    conditions=gp.conditions if answer == Accepts.CONDITIONS else "",
                    notes="",
                )
            )
        gp.last_contact_on = contacts[-1]
    session.flush()
    return count


def cpts_communes(territory: Territory) -> list[Commune]:
    """A contiguous set of real communes: those of the Vienne within 22 km of Loudun."""
    centre = territory.by_insee(CPTS_TOWN)
    if centre is None:
        raise ValueError(
            "Le territoire de démonstration CPTS est dans la Vienne (86) : lancez la commande avec "
            "SMP_DEPARTEMENTS=86 (et une base de données à part), voir le README."
        )
    return sorted(
        (c for c in territory.communes if c.departement == "86" and c.distance_km(centre) <= CPTS_RADIUS_KM),
        key=lambda c: c.insee,
    )


def _exact_flags(rng: random.Random, n: int, k: int, pool: list[int]) -> set[int]:
    """``k`` indices among ``pool`` (people who can carry the flag), chosen at random."""
    if k > len(pool):
        raise ValueError("not enough people to carry the flag")
    return set(rng.sample(pool, k))


def cpam_list_rows(
    rng: random.Random,
    communes: list[Commune],
    list_date: dt.date,
    diagnosis: dict[str, int],
    carry_over: list[dict[str, str]] | None = None,
) -> list[dict[str, str]]:
    """The lines of a CPAM list whose indicators come out exactly as ``diagnosis`` on ``list_date``
    (``carry_over``: people of an earlier list who are still without a GP, kept with their
    identity), plus ``WITH_GP_LINES`` people who have a referring doctor (excluded)."""
    total = diagnosis["without_gp"]
    under, over = diagnosis["under_16"], diagnosis["over_70"]
    ages = [rng.randrange(0, 16) for _ in range(under)]
    ages += [rng.randrange(70, 96) for _ in range(over)]
    ages += [rng.randrange(16, 70) for _ in range(total - under - over)]
    rng.shuffle(ages)
    ald = _exact_flags(rng, total, diagnosis["ald"], list(range(total)))
    c2s = _exact_flags(rng, total, diagnosis["c2s"], list(range(total)))
    kept: dict[int, list[dict[str, str]]] = {}
    for person in carry_over or []:
        kept.setdefault(_age_on(person, list_date), []).append(person)
    rows = []
    for i, age in enumerate(ages):
        bucket = kept.get(age)
        row = dict(bucket.pop()) if bucket else _person(rng, communes, list_date, age)
        row["ald"] = "oui" if i in ald else "non"
        row["c2s"] = "oui" if i in c2s else "non"
        row["medecin_traitant"] = ""
        rows.append(row)
    for _ in range(WITH_GP_LINES):
        row = _person(rng, communes, list_date, rng.randrange(0, 90))
        row.update(ald="non", c2s="non", medecin_traitant="Dr " + rng.choice(names.SURNAMES))
        rows.append(row)
    rng.shuffle(rows)
    return rows


def _age_on(person: dict[str, str], day: dt.date) -> int:
    birth = dt.date.fromisoformat(person["date_naissance"])
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _person(rng: random.Random, communes: list[Commune], on: dt.date, age: int) -> dict[str, str]:
    sex = rng.choice("FM")
    # Born 1 to 364 days after the date ``age + 1`` years before ``on``: exactly ``age`` on ``on``.
    birth = on.replace(year=on.year - age - 1) + dt.timedelta(days=rng.randrange(1, 365))
    commune = _town_near(rng, communes)
    return {
        "nom": rng.choice(names.SURNAMES),
        "prenom": rng.choice(names.FEMALE if sex == "F" else names.MALE),
        "date_naissance": birth.isoformat(),
        "sexe": sex,
        "code_insee": commune.insee,
        "telephone": "06 " + " ".join(str(rng.randrange(10, 99)) for _ in range(4)),
    }


def to_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=";")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _seed_accounts(session: Session, report: CptsReport) -> None:
    accounts = (
        ("coordination", Role.COORDINATOR, "Coordination CPTS du Loudunais"),
        ("secretariat1", Role.SECRETARY, "Secrétariat CPTS"),
        ("comite", Role.COMMITTEE, "Comité de pilotage CPTS"),
        ("admin", Role.ADMIN, "Administrateur"),
    )
    password_hash = None
    for username, role, full_name in accounts:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            password_hash = password_hash or hash_password(DEMO_PASSWORD)
            session.add(
                User(
                    username=username,
                    role=role,
                    full_name=full_name,
                    password_hash=password_hash,
                    email=f"{username}@cpts-loudunais.example.fr",
                )
            )
        report.accounts.append({"username": username, "role": str(role), "password": DEMO_PASSWORD})
    session.flush()


def seed_cpts_demo(
    session: Session, territory: Territory, *, seed: int = 86, today: dt.date | None = None
) -> CptsReport:
    """The Vienne CPTS: accounts, the CPTS's contact, ~40 census GPs, the CPAM list of June 2023
    (5,299 patients without a GP, of whom 2,808 under 16, 267 ALD, 224 over 70, 355 C2S) and a
    later list, both run through the real CPAM import. Commits (the imports commit)."""
    today = today or dt.date.today()
    rng = random.Random(seed)
    communes = cpts_communes(territory)
    report = CptsReport(communes=len(communes))
    _seed_accounts(session, report)
    if session.scalar(select(CptsProfile.id).limit(1)) is None:
        session.add(
            CptsProfile(
                name="CPTS du Loudunais",
                phone="05 49 98 00 00",
                email="contact@cpts-loudunais.example.fr",
                address="Maison de santé, place de la Boeuffeterie, 86200 Loudun",
            )
        )
    report.census = seed_census(session, communes, rng, today, 40, actor="coordination")
    session.commit()
    first = cpam_list_rows(rng, communes, JUNE_2023, DIAGNOSIS)
    still_waiting = [r for r in first if not r["medecin_traitant"]][:4200]
    later = cpam_list_rows(rng, communes, LATER, LATER_DIAGNOSIS, carry_over=still_waiting)
    for day, rows in ((JUNE_2023, first), (LATER, later)):
        if session.scalar(select(CpamImport.id).where(CpamImport.list_date == day)) is not None:
            continue
        result = import_list(
            session,
            territory,
            f"cpam-liste-{day.isoformat()}.csv",
            to_csv(rows),
            mode="all_or_nothing",
            actor="démo",
            list_date=day,
        )
        if result.errors:
            raise RuntimeError(f"the demo list of {day} has faulty lines: {result.errors[:3]}")
        record = result.record
        report.imports.append(
            {
                "list_date": day.isoformat(),
                "lines": record.lines,
                "without_gp": record.without_gp,
                "under_16": record.under_16,
                "ald": record.ald,
                "over_70": record.over_70,
                "c2s": record.c2s,
            }
        )
    return report
