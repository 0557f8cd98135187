"""The texts patients receive: French, complete, one SMS each, GSM-7 safe."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from app.notifications import messages
from app.notifications.messages import SMS_MAX, email_body, email_subject, gsm7, gsm7_length, is_gsm7, sms_text
from app.notifications.view import AppointmentView
from tests.notifications.helpers import SUMMER, WINTER, view

KINDS = ("reminder", "confirmation", "cancellation", "move")
LONGEST = view(
    patient_first_name="Marie-Françoise",
    patient_last_name="de La Tour d'Auvergne-Lauraguais",
    clinician_name="Dr Jean-Baptiste Lefèbvre-Desnoëttes",
    site_name="Château-Gontier-sur-Mayenne",
    site_address="3 place de l'Hôtel-de-Ville, bâtiment Saint-Jérôme",
    site_town="53200 Château-Gontier-sur-Mayenne",
    starts_at=dt.datetime(2026, 9, 30, 15, 40, tzinfo=dt.UTC),  # mercredi 30 septembre
)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("appointment_kind", ["office", "home_visit", "teleconsultation"])
@pytest.mark.parametrize("appointment", [view(), LONGEST], ids=["short names", "longest names"])
def test_every_sms_fits_one_gsm7_segment_and_still_gives_time_place_and_phone(kind, appointment_kind, appointment):
    v = dataclasses.replace(appointment, kind=appointment_kind)
    text = sms_text(kind, v, previous_starts_at=WINTER - dt.timedelta(days=1))
    assert is_gsm7(text), text
    assert gsm7_length(text) <= SMS_MAX, (len(text), text)
    assert "h20" in text or "h40" in text
    assert "02 43 00 10 00" in text or "0243001000" in text
    if appointment_kind == "office":
        assert gsm7(v.site_label) in text
    elif appointment_kind == "home_visit":
        assert "domicile" in text
    else:
        assert "téléconsultation" in text


def test_a_short_sms_keeps_every_detail():
    text = sms_text("reminder", view())
    assert text == (
        "SMP: rappel, RDV de Léa le mardi 3 mars à 14h20 avec Dr Anne Roy au SMP Laval, 12 rue de la Paix. "
        "Empechement? Appelez le 02 43 00 10 00"
    )


def test_gsm7_transliterates_letters_outside_the_alphabet_and_keeps_french_accents_inside_it():
    assert gsm7("François Hôtel Jérôme Noël à l'Île, cœur — « oui »") == (
        'Francois Hotel Jérome Noel à l\'Ile, coeur - " oui "'
    )
    assert gsm7("é è à ù É") == "é è à ù É"
    assert is_gsm7(gsm7("ç ê î ô û â ë ï œ Ç ’ … \u202f 🙂"))
    assert not is_gsm7("ç") and not is_gsm7("ê") and not is_gsm7("Ç")


def test_the_time_is_the_paris_local_time_in_winter_and_in_summer():
    for starts_at, date in ((WINTER, "mardi 3 mars 2026"), (SUMMER, "mardi 7 juillet 2026")):
        v = view(starts_at=starts_at, ends_at=starts_at + dt.timedelta(minutes=20))
        assert f"{date} à 14 h 20" in email_subject("reminder", v)
        assert f"{date} à 14 h 20" in email_body("reminder", v)
        assert "à 14h20" in sms_text("reminder", v)


@pytest.mark.parametrize("kind", KINDS)
def test_each_email_names_the_patient_site_address_clinician_and_the_phone_to_cancel(kind):
    body = email_body(kind, view())
    subject = email_subject(kind, view())
    assert subject.startswith("SMP Laval — ")
    assert body.startswith("Bonjour Léa Moreau,")
    for expected in (
        "mardi 3 mars 2026 à 14 h 20",
        "Dr Anne Roy",
        "12 rue de la Paix",
        "53000 Laval",
        "02 43 00 10 00",
    ):
        assert expected in body, (expected, body)


def test_each_kind_says_what_happened_in_french():
    assert "Rappel" in email_subject("reminder", view())
    assert "Confirmation" in email_subject("confirmation", view())
    assert "annulé" in email_body("cancellation", view())
    assert "Annulation" in email_subject("cancellation", view())
    assert "est annulé" in sms_text("cancellation", view())
    assert "confirmé" in sms_text("confirmation", view())


def test_a_move_gives_the_old_and_the_new_time():
    old = WINTER - dt.timedelta(days=1, hours=5)  # lundi 2 mars, 09:20 in Paris
    body = email_body("move", view(), previous_starts_at=old)
    assert "Votre rendez-vous du lundi 2 mars 2026 à 09 h 20 est déplacé" in body
    assert "Date : mardi 3 mars 2026 à 14 h 20" in body
    text = sms_text("move", view(), previous_starts_at=old)
    assert "déplacé au mardi 3 mars à 14h20 (au lieu du lun 02/03 9h20)" in text


def test_a_home_visit_or_teleconsultation_gives_no_site_address_as_the_place():
    home = email_body("reminder", view(kind="home_visit"))
    assert "Lieu : à votre domicile" in home
    assert "Lieu : téléconsultation" in email_body("reminder", view(kind="teleconsultation"))
    assert "12 rue de la Paix" not in home
    assert "02 43 00 10 00" in home  # still the number to call


def test_a_site_without_phone_still_says_whom_to_contact():
    body = email_body("reminder", view(site_phone=""))
    assert "prévenir le secrétariat du SMP Laval afin" in body
    assert "Appelez" not in sms_text("reminder", view(site_phone=""))


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown message kind"):
        email_body("promotion", view())
    with pytest.raises(ValueError, match="unknown message kind"):
        sms_text("promotion", view())
    with pytest.raises(ValueError, match="unknown message kind"):
        email_subject("promotion", view())


def test_the_view_cannot_carry_health_information():
    names = {f.name for f in dataclasses.fields(AppointmentView)}
    assert not names & {"ald", "c2s", "fragile", "nir", "reason", "needs_home_visit", "needs_pmr", "birth_date"}
    assert messages.SIGNATURE == "Service Médical de Proximité"
