"""What a patient is told about one appointment, as plain values (no database objects).

:func:`appointment_view` reads it from a booking; messages, the .ics and the printable note are
built from it by pure functions. It holds identity and logistics only — no health information
(no ALD/C2S/fragility, no reason for the visit, no NIR) can reach a message through it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.patients.models import Patient
from app.rota.models import Booking, RotaSession, Slot

KIND_OFFICE = "office"
KIND_HOME_VISIT = "home_visit"
KIND_TELECONSULTATION = "teleconsultation"


@dataclass(frozen=True)
class AppointmentView:
    booking_id: uuid.UUID
    starts_at: dt.datetime
    """Timezone-aware (UTC in the database); shown in Europe/Paris."""
    ends_at: dt.datetime
    kind: str
    """``office``, ``home_visit`` or ``teleconsultation``."""
    patient_first_name: str
    patient_last_name: str
    patient_reference: str
    """The patient's request number (``SMP-2026-004213``), for the printable note."""
    clinician_name: str
    """``Dr Jeanne Martin`` (``Clinician.display_name``)."""
    site_name: str
    site_address: str
    """Street address as the site record holds it (``12 rue de la Paix``)."""
    site_town: str
    """``53000 Laval`` (empty when the commune is unknown)."""
    site_phone: str
    """Where to call to cancel or move the appointment."""

    @property
    def patient_name(self) -> str:
        return f"{self.patient_first_name} {self.patient_last_name}".strip()

    @property
    def site_label(self) -> str:
        """``SMP Laval``."""
        return f"SMP {self.site_name}"

    @property
    def full_address(self) -> str:
        """``SMP Laval, 12 rue de la Paix, 53000 Laval``."""
        return ", ".join(p for p in (self.site_label, self.site_address, self.site_town) if p)


class AppointmentNotFound(LookupError):
    """The booking's slot or session is gone: nothing can be said about the appointment."""


def site_town(commune_insee: str) -> str:
    """``53000 Laval`` from an INSEE code (the territory first, then all of France)."""
    from app.web.territory import current_territory

    commune = current_territory().by_insee(commune_insee)
    if commune is None:
        from app.clinicians.services import france

        commune = france().by_insee(commune_insee)
    return f"{commune.postal_code} {commune.name}" if commune else ""


def appointment_view(session: Session, booking: Booking, slot: Slot | None = None) -> AppointmentView:
    """The appointment of ``booking`` (its current slot, or ``slot`` when given). Reads the patient
    record, so the read is audited like any other."""
    slot = slot or session.get(Slot, booking.slot_id)
    if slot is None:
        raise AppointmentNotFound(f"booking {booking.id}: slot {booking.slot_id} not found")
    rota_session = session.get(RotaSession, slot.session_id)
    if rota_session is None:
        raise AppointmentNotFound(f"booking {booking.id}: session {slot.session_id} not found")
    patient = session.get(Patient, booking.patient_id)
    if patient is None:
        raise AppointmentNotFound(f"booking {booking.id}: patient not found")
    site = rota_session.site
    return AppointmentView(
        booking_id=booking.id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        kind=booking.kind,
        patient_first_name=patient.first_name,
        patient_last_name=patient.last_name,
        patient_reference=patient.reference,
        clinician_name=rota_session.clinician.display_name,
        site_name=site.name,
        site_address=site.address,
        site_town=site_town(site.commune_insee),
        site_phone=site.phone,
    )
