"""SMTP/SMS settings from the environment, French mobile numbers, the recording SMS provider."""

from __future__ import annotations

import pytest

from app.notifications.settings import NotificationSettings
from app.notifications.sms import OutboxSmsProvider, SmsError, SmsProvider, get_sms_provider, mobile_e164
from app.settings import SettingsError


def test_settings_have_safe_defaults_when_nothing_is_set():
    s = NotificationSettings.from_env({})
    assert (s.smtp_host, s.smtp_port, s.smtp_sender) == ("127.0.0.1", 25, "SMP <no-reply@smp.invalid>")
    assert s.smtp_starttls is False and s.smtp_user is None and s.sms_provider == "outbox"


def test_settings_are_read_from_the_environment_and_the_password_is_not_shown():
    s = NotificationSettings.from_env(
        {
            "SMP_SMTP_HOST": "smtp.example.fr",
            "SMP_SMTP_PORT": "587",
            "SMP_SMTP_SENDER": "SMP 53 <rappels@smp53.example.fr>",
            "SMP_SMTP_STARTTLS": "1",
            "SMP_SMTP_USER": "smp",
            "SMP_SMTP_PASSWORD": "s3cret-value",
            "SMP_SMS_PROVIDER": "outbox",
        }
    )
    assert (s.smtp_host, s.smtp_port, s.smtp_starttls, s.smtp_user) == ("smtp.example.fr", 587, True, "smp")
    assert "s3cret-value" not in repr(s)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SMP_SMTP_PORT": "vingt-cinq"}, "SMP_SMTP_PORT must be an integer"),
        ({"SMP_SMTP_PORT": "70000"}, "between 1 and 65535"),
        ({"SMP_SMTP_STARTTLS": "peut-être"}, "SMP_SMTP_STARTTLS must be 1 or 0"),
        ({"SMP_SMTP_USER": "smp"}, "SMP_SMTP_PASSWORD is not"),
        ({"SMP_SMS_PROVIDER": "pigeon"}, "SMP_SMS_PROVIDER must be one of outbox"),
        ({"SMP_SMTP_SENDER": "personne"}, "SMP_SMTP_SENDER must be an email address"),
    ],
)
def test_a_bad_setting_is_a_clear_error(env, message):
    with pytest.raises(SettingsError, match=message):
        NotificationSettings.from_env(env)


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("07.12.34.56.78", "+33712345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("0033712345678", "+33712345678"),
        ("02 43 00 10 00", None),  # landline
        ("09 70 00 00 00", None),
        ("06 12 34 56", None),  # too short
        ("", None),
        (None, None),
    ],
)
def test_only_french_mobiles_get_sms(phone, expected):
    assert mobile_e164(phone) == expected


def test_the_outbox_provider_records_without_sending():
    provider = get_sms_provider(NotificationSettings())
    assert isinstance(provider, OutboxSmsProvider)
    assert isinstance(provider, SmsProvider)
    assert provider.send("+33612345678", "SMP: test") == "outbox"
    with pytest.raises(SmsError):
        provider.send("0612345678", "SMP: test")
