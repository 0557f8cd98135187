"""The steering committee's figures: enrolment against the target, capacity, the waiting list,
the CPTS indicators, interns, budget, and the projected date of reaching the target.

Every figure comes from aggregate queries (no identity ever leaves the database here), turned
into pandas frames; the dashboard, the exports and ``smp report capacity`` all read the same
``Report``. Counts below 5 are suppressed where they are shown (``suppress``), never here.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Date, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from app.clinicians.models import Clinician, ClinicianRole
from app.patients.models import WAITING_STATUSES, CpamImport, Patient, PatientEvent
from app.rota.models import Booking, RotaSession, Slot
from app.sites.models import Site
from sites.communes import Territory
from sites.geo import haversine_km

ENROLLED = ("assigned", "declared")
SMALL_COUNT = 5
TREND_MONTHS = 24
PACE_DAYS = 91
"""The pace of enrolment is measured over the last three months (91 days)."""
HORIZON_MONTHS = 120


def _pairs(rows: Any) -> dict[Any, int]:
    return {key: count for key, count in rows}


def suppress(n: int | float | None) -> str:
    """A count as the committee sees it: below 5 (but not 0) shown as « < 5 »."""
    if n is None:
        return "—"
    if isinstance(n, float) and not n.is_integer():
        return f"{n:,.1f}".replace(",", "\u202f").replace(".", ",")
    n = int(n)
    return "< 5" if 0 < n < SMALL_COUNT else f"{n:,}".replace(",", "\u202f")


@dataclass(frozen=True)
class Scenario:
    """A what-if: clinicians added (from a date, with a panel cap each), one clinician leaving (on a
    date), all panel caps changed by a percentage. An antenna opening is clinicians added there."""

    label: str = "aujourd'hui"
    add_clinicians: int = 0
    add_cap_each: int = 800
    add_from: dt.date | None = None
    remove_clinician: uuid.UUID | None = None
    remove_on: dt.date | None = None
    cap_change_pct: int = 0

    @property
    def is_baseline(self) -> bool:
        return not (self.add_clinicians or self.remove_clinician or self.cap_change_pct)


@dataclass
class Projection:
    date: dt.date | None
    reason: str
    months: list[tuple[dt.date, float]] = field(default_factory=list)
    """Month ends with the projected number of enrolled patients."""
    pace_per_month: float = 0.0
    capacity_end: int = 0


@dataclass
class Report:
    today: dt.date
    target: int
    enrolled: int
    waiting: int
    suspended: int
    panel_capacity: int
    weekly_slots: float
    weekly_booked: float
    weekly_demand: float
    projection: Projection
    trend: pd.DataFrame
    """month (period end), enrolled at month end, new enrolments in the month."""
    by_site: pd.DataFrame
    by_tier: pd.DataFrame
    by_channel: pd.DataFrame
    exclusions: pd.DataFrame
    cpts: pd.DataFrame
    communes: pd.DataFrame
    interns: dict[str, int]
    budget: dict[str, Any]
    consultations_12m: int

    @property
    def occupancy(self) -> float | None:
        return self.weekly_booked / self.weekly_slots if self.weekly_slots else None

    def contract(self) -> dict[str, Any]:
        """``smp report capacity --json`` (raw counts: an operator's command, not the committee's)."""
        return {
            "target": self.target,
            "enrolled": self.enrolled,
            "waiting": self.waiting,
            "panel_capacity": self.panel_capacity,
            "weekly_slots": round(self.weekly_slots, 1),
            "weekly_demand": round(self.weekly_demand, 1),
            "occupancy": None if self.occupancy is None else round(self.occupancy, 3),
            "projection_date": self.projection.date.isoformat() if self.projection.date else None,
            "projection_reason": self.projection.reason,
            "pace_per_month": round(self.projection.pace_per_month, 1),
            "by_site": _records(self.by_site),
            "by_tier": {str(int(r["tier"])): _plain(r) for r in self.by_tier.to_dict(orient="records")},
            "by_channel": _records(self.by_channel),
            "exclusions": _records(self.exclusions),
            "trend": _records(self.trend),
            "interns": self.interns,
            "budget": self.budget,
        }


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        if isinstance(v, dt.date | pd.Timestamp):
            out[k] = v.isoformat()[:10]
        elif isinstance(v, float) and math.isnan(v):
            out[k] = None
        elif hasattr(v, "item"):
            out[k] = v.item()
        else:
            out[k] = v
    return out


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [_plain(r) for r in frame.to_dict(orient="records")]


def _age_cutoff(today: dt.date, years: int) -> dt.date:
    return dt.date(today.year - years, today.month, min(today.day, 28))


def tier_expression(today: dt.date) -> Any:
    """The priority tier in SQL, as the waiting list computes it."""
    tier1 = or_(Patient.ald.is_(True), Patient.fragile.is_(True))
    tier2 = or_(
        Patient.c2s.is_(True),
        Patient.birth_date <= _age_cutoff(today, 60),
        Patient.birth_date > _age_cutoff(today, 16),
    )
    return case((tier1, 1), (tier2, 2), else_=3)


def waiting_filter() -> Any:
    return and_(Patient.status.in_(WAITING_STATUSES), Patient.suspended_at.is_(None))


def panel_clinicians(session: Session, on: dt.date) -> list[Clinician]:
    return [
        c
        for c in session.scalars(select(Clinician)).unique()
        if c.role != ClinicianRole.INTERN and c.panel_cap > 0 and c.is_active_on(on)
    ]


def build_report(
    session: Session,
    territory: Territory,
    today: dt.date,
    *,
    target: int,
    visits_per_year: int,
    annual_budget: int,
    scenario: Scenario | None = None,
) -> Report:
    # The heaviest aggregate (the waiting list by tier, channel and day) runs on a second connection
    # meanwhile: both databases release the interpreter while they scan.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending_groups = pool.submit(_on_own_connection, session, waiting_groups, today)
        counts, suspended = status_counts(session)
        enrolled = sum(counts.get(s, 0) for s in ENROLLED)
        communes_frame = waiting_by_commune(session, today)
        by_commune = dict(zip(communes_frame["commune"], communes_frame["n"].astype(int), strict=True))
        cpts = cpts_indicators(session, today, communes_frame)
        history = enrolment_history(session)
        trend = enrolment_trend(history, today)
        doctors = panel_clinicians(session, today)
        budget, held = budget_figures(session, today, annual_budget, enrolled)
        start, end = _window(today)
        weekly_slots, weekly_booked, by_site = site_figures(session, territory, doctors, start, end, by_commune)
        projection = project(pace_per_month(history, today), today, enrolled, target, doctors, scenario or Scenario())
        excluded = exclusions(session)
        interns = intern_figures(session, today)
        enrolled_communes = enrolled_by_commune(session)
        groups = pending_groups.result()
    waiting = int(groups["n"].sum()) if not groups.empty else 0
    return Report(
        today=today,
        target=target,
        enrolled=enrolled,
        waiting=waiting,
        suspended=suspended,
        panel_capacity=sum(c.panel_cap for c in doctors),
        weekly_slots=weekly_slots,
        weekly_booked=weekly_booked,
        weekly_demand=enrolled * visits_per_year / 52,
        projection=projection,
        trend=trend,
        by_site=by_site,
        by_tier=wait_stats(groups, "tier"),
        by_channel=wait_stats(groups, "channel"),
        exclusions=excluded,
        cpts=cpts,
        communes=commune_rates(territory, by_commune, enrolled_communes),
        interns=interns,
        budget=budget,
        consultations_12m=held,
    )


def _on_own_connection(session: Session, function: Any, *args: Any) -> Any:
    """Run a read-only aggregate in a session of its own (a session is not shared across threads)."""
    with Session(bind=session.get_bind()) as other:
        return function(other, *args)


def status_counts(session: Session) -> tuple[dict[str, int], int]:
    """Patients by status (read off the status index), and how many requests are suspended."""
    counts = _pairs(session.execute(select(Patient.status, func.count()).group_by(Patient.status)).all())
    # Naming every status lets the covering index answer (status, suspended_at) without the rows.
    suspended = session.scalar(
        select(func.count()).where(Patient.status.in_(list(counts)), Patient.suspended_at.is_not(None))
    )
    return counts, int(suspended or 0)


def budget_figures(session: Session, today: dt.date, annual_budget: int, enrolled: int) -> tuple[dict[str, Any], int]:
    """The annual budget per enrolled patient and per consultation held in the last twelve months."""
    year_ago = dt.datetime.combine(today - dt.timedelta(days=365), dt.time(), tzinfo=dt.UTC)
    now = dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC)
    held = (
        session.scalar(
            select(func.count()).where(
                Booking.status.in_(("booked", "done")), Booking.starts_at >= year_ago, Booking.starts_at < now
            )
        )
        or 0
    )
    return {
        "annual_eur": annual_budget,
        "per_enrolled_patient_eur": round(annual_budget / enrolled, 2) if enrolled else None,
        "per_consultation_eur": round(annual_budget / held, 2) if held else None,
    }, held


def _window(today: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The next four weeks, for the weekly capacity (what is published ahead)."""
    start = dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=28)


