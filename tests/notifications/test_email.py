"""One email over SMTP, against a local aiosmtpd server."""

from __future__ import annotations

import dataclasses

import pytest

from app.notifications.email import EmailError, send_email


def test_an_email_is_delivered_in_utf8_with_its_french_subject(smtp_server, notification_settings):
    smtp_server.start()
    message_id = send_email(
        notification_settings, "lea@example.org", "Rappel : mardi 3 mars à 14 h 20", "Bonjour Léa,\n"
    )
    (mail_from, rcpt_tos, msg) = smtp_server.inbox.received[0]
    assert (mail_from, rcpt_tos) == ("rappels@smp53.example.fr", ["lea@example.org"])
    assert msg["Subject"] == "Rappel : mardi 3 mars à 14 h 20"
    assert msg["From"] == "SMP Laval <rappels@smp53.example.fr>"
    assert msg["Message-ID"] == message_id and message_id.endswith("@smp53.example.fr>")
    assert msg.get_content_charset() == "utf-8"
    assert msg.get_content().replace("\r\n", "\n") == "Bonjour Léa,\n"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_the_relay_login_is_used_when_configured(smtp_server, notification_settings):
    smtp_server.start(login=("smp", "bon-mot-de-passe"))
    good = dataclasses.replace(notification_settings, smtp_user="smp", smtp_password="bon-mot-de-passe")
    send_email(good, "lea@example.org", "Test", "Bonjour")
    assert len(smtp_server.inbox.received) == 1

    with pytest.raises(EmailError, match="identifiants SMTP refusés"):
        send_email(dataclasses.replace(good, smtp_password="mauvais"), "lea@example.org", "Test", "Bonjour")
    with pytest.raises(EmailError, match="refusé"):  # no login at all: the server wants one
        send_email(notification_settings, "lea@example.org", "Test", "Bonjour")
    assert len(smtp_server.inbox.received) == 1


def test_starttls_asked_of_a_relay_that_has_none_is_a_clear_error(smtp_server, notification_settings):
    smtp_server.start()
    with pytest.raises(EmailError, match="ne propose pas STARTTLS"):
        send_email(dataclasses.replace(notification_settings, smtp_starttls=True), "lea@example.org", "T", "B")
    assert smtp_server.inbox.received == []


def test_an_unreachable_relay_and_a_bad_address_are_clear_errors(smtp_server, notification_settings):
    with pytest.raises(EmailError, match=rf"serveur SMTP 127\.0\.0\.1:{smtp_server.port} injoignable"):
        send_email(notification_settings, "lea@example.org", "T", "B")
    with pytest.raises(EmailError, match="adresse e-mail invalide"):
        send_email(notification_settings, "lea@example.org\nBcc: x@example.org", "T", "B")
