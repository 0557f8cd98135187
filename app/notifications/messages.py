"""The French texts patients receive: pure functions of an :class:`AppointmentView`.

What a message says: who the appointment is for (first name in SMS, full name in email), when
(Europe/Paris), with which clinician, where (site, address) and the site's phone number to cancel
or move it. What it never says: anything about health — no ALD, C2S or fragility, no reason for
the visit, no NIR. The view carries none of these, and the tests check the texts for them.

SMS are written for the GSM-7 alphabet (one 160-character segment, no UCS-2 fallback that would
cut a segment to 70 characters): é è à ù É are GSM-7, but ç ê î ô û â ë ï œ and typographic
quotes or spaces are not, so :func:`gsm7` transliterates them (``ç`` → ``c``, ``ê`` → ``e``).
"""

from __future__ import annotations

import datetime as dt
import unicodedata

from app.core.dates import MONTHS_FR, PARIS, WEEKDAYS_FR, datetime_fr
from app.notifications.view import KIND_HOME_VISIT, KIND_TELECONSULTATION, AppointmentView

SMS_MAX = 160

# 3GPP TS 23.038 default alphabet, minus ESC and minus Ç (0x09 is shown as ç or Ç depending on the
# phone: we write a plain C instead).
GSM7_BASIC = frozenset(
    "@£$¥èéùìò\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
"""Sent as ESC + character: two septets each."""

_TRANSLITERATE = {
    "œ": "oe",
    "Œ": "OE",
    "’": "'",
    "‘": "'",
    "ʼ": "'",
    "«": '"',
    "»": '"',
    "“": '"',
    "”": '"',
    "–": "-",
    "—": "-",
    "‑": "-",
    "…": "...",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "·": "-",
}

KINDS = ("reminder", "confirmation", "cancellation", "move")

SIGNATURE = "Service Médical de Proximité"
NO_REPLY = "Ce message est envoyé automatiquement : merci de ne pas y répondre."


# --- GSM-7 --------------------------------------------------------------------------------------
def gsm7(text: str) -> str:
    """``text`` in the GSM-7 alphabet: accents outside it lose their accent, the rest becomes ``?``."""
    out: list[str] = []
    for ch in text:
        if ch in GSM7_BASIC or ch in GSM7_EXTENSION:
            out.append(ch)
        elif ch in _TRANSLITERATE:
            out.append(_TRANSLITERATE[ch])
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            out.append(base if base and all(c in GSM7_BASIC for c in base) else "?")
    return "".join(out)


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def gsm7_length(text: str) -> int:
    """Septets the text takes in one SMS (extension characters count twice)."""
    return sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)


# --- pieces -------------------------------------------------------------------------------------
def _local(value: dt.datetime) -> dt.datetime:
    return value.astimezone(PARIS)


def time_fr(value: dt.datetime) -> str:
    """``14 h 20`` in Europe/Paris."""
    local = _local(value)
    return f"{local.hour:02d} h {local.minute:02d}"


def _sms_when(value: dt.datetime, short: bool) -> str:
    local = _local(value)
    hour = f"{local.hour}h{local.minute:02d}"
    if short:
        return f"{WEEKDAYS_FR[local.weekday()][:3]} {local.day:02d}/{local.month:02d} {hour}"
    return f"{WEEKDAYS_FR[local.weekday()]} {local.day} {MONTHS_FR[local.month - 1]} à {hour}"


def place_fr(view: AppointmentView) -> str:
    """Where the appointment happens, as an email says it."""
    if view.kind == KIND_HOME_VISIT:
        return "à votre domicile"
    if view.kind == KIND_TELECONSULTATION:
        return "téléconsultation, à distance"
    return view.full_address


def _call(view: AppointmentView) -> str:
    if view.site_phone:
        return f"le secrétariat du {view.site_label} au {view.site_phone}"
    return f"le secrétariat du {view.site_label}"


def _details(view: AppointmentView) -> list[str]:
    return [
        f"  Date : {datetime_fr(view.starts_at)}",
        f"  Avec : {view.clinician_name}",
        f"  Lieu : {place_fr(view)}",
    ]


