"""API shapes for patients (identity included: staff only, every read audited)."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from app.patients.models import Patient


class PatientCreate(msgspec.Struct):
    first_name: str
    last_name: str
    birth_date: dt.date
    sex: str
    commune: str
    phone: str = ""
    email: str = ""
    address: str = ""
    nir: str = ""
    ald: bool = False
    c2s: bool = False
    fragile: bool = False
    needs_home_visit: bool = False
    needs_pmr: bool = False


class PatientOut(msgspec.Struct):
    id: uuid.UUID
    reference: str
    first_name: str
    last_name: str
    birth_date: dt.date
    sex: str
    commune_insee: str
    phone: str
    email: str | None
    nir: str | None
    ald: bool
    c2s: bool
    fragile: bool
    needs_home_visit: bool
    needs_pmr: bool
    channel: str
    status: str
    requested_at: dt.datetime
    referring_clinician_id: uuid.UUID | None


def patient_out(p: Patient) -> PatientOut:
    return PatientOut(
        id=p.id,
        reference=p.reference,
        first_name=p.first_name,
        last_name=p.last_name,
        birth_date=p.birth_date,
        sex=p.sex,
        commune_insee=p.commune_insee,
        phone=p.phone,
        email=p.email,
        nir=p.nir,
        ald=p.ald,
        c2s=p.c2s,
        fragile=p.fragile,
        needs_home_visit=p.needs_home_visit,
        needs_pmr=p.needs_pmr,
        channel=p.channel,
        status=p.status,
        requested_at=p.requested_at,
        referring_clinician_id=p.referring_clinician_id,
    )