def event_day(session: Session) -> Any:
    """The (UTC) day of a history row, computed by the database."""
    if session.get_bind().dialect.name == "sqlite":
        return func.substr(PatientEvent.occurred_at, 1, 10)
    return cast(func.timezone("UTC", PatientEvent.occurred_at), Date)


def enrolment_history(session: Session) -> pd.DataFrame:
    """Net changes of the number of patients with a referring doctor, per (UTC) day, from the status
    history: a transition into assigned/declared from another status is +1, one out of them −1."""
    gains = and_(PatientEvent.to_status.in_(ENROLLED), PatientEvent.from_status.not_in(ENROLLED))
    losses = and_(PatientEvent.from_status.in_(ENROLLED), PatientEvent.to_status.not_in(ENROLLED))
    delta = case((gains, 1), else_=-1).label("delta")
    day = event_day(session).label("day")
    rows = session.execute(select(day, delta, func.count()).where(or_(gains, losses)).group_by(day, delta)).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=["day", "delta", "n"])
    frame["day"] = (
        pd.to_datetime(frame["day"].astype(str).str[:10]) if not frame.empty else pd.Series(dtype="datetime64[ns]")
    )
    return frame


def enrolment_trend(history: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """Patients with a referring doctor at each month's end over two years (months in UTC: a
    transition in the last hour of a month may count in the next)."""
    months = pd.period_range(end=pd.Period(today, freq="M"), periods=TREND_MONTHS, freq="M")
    if history.empty:
        return pd.DataFrame({"month": [m.end_time.date() for m in months], "enrolled": 0, "new": 0})
    frame = history.assign(month=history["day"].dt.to_period("M"), net=history["delta"] * history["n"])
    before = int(frame.loc[frame["month"] < months[0], "net"].sum())
    net = frame.groupby("month")["net"].sum().reindex(months, fill_value=0)
    new = frame[frame["delta"] > 0].groupby("month")["n"].sum().reindex(months, fill_value=0)
    return pd.DataFrame(
        {
            "month": [m.end_time.date() for m in months],
            "enrolled": (net.cumsum() + before).astype(int).to_numpy(),
            "new": new.astype(int).to_numpy(),
        }
    )


def pace_per_month(history: pd.DataFrame, today: dt.date) -> float:
    """Net enrolments per month over the last three months (91 days)."""
    if history.empty:
        return 0.0
    recent = history[history["day"] >= pd.Timestamp(today - dt.timedelta(days=PACE_DAYS))]
    return max(float((recent["delta"] * recent["n"]).sum()), 0.0) / 3


def project(
    pace: float, today: dt.date, enrolled: int, target: int, doctors: list[Clinician], scenario: Scenario
) -> Projection:
    """Month by month from today: the pace of the last three months, scaled by the number of
    doctors taking patients, and never above the panel capacity in force that month (a
    retirement lowers it on its date; a what-if adds or removes doctors and changes caps)."""
    base_doctors = len(doctors) or 1
    factor = 1 + scenario.cap_change_pct / 100
    enrolled_f = float(enrolled)
    months: list[tuple[dt.date, float]] = []
    month = pd.Period(today, freq="M")
    for _ in range(HORIZON_MONTHS):
        month += 1
        day = month.start_time.date()
        active = [
            c
            for c in doctors
            if c.is_active_on(day) and not (scenario.remove_clinician == c.id and day >= (scenario.remove_on or today))
        ]
        added = scenario.add_clinicians if day >= (scenario.add_from or today) else 0
        capacity = int(sum(c.panel_cap for c in active) * factor + added * scenario.add_cap_each * factor)
        doctor_count = len(active) + added
        step = pace * doctor_count / base_doctors
        enrolled_f = min(enrolled_f + step, float(capacity))
        months.append((month.end_time.date(), enrolled_f))
        if enrolled_f >= target:
            return Projection(month.end_time.date(), "", months, pace, capacity)
        if step <= 0 and enrolled_f < target:
            break
    capacity_end = int(sum(c.panel_cap for c in doctors) * factor) if not months else capacity
    if pace <= 0:
        reason = "aucune nouvelle inscription ces trois derniers mois : pas de rythme pour projeter"
    elif capacity_end < target:
        reason = f"la capacité de patientèle ({capacity_end:,} places) est sous l'objectif".replace(",", "\u202f")
    else:
        reason = f"objectif non atteint en {HORIZON_MONTHS // 12} ans à ce rythme"
    return Projection(None, reason, months, pace, capacity_end)


def site_figures(
    session: Session,
    territory: Territory,
    doctors: list[Clinician],
    start: dt.datetime,
    end: dt.datetime,
    waiting_by_commune: dict[str, int],
) -> tuple[float, float, pd.DataFrame]:
    sites = session.scalars(select(Site).where(Site.active.is_(True)).order_by(Site.name)).all()
    offered = _pairs(
        session.execute(
            select(RotaSession.site_id, func.count(Slot.id))
            .join(Slot, Slot.session_id == RotaSession.id)
            .where(
                RotaSession.status == "published",
                Slot.status == "open",
                Slot.starts_at >= start,
                Slot.starts_at < end,
            )
            .group_by(RotaSession.site_id)
        ).all()
    )
    booked = _pairs(
        session.execute(
            select(RotaSession.site_id, func.count(Booking.id))
            .join(Slot, Slot.session_id == RotaSession.id)
            .join(Booking, Booking.slot_id == Slot.id)
            .where(
                RotaSession.status == "published",
                Booking.status == "booked",
                Slot.starts_at >= start,
                Slot.starts_at < end,
            )
            .group_by(RotaSession.site_id)
        ).all()
    )
    # coalesce(x, x): grouping on an expression keeps SQLite on the status index (10,000 rows) rather
    # than walking the referring-doctor index over every patient.
    doctor = func.coalesce(Patient.referring_clinician_id, Patient.referring_clinician_id).label("doctor")
    panels = _pairs(
        session.execute(select(doctor, func.count()).where(Patient.status.in_(ENROLLED)).group_by(doctor)).all()
    )
    nearest: dict[uuid.UUID, int] = {s.id: 0 for s in sites}
    for insee, n in waiting_by_commune.items():
        commune = territory.by_insee(insee)
        if commune is None or not sites:
            continue
        site = min(sites, key=lambda s: haversine_km(commune.lat, commune.lon, s.lat, s.lon))
        nearest[site.id] += n
    weeks = (end - start).days / 7
    rows = []
    for s in sites:
        mine = [c for c in doctors if c.main_site_id == s.id]
        slots = offered.get(s.id, 0) / weeks
        taken = booked.get(s.id, 0) / weeks
        rows.append(
            {
                "site": s.name,
                "panel_capacity": sum(c.panel_cap for c in mine),
                "enrolled": sum(panels.get(c.id, 0) for c in mine),
                "waiting_nearest": nearest[s.id],
                "weekly_slots": round(slots, 1),
                "weekly_booked": round(taken, 1),
                "occupancy": round(taken / slots, 3) if slots else None,
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=["site", "panel_capacity", "enrolled", "waiting_nearest", "weekly_slots", "weekly_booked", "occupancy"],
    )
    return sum(offered.values()) / weeks, sum(booked.values()) / weeks, frame


def waiting_groups(session: Session, today: dt.date) -> pd.DataFrame:
    """The waiting list in one pass, counted by tier, channel and whole days waited: the waiting
    list's figures are read off these few thousand groups."""
    tier = tier_expression(today).label("tier")
    day = request_day(session).label("day")

    rows = session.execute(
        select(tier, Patient.channel, day, func.count()).where(waiting_filter()).group_by(tier, Patient.channel, day)
    ).all()
    columns = ["tier", "channel", "day", "n"]
    frame = pd.DataFrame([tuple(r) for r in rows], columns=columns)
    if frame.empty:
        return frame.rename(columns={"day": "days"})
    # Whole days waited by the end of today (the request's UTC day).
    frame["days"] = (pd.Timestamp(today) - pd.to_datetime(frame.pop("day").astype(str).str[:10])).dt.days
    return frame.astype({c: "int64" for c in frame.columns if c != "channel"})


def waiting_by_commune(session: Session, today: dt.date) -> pd.DataFrame:
    """Waiting patients per commune, with the CPTS populations (C2S, 70 and over, under 16, ALD)."""
    # ``commune_insee || ''``: grouping on an expression keeps SQLite on the covering index of the
    # waiting filter instead of walking the commune index row by row (10 times slower).
    commune = (Patient.commune_insee + "").label("commune")

    def total(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    rows = session.execute(
        select(
            commune,
            func.count(),
            total(Patient.c2s.is_(True)),
            total(Patient.birth_date <= _age_cutoff(today, 70)),
            total(Patient.birth_date > _age_cutoff(today, 16)),
            total(Patient.ald.is_(True)),
        )
        .where(waiting_filter())
        .group_by(commune)
    ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["commune", "n", "c2s", "over_70", "under_16", "ald"])


def request_day(session: Session) -> Any:
    """The (UTC) day of the request as the database stores it: a few hundred values to group by."""
    if session.get_bind().dialect.name == "sqlite":
        return func.substr(Patient.requested_at, 1, 10)
    return cast(Patient.requested_at, Date)


def wait_stats(groups: pd.DataFrame, name: str) -> pd.DataFrame:
    """Waiting patients by ``name`` (tier or channel): how many, the median wait and the wait that
    nine in ten do not exceed (nearest rank), in days, from the grouped counts."""
    if groups.empty:
        return pd.DataFrame(columns=[name, "waiting", "median_days", "p90_days"])
    out = []
    for value, group in groups.groupby(name):
        counts = group.groupby("days")["n"].sum().sort_index()
        cumulative = counts.cumsum().to_numpy()
        days = counts.index.to_numpy()
        total = int(cumulative[-1])

        def at_rank(rank: int, days: Any = days, cumulative: Any = cumulative) -> float:
            return float(days[int((cumulative >= rank).argmax())])

        middle = (total + 1) // 2
        median = at_rank(middle) if total % 2 else (at_rank(middle) + at_rank(middle + 1)) / 2
        out.append(
            {name: value, "waiting": total, "median_days": median, "p90_days": at_rank(max(1, math.ceil(0.9 * total)))}
        )
    return pd.DataFrame(out).sort_values(name).reset_index(drop=True)


def exclusions(session: Session) -> pd.DataFrame:
    rows = session.execute(
        select(Patient.exclusion_reason, func.count())
        .where(Patient.status == "excluded")
        .group_by(Patient.exclusion_reason)
        .order_by(func.count().desc())
    ).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=["reason", "patients"])
    frame["reason"] = frame["reason"].replace("", "motif non précisé").str.split(" — ").str[0]
    return frame.groupby("reason", as_index=False)["patients"].sum().sort_values("patients", ascending=False)


def cpts_indicators(session: Session, today: dt.date, waiting: pd.DataFrame) -> pd.DataFrame:
    """The CPTS action card's indicators: from each CPAM list (its date), then today's waiting list."""
    rows = [
        {
            "date": i.list_date,
            "source": "liste CPAM",
            "without_gp": i.without_gp,
            "c2s": i.c2s,
            "over_70": i.over_70,
            "under_16": i.under_16,
            "ald": i.ald,
        }
        for i in session.scalars(select(CpamImport).where(CpamImport.written.is_(True)).order_by(CpamImport.list_date))
    ]
    sums = {k: int(waiting[k].sum()) if not waiting.empty else 0 for k in ("n", "c2s", "over_70", "under_16", "ald")}
    rows.append(
        {
            "date": today,
            "source": "liste d'attente du SMP",
            "without_gp": sums["n"],
            "c2s": sums["c2s"],
            "over_70": sums["over_70"],
            "under_16": sums["under_16"],
            "ald": sums["ald"],
        }
    )
    return pd.DataFrame(rows, columns=["date", "source", "without_gp", "c2s", "over_70", "under_16", "ald"])


def enrolled_by_commune(session: Session) -> dict[str, int]:
    commune = (Patient.commune_insee + "").label("commune")
    return _pairs(
        session.execute(select(commune, func.count()).where(Patient.status.in_(ENROLLED)).group_by(commune)).all()
    )


def commune_rates(territory: Territory, waiting: dict[str, int], enrolled: dict[str, int]) -> pd.DataFrame:
    """Per commune of the territory: patients with an SMP doctor, patients waiting, and waiting per
    1,000 inhabitants (real populations)."""
    frame = pd.DataFrame(
        {
            "insee": [c.insee for c in territory.communes],
            "commune": [c.name for c in territory.communes],
            "population": [c.population for c in territory.communes],
            "lat": [c.lat for c in territory.communes],
            "lon": [c.lon for c in territory.communes],
            "enrolled": [enrolled.get(c.insee, 0) for c in territory.communes],
            "waiting": [waiting.get(c.insee, 0) for c in territory.communes],
        }
    )
    frame["per_1000"] = (1000 * frame["waiting"] / frame["population"].where(frame["population"] > 0)).round(2)
    return frame


def intern_figures(session: Session, today: dt.date) -> dict[str, int]:
    interns = session.scalars(select(Clinician).where(Clinician.role == ClinicianRole.INTERN)).unique().all()
    ids = [i.id for i in interns]
    held = 0
    if ids:
        held = (
            session.scalar(
                select(func.count()).where(
                    RotaSession.clinician_id.in_(ids), RotaSession.status == "published", RotaSession.date < today
                )
            )
            or 0
        )
    return {
        "trained": len(interns),
        "in_training": sum(1 for i in interns if i.is_active_on(today)),
        "sessions_held": held,
        "settled": sum(1 for i in interns if i.intern_outcome == "settled"),
        "left": sum(1 for i in interns if i.intern_outcome == "left"),
    }
