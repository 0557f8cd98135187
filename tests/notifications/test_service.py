"""Queuing and sending patient notifications against the migrated demo database and a local SMTP server."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from app.notifications.messages import is_gsm7
from app.notifications.models import OutboxMessage
from app.notifications.service import notify, queue_due_reminders, send_queued, tomorrow_bounds
from app.notifications.sms import SmsError
from tests.notifications.helpers import paris

HEALTH_WORDS = re.compile(r"\b(ALD|C2S|CMU|fragil\w*|affection|longue durée|complémentaire|chronique|NIR)\b", re.I)


def outbox(db, *bookings) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    stmt = select(OutboxMessage).order_by(OutboxMessage.created_at, OutboxMessage.channel)
    if bookings:
        stmt = stmt.where(OutboxMessage.booking_id.in_([b.id for b in bookings]))
    return list(db.scalars(stmt.execution_options(populate_existing=True)))


def mails_to(server, address: str) -> list:  # type: ignore[no-untyped-def]
    return [item for item in server.inbox.received if item[1] == [address]]


def assert_no_health_information(text: str, patient) -> None:  # type: ignore[no-untyped-def]
    assert not HEALTH_WORDS.search(text), text
    assert patient.nir not in text
    assert patient.nir[:13] not in text


def test_tomorrow_is_the_next_paris_calendar_day_even_across_a_clock_change():
    # 28 March 2026, 23:30 in Paris is 22:30 UTC; the next day (clocks go forward) lasts 23 hours.
    start, end = tomorrow_bounds(dt.datetime(2026, 3, 28, 22, 30, tzinfo=dt.UTC))
    assert start == dt.datetime(2026, 3, 28, 23, 0, tzinfo=dt.UTC)
    assert end - start == dt.timedelta(hours=23)
    # 00:30 in Paris is still the previous day in UTC: tomorrow is counted from the Paris date.
    start, _ = tomorrow_bounds(dt.datetime(2026, 6, 9, 22, 30, tzinfo=dt.UTC))  # 10 June, 00:30 Paris
    assert start == dt.datetime(2026, 6, 10, 22, 0, tzinfo=dt.UTC)  # 11 June, 00:00 Paris


def test_reminders_are_queued_once_for_tomorrows_live_bookings_only(db, clinic, rota_day):
    patient = clinic.patient()
    s1, s2, s3 = clinic.free_slots(rota_day, 3)
    tomorrow = clinic.book(s1, patient)
    cancelled = clinic.book(s2, clinic.patient(first_name="Paul", email=None))
    cancelled.status = "cancelled"
    to_rebook = clinic.book(s3, clinic.patient(first_name="Inès", email=None))
    to_rebook.status = "to_rebook"
    (later,) = clinic.free_slots(rota_day + dt.timedelta(days=1))
    day_after = clinic.book(later, clinic.patient(first_name="Jules"))
    ours = (tomorrow, cancelled, to_rebook, day_after)

    now = paris(rota_day - dt.timedelta(days=1), 18)
    queue_due_reminders(db, now)
    first = outbox(db, *ours)
    assert {(m.booking_id, m.channel, m.kind) for m in first} == {
        (tomorrow.id, "email", "reminder"),
        (tomorrow.id, "sms", "reminder"),
    }
    assert {m.status for m in first} == {"queued"}
    assert {m.appointment_at for m in first} == {s1.starts_at}

    assert queue_due_reminders(db, now + dt.timedelta(hours=1)) == 0
    db.commit()
    assert queue_due_reminders(db, now + dt.timedelta(hours=2)) == 0
    assert len(outbox(db, *ours)) == 2


def test_tomorrow_counts_in_paris_time_just_after_midnight(db, clinic, rota_day):
    (slot,) = clinic.free_slots(rota_day)
    booking = clinic.book(slot, clinic.patient())
    # 00:30 in Paris on the day before is still two days before in UTC.
    now = paris(rota_day - dt.timedelta(days=1), 0, 30)
    assert now.astimezone(dt.UTC).date() == rota_day - dt.timedelta(days=2)
    queue_due_reminders(db, now)
    assert len(outbox(db, booking)) == 2
    # ...while at 23:59 two days before, the appointment is not tomorrow yet.
    (other,) = clinic.free_slots(rota_day + dt.timedelta(days=1))
    later = clinic.book(other, clinic.patient(first_name="Jules"))
    queue_due_reminders(db, paris(rota_day - dt.timedelta(days=1), 23, 59))
    assert outbox(db, later) == []


def test_the_reminder_email_reaches_a_local_smtp_server_in_french_without_health_information(
    db, clinic, rota_day, smtp_server, notification_settings
):
    patient = clinic.patient(ald=True, c2s=True, fragile=True, needs_home_visit=True, nir="2500153130123")
    patient.nir = "250015313012345"
    (slot,) = clinic.free_slots(rota_day)
    booking = clinic.book(slot, patient)
    now = paris(rota_day - dt.timedelta(days=1), 18)
    queue_due_reminders(db, now)
    smtp_server.start()

    report = send_queued(db, notification_settings, now)

    assert report.sent >= 2 and report.failed == 0, report  # (the demo clinic's own bookings too)
    (received,) = mails_to(smtp_server, "francoise.lefevre@example.org")
    mail_from, rcpt_tos, msg = received
    assert mail_from == "rappels@smp53.example.fr"
    assert rcpt_tos == ["francoise.lefevre@example.org"]
    local = slot.starts_at.astimezone(paris(rota_day, 0).tzinfo)
    from app.core.dates import date_fr

    when = f"{date_fr(rota_day)} à {local:%H} h {local:%M}"
    assert msg["Subject"].startswith("SMP ")
    assert f"Rappel : rendez-vous le {when}" in msg["Subject"]
    assert msg["Auto-Submitted"] == "auto-generated"
    body = msg.get_content()
    assert body.startswith("Bonjour Françoise Lefèvre,")
    from app.rota.models import RotaSession

    rs = db.get(RotaSession, slot.session_id)
    for expected in (when, rs.clinician.display_name, rs.site.name, rs.site.address, rs.site.phone):
        assert expected in body, (expected, body)
    assert_no_health_information(msg["Subject"] + body, patient)

    sent = outbox(db, booking)
    assert {(m.channel, m.status, m.attempts, m.error) for m in sent} == {
        ("email", "sent", 1, ""),
        ("sms", "sent", 1, ""),
    }
    assert all(m.sent_at == now for m in sent)
    sms = next(m for m in sent if m.channel == "sms")
    assert sms.recipient == "+33612345678" and sms.provider_ref == "outbox" and sms.subject == ""
    assert_no_health_information(sms.body, patient)

    assert send_queued(db, notification_settings, now).sent == 0  # nothing is sent twice
    assert len(mails_to(smtp_server, "francoise.lefevre@example.org")) == 1


def test_a_cancellation_notifies_the_patient_by_sms_into_the_outbox(db, clinic, rota_day, notification_settings):
    patient = clinic.patient(first_name="Jérôme", last_name="Garçon", email=None, phone="07 98 76 54 32")
    (slot,) = clinic.free_slots(rota_day)
    booking = clinic.book(slot, patient)
    booking.status = "cancelled"
    now = paris(rota_day - dt.timedelta(days=5), 10)

    queued = notify(db, booking, "cancellation", now)

    assert [(m.channel, m.kind, m.recipient, m.status) for m in queued] == [
        ("sms", "cancellation", "+33798765432", "queued")
    ]
    text = queued[0].body
    assert "de Jérome du " in text and "est annulé" in text  # ô is not GSM-7, é is
    assert is_gsm7(text) and len(text) <= 160
    assert notify(db, booking, "cancellation", now) == []  # queued once
    send_queued(db, notification_settings, now)
    (msg,) = outbox(db, booking)
    assert (msg.status, msg.provider_ref, msg.attempts) == ("sent", "outbox", 1)


def test_an_smtp_failure_leaves_the_message_failed_then_the_next_run_sends_it(
    db, clinic, rota_day, smtp_server, notification_settings
):
    (slot,) = clinic.free_slots(rota_day)
    booking = clinic.book(slot, clinic.patient(phone="02 43 11 22 33"))  # a landline: email only
    now = paris(rota_day - dt.timedelta(days=1), 18)
    assert queue_due_reminders(db, now) >= 1

    down = send_queued(db, notification_settings, now)  # nothing listens on the port yet

    assert down.failed >= 1
    (msg,) = outbox(db, booking)
    assert (msg.status, msg.attempts, msg.sent_at) == ("failed", 1, None)
    assert "injoignable" in msg.error and str(smtp_server.port) in msg.error
    (line,) = [e for e in down.errors if str(msg.id) in e]
    assert "injoignable" in line and "francoise" not in line

    smtp_server.start()
    up = send_queued(db, notification_settings, now + dt.timedelta(minutes=30))

    assert up.sent >= 1 and up.failed == 0
    (msg,) = outbox(db, booking)
    assert (msg.status, msg.attempts, msg.error) == ("sent", 2, "")
    assert msg.sent_at == now + dt.timedelta(minutes=30)
    assert len(mails_to(smtp_server, "francoise.lefevre@example.org")) == 1


class BrokenCarrier:
    name = "broken"

    def __init__(self) -> None:
        self.calls = 0

    def send(self, to: str, text: str) -> str:
        self.calls += 1
        raise SmsError("opérateur indisponible (503)")


def test_a_message_is_given_up_after_three_failed_attempts(db, clinic, rota_day, notification_settings):
    (slot,) = clinic.free_slots(rota_day)
    booking = clinic.book(slot, clinic.patient(email=None))
    now = paris(rota_day - dt.timedelta(days=3), 9)
    notify(db, booking, "confirmation", now)
    carrier = BrokenCarrier()
    for hour in range(5):
        send_queued(db, notification_settings, now + dt.timedelta(hours=hour), sms_provider=carrier)
    assert carrier.calls == 3
    (msg,) = outbox(db, booking)
    assert (msg.status, msg.attempts, msg.error) == ("failed", 3, "opérateur indisponible (503)")
    assert msg.sent_at is None


def test_a_reminder_whose_booking_was_cancelled_meanwhile_is_withdrawn_not_sent(
    db, clinic, rota_day, smtp_server, notification_settings
):
    (slot,) = clinic.free_slots(rota_day)
    booking = clinic.book(slot, clinic.patient())
    now = paris(rota_day - dt.timedelta(days=1), 18)
    queue_due_reminders(db, now)
    booking.status = "cancelled"
    db.flush()
    smtp_server.start()

    report = send_queued(db, notification_settings, now)

    assert report.withdrawn == 2
    assert {(m.status, m.error) for m in outbox(db, booking)} == {
        ("withdrawn", "non envoyé : le rendez-vous n'est plus prévu")
    }
    assert mails_to(smtp_server, "francoise.lefevre@example.org") == []


def test_a_moved_booking_is_told_of_the_move_and_reminded_of_its_new_time(db, clinic, rota_day, notification_settings):
    old, new = clinic.free_slots(rota_day, 2)
    booking = clinic.book(old, clinic.patient(email=None))
    eve = paris(rota_day - dt.timedelta(days=1), 18)
    queue_due_reminders(db, eve)
    clinic.move(booking, new)

    moved = notify(db, booking, "move", eve + dt.timedelta(minutes=5), previous_starts_at=old.starts_at)
    queue_due_reminders(db, eve + dt.timedelta(minutes=10))
    send_queued(db, notification_settings, eve + dt.timedelta(minutes=15))

    assert [m.kind for m in moved] == ["move"]
    states = {(m.kind, m.appointment_at, m.status) for m in outbox(db, booking)}
    assert states == {
        ("reminder", old.starts_at, "withdrawn"),
        ("move", new.starts_at, "sent"),
        ("reminder", new.starts_at, "sent"),
    }


def test_a_patient_with_neither_email_nor_mobile_gets_no_message(db, clinic, rota_day):
    (slot,) = clinic.free_slots(rota_day)
    booking = clinic.book(slot, clinic.patient(email="pas-une-adresse", phone="02 43 00 00 00"))
    assert notify(db, booking, "confirmation", paris(rota_day - dt.timedelta(days=2), 9)) == []
    assert outbox(db, booking) == []


def test_an_unknown_kind_queues_nothing(db, clinic, rota_day):
    (slot,) = clinic.free_slots(rota_day)
    booking = clinic.book(slot, clinic.patient())
    with pytest.raises(ValueError, match="unknown message kind"):
        notify(db, booking, "newsletter", paris(rota_day, 8))
    assert outbox(db, booking) == []


def test_a_cancellation_undone_then_cancelled_again_is_notified_twice_and_reminded_in_between(
    db, clinic, rota_day, notification_settings
):
    (slot,) = clinic.free_slots(rota_day)
    booking = clinic.book(slot, clinic.patient(email=None))
    eve = paris(rota_day - dt.timedelta(days=1), 9)
    queue_due_reminders(db, eve)
    booking.status = "cancelled"
    first = notify(db, booking, "cancellation", eve + dt.timedelta(minutes=1))
    assert notify(db, booking, "cancellation", eve + dt.timedelta(minutes=1)) == []  # the same call twice
    send_queued(db, notification_settings, eve + dt.timedelta(minutes=2))  # the reminder is withdrawn

    booking.status = "booked"  # the secretary undoes the cancellation
    db.flush()
    assert queue_due_reminders(db, eve + dt.timedelta(hours=1)) >= 1
    booking.status = "cancelled"
    second = notify(db, booking, "cancellation", eve + dt.timedelta(hours=2))

    assert len(first) == len(second) == 1
    kinds = sorted((m.kind, m.status) for m in outbox(db, booking))
    assert kinds == [
        ("cancellation", "queued"),
        ("cancellation", "sent"),
        ("reminder", "queued"),
        ("reminder", "withdrawn"),
    ]


def test_the_smp_reminders_send_command_sends_the_queue_and_reports_json(db, clinic, rota_day, smtp_server):
    import json

    from click.testing import CliRunner

    from app.notifications.cli import reminders

    (slot,) = clinic.free_slots(rota_day)
    booking = clinic.book(slot, clinic.patient(email="cli.test@example.org"))
    notify(db, booking, "confirmation", dt.datetime.now(dt.UTC))
    db.commit()
    smtp_server.start()
    env = {"SMP_SMTP_HOST": "127.0.0.1", "SMP_SMTP_PORT": str(smtp_server.port), "SMP_SMTP_SENDER": "x@smp.invalid"}

    result = CliRunner().invoke(reminders, ["send", "--no-queue", "--json"], env=env)

    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["queued"] == 0 and data["sent"] >= 2 and data["failed"] == 0
    assert {m.status for m in outbox(db, booking)} == {"sent"}
    assert len(mails_to(smtp_server, "cli.test@example.org")) == 1

    bad = CliRunner().invoke(reminders, ["send"], env={"SMP_SMTP_PORT": "vingt-cinq"})
    assert bad.exit_code != 0 and "SMP_SMTP_PORT must be an integer" in bad.output