# --- email --------------------------------------------------------------------------------------
def email_subject(kind: str, view: AppointmentView) -> str:
    when = datetime_fr(view.starts_at)
    subjects = {
        "reminder": f"Rappel : rendez-vous le {when}",
        "confirmation": f"Confirmation : rendez-vous le {when}",
        "cancellation": f"Annulation de votre rendez-vous du {when}",
        "move": f"Rendez-vous déplacé au {when}",
    }
    if kind not in subjects:
        raise ValueError(f"unknown message kind {kind!r}")
    return f"{view.site_label} — {subjects[kind]}"


def email_body(kind: str, view: AppointmentView, previous_starts_at: dt.datetime | None = None) -> str:
    """Plain-text body. ``previous_starts_at`` is the old time of a moved appointment."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    lines = [f"Bonjour {view.patient_name},", ""]
    if kind == "reminder":
        lines += ["Nous vous rappelons le rendez-vous suivant au Service Médical de Proximité :", ""]
        lines += _details(view)
        lines += ["", f"En cas d'empêchement, merci de prévenir {_call(view)} afin de libérer le créneau."]
    elif kind == "confirmation":
        lines += ["Votre rendez-vous au Service Médical de Proximité est enregistré :", ""]
        lines += _details(view)
        lines += ["", f"Pour l'annuler ou le déplacer, appelez {_call(view)}."]
    elif kind == "cancellation":
        lines += [
            f"Votre rendez-vous du {datetime_fr(view.starts_at)} avec {view.clinician_name} "
            f"({place_fr(view)}) est annulé.",
            "",
            f"Pour convenir d'un nouveau rendez-vous, appelez {_call(view)}.",
        ]
    else:  # move
        if previous_starts_at is not None:
            lines += [f"Votre rendez-vous du {datetime_fr(previous_starts_at)} est déplacé. Nouveau rendez-vous :"]
        else:
            lines += ["Votre rendez-vous est déplacé. Nouveau rendez-vous :"]
        lines += ["", *_details(view)]
        lines += ["", f"Si ce nouvel horaire ne vous convient pas, appelez {_call(view)}."]
    lines += ["", NO_REPLY, SIGNATURE, ""]
    return "\n".join(lines)


# --- SMS ----------------------------------------------------------------------------------------
def _sms_candidates(kind: str, view: AppointmentView, previous: dt.datetime | None) -> list[str]:
    """From the most complete text to the shortest; :func:`sms_text` sends the first that fits."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    first = view.patient_first_name.split(" ")[0] if view.patient_first_name else ""
    who = f" de {first}" if first else ""
    phones = [view.site_phone, view.site_phone.replace(" ", "").replace(".", "")] if view.site_phone else [""]
    if view.kind == KIND_HOME_VISIT:
        places = ["à domicile"]
    elif view.kind == KIND_TELECONSULTATION:
        places = ["en téléconsultation"]
    else:
        street = f", {view.site_address}" if view.site_address else ""
        places = [f"au {view.site_label}{street}", f"au {view.site_label}"]
    olds = [f" (au lieu du {_sms_when(previous, True)})", ""] if kind == "move" and previous else [""]
    out: list[str] = []
    for short_date in (False, True):
        when = _sms_when(view.starts_at, short_date)
        for with_clinician in (True, False):
            with_ = f" avec {view.clinician_name}" if with_clinician else ""
            for place in places:
                for old in olds:
                    for phone in phones:
                        if kind == "reminder":
                            text = f"SMP: rappel, RDV{who} le {when}{with_} {place}."
                            call = f" Empêchement? Appelez le {phone}" if phone else ""
                        elif kind == "confirmation":
                            text = f"SMP: RDV{who} confirmé le {when}{with_} {place}."
                            call = f" Pour annuler: {phone}" if phone else ""
                        elif kind == "cancellation":
                            text = f"SMP: le RDV{who} du {when}{with_} {place} est annulé."
                            call = f" Nouveau RDV: {phone}" if phone else ""
                        else:
                            text = f"SMP: RDV{who} déplacé au {when}{old}{with_} {place}."
                            call = f" Contact: {phone}" if phone else ""
                        out.append(gsm7(text + call))
    return out


def sms_text(kind: str, view: AppointmentView, previous_starts_at: dt.datetime | None = None) -> str:
    """One GSM-7 SMS of at most 160 septets when any version fits, else the shortest version."""
    candidates = _sms_candidates(kind, view, previous_starts_at)
    for text in candidates:
        if gsm7_length(text) <= SMS_MAX:
            return text
    return min(candidates, key=gsm7_length)
