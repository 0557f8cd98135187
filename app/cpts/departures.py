"""A census GP's departure, anticipated: their priority patients (ALD, fragile, dependent) imported
into the waiting list in tier 1 with the departing GP noted, and the waiting-room poster."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from app.core.errors import FieldErrors
from app.cpts.census import months_until
from app.cpts.models import DEPARTURE_LABELS, CensusGp, Departure
from app.db.engine import immediate
from app.patients.cpam import LineError, line_values, map_columns, read_table
from app.patients.models import WAITING_STATUSES, Channel, PatientStatus
from app.patients.services import PatientService, add_request, france, record_transition
from sites.communes import Territory


@dataclass
class PriorityImport:
    lines: int = 0
    created: int = 0
    joined: int = 0
    errors: list[LineError] = field(default_factory=list)


def import_priority_list(
    session: Session,
    territory: Territory,
    gp: CensusGp,
    filename: str,
    content: bytes,
    actor: str,
    today: dt.date,
) -> PriorityImport:
    """The departing GP's priority patients, from a CSV or XLSX with the CPAM list's columns (name,
    first name, birth date, sex, commune; NIR, phone, ALD… optional). All or nothing: one faulty
    line and nothing is written (the errors say which line and column). Each patient enters the
    waiting list in tier 1 (counted as fragile when not ALD) with the departing GP noted; a person
    already known joins their record. Commits. ``ImportRefused`` for an unreadable file."""
    frame = read_table(filename, content)
    mapping = map_columns([str(h) for h in frame.columns])
    service = PatientService(session=session)

    def insee_name(code: str) -> str | None:
        commune = territory.by_insee(code) or france().by_insee(code)
        return commune.name if commune else None

    result = PriorityImport(lines=len(frame))
    valid: list[dict[str, Any]] = []
    for line, row in zip(frame.index, frame.to_dict(orient="records"), strict=True):
        data, found = line_values(row, mapping, insee_name)
        try:
            values = service.clean(data, territory, today, unique_nir=False, require_contact=False)
        except FieldErrors as exc:
            found = {**exc.errors, **found}
            values = {}
        for name, message in found.items():
            result.errors.append(LineError(line, mapping.get(name, name), message))
        if not found:
            valid.append(values)
    if result.errors:
        return result
    immediate(session)
    now = dt.datetime.now(dt.UTC)
    note = f"patientèle prioritaire de {gp.name} ({describe_departure(gp, today)})"
    for values in valid:
        values["fragile"] = values["fragile"] or not values["ald"]
        intake = add_request(
            session, values, territory, channel=Channel.PARTNER, actor=actor, referrer=note[:255], now=now
        )
        patient = intake.patient
        if intake.joined:
            result.joined += 1
            patient.fragile = patient.fragile or not patient.ald
        else:
            result.created += 1
        patient.departing_gp_id = gp.id
        if patient.status in (PatientStatus.REQUESTED, PatientStatus.ELIGIBLE):
            record_transition(session, patient, PatientStatus.WAITING.value, actor, note)
        elif patient.status not in WAITING_STATUSES:
            record_transition(session, patient, patient.status, actor, note)
    session.commit()
    return result


def describe_departure(gp: CensusGp, today: dt.date) -> str:
    """``départ à la retraite le 30/06/2027`` — or what is known of it."""
    what = DEPARTURE_LABELS.get(Departure(gp.departure), "départ") if gp.departure else "départ"
    if gp.departure_date is None:
        return what
    when = gp.departure_date.strftime("%d/%m/%Y")
    return f"{what} le {when}" if gp.departure_date >= today else f"{what} depuis le {when}"


def poster_months(gp: CensusGp, today: dt.date) -> int:
    """The "X" of "votre médecin part dans X mois"."""
    return months_until(today, gp.departure_date) if gp.departure_date else 0
