"""What the booking confirmation hands the patient: an .ics of the appointment and a printable note.

Both come from an :class:`AppointmentView` (identity and logistics only, never health
information). The .ics carries no patient name: calendars get synced and shared.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from icalendar import Calendar, Event

from app.calendars.ical import PRODID, paris_vtimezone
from app.core.dates import PARIS, date_fr
from app.notifications.messages import place_fr, time_fr
from app.notifications.view import KIND_HOME_VISIT, KIND_TELECONSULTATION, AppointmentView

KIND_LABELS = {
    "office": "Consultation au cabinet",
    KIND_HOME_VISIT: "Visite à domicile",
    KIND_TELECONSULTATION: "Téléconsultation",
}


def appointment_uid(view: AppointmentView) -> str:
    """Stable per booking: a moved appointment re-imported replaces the old one in the calendar."""
    return f"booking-{view.booking_id}@smp-planner"


def appointment_ics(
    view: AppointmentView, *, stamp: dt.datetime | None = None, sequence: int = 0, cancelled: bool = False
) -> bytes:
    """A ``METHOD:PUBLISH`` calendar with one VEVENT, times in ``TZID=Europe/Paris``.

    ``sequence`` should grow each time the appointment moves (clients keep the highest);
    ``cancelled`` gives a ``STATUS:CANCELLED`` event that removes it from the patient's calendar.
    """
    stamp = (stamp or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add_component(paris_vtimezone())
    ev = Event()
    ev.add("uid", appointment_uid(view))
    ev.add("dtstamp", stamp)
    ev.add("dtstart", view.starts_at.astimezone(PARIS))
    ev.add("dtend", view.ends_at.astimezone(PARIS))
    ev.add("summary", f"Rendez-vous SMP avec {view.clinician_name}")
    ev.add("location", place_fr(view))
    lines = [f"{KIND_LABELS.get(view.kind, 'Consultation')} avec {view.clinician_name}."]
    if view.site_phone:
        lines.append(f"Pour annuler ou déplacer le rendez-vous : {view.site_label}, {view.site_phone}.")
    ev.add("description", "\n".join(lines))
    ev.add("sequence", sequence)
    ev.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    ev.add("transp", "OPAQUE")
    cal.add_component(ev)
    body: bytes = cal.to_ical()
    return body


def appointment_filename(view: AppointmentView) -> str:
    """``rendez-vous-smp-2026-03-03-1420.ics`` (no name in it)."""
    local = view.starts_at.astimezone(PARIS)
    return f"rendez-vous-smp-{local:%Y-%m-%d-%H%M}.ics"


def printable_note(view: AppointmentView) -> dict[str, Any]:
    """The context of the printable appointment note (the template lays it out).

    Keys: ``title``, ``patient_name``, ``patient_reference``, ``date`` (``mardi 3 mars 2026``),
    ``time`` (``14 h 20``), ``starts_at_local`` (ISO 8601 with the Paris offset), ``duration_minutes``,
    ``kind``, ``kind_label``, ``clinician``, ``place`` (one line), ``site_name``, ``site_address``,
    ``site_town``, ``site_phone``, ``is_at_site`` (False for a home visit or a teleconsultation),
    ``instructions`` (French sentences), ``ics_filename``.
    """
    local = view.starts_at.astimezone(PARIS)
    is_at_site = view.kind not in (KIND_HOME_VISIT, KIND_TELECONSULTATION)
    instructions = []
    if is_at_site:
        instructions.append("Merci d'arriver quelques minutes avant l'heure du rendez-vous.")
    instructions.append("Munissez-vous de votre carte Vitale (ou de votre attestation de droits).")
    call = f" au {view.site_phone}" if view.site_phone else ""
    instructions.append(f"En cas d'empêchement, prévenez le secrétariat du {view.site_label}{call} au plus tôt.")
    return {
        "title": "Votre rendez-vous au Service Médical de Proximité",
        "patient_name": view.patient_name,
        "patient_reference": view.patient_reference,
        "date": date_fr(local),
        "time": time_fr(view.starts_at),
        "starts_at_local": local.isoformat(),
        "duration_minutes": int((view.ends_at - view.starts_at).total_seconds() // 60),
        "kind": view.kind,
        "kind_label": KIND_LABELS.get(view.kind, "Consultation"),
        "clinician": view.clinician_name,
        "place": place_fr(view),
        "site_name": view.site_label,
        "site_address": view.site_address,
        "site_town": view.site_town,
        "site_phone": view.site_phone,
        "is_at_site": is_at_site,
        "instructions": instructions,
        "ics_filename": appointment_filename(view),
    }
