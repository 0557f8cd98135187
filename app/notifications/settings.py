"""SMTP and SMS settings, read from the environment.

They live here until ``app.settings.Settings`` grows the same fields; nothing in them is needed
to start the application (the defaults send to a local SMTP relay and keep SMS in the outbox).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.settings import SettingsError

SMS_PROVIDERS = ("outbox",)
"""Known SMS providers; ``outbox`` only records the message (the production provider plugs in here)."""

_TRUE = {"1", "true", "yes", "on", "oui"}
_FALSE = {"0", "false", "no", "off", "non", ""}


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name} must be 1 or 0 (true/false), got {raw!r}")


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc
    if not lo <= value <= hi:
        raise SettingsError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


@dataclass(frozen=True)
class NotificationSettings:
    smtp_host: str = "127.0.0.1"
    """SMTP relay (``SMP_SMTP_HOST``)."""
    smtp_port: int = 25
    """SMTP port (``SMP_SMTP_PORT``)."""
    smtp_sender: str = "SMP <no-reply@smp.invalid>"
    """``From`` of every email (``SMP_SMTP_SENDER``)."""
    smtp_starttls: bool = False
    """Upgrade the connection with STARTTLS before anything else (``SMP_SMTP_STARTTLS=1``)."""
    smtp_user: str | None = None
    """Login, when the relay asks for one (``SMP_SMTP_USER``, with ``SMP_SMTP_PASSWORD``)."""
    smtp_password: str | None = field(default=None, repr=False)
    smtp_timeout_s: int = 10
    """Seconds to wait for the relay at each step (``SMP_SMTP_TIMEOUT``)."""
    sms_provider: str = "outbox"
    """Which SMS provider sends (``SMP_SMS_PROVIDER``); ``outbox`` only records."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> NotificationSettings:
        """Read the ``SMP_SMTP_*`` / ``SMP_SMS_*`` variables; raises :class:`SettingsError` on a bad value."""
        env = os.environ if env is None else env
        user = env.get("SMP_SMTP_USER") or None
        password = env.get("SMP_SMTP_PASSWORD") or None
        if password and not user:
            raise SettingsError("SMP_SMTP_PASSWORD is set but SMP_SMTP_USER is not")
        if user and not password:
            raise SettingsError("SMP_SMTP_USER is set but SMP_SMTP_PASSWORD is not")
        provider = (env.get("SMP_SMS_PROVIDER") or "outbox").strip().lower()
        if provider not in SMS_PROVIDERS:
            raise SettingsError(f"SMP_SMS_PROVIDER must be one of {', '.join(SMS_PROVIDERS)}, got {provider!r}")
        sender = (env.get("SMP_SMTP_SENDER") or cls.smtp_sender).strip()
        if "@" not in sender or "\n" in sender or "\r" in sender:
            raise SettingsError(f"SMP_SMTP_SENDER must be an email address, got {sender!r}")
        return cls(
            smtp_host=(env.get("SMP_SMTP_HOST") or cls.smtp_host).strip(),
            smtp_port=_int(env, "SMP_SMTP_PORT", cls.smtp_port, 1, 65535),
            smtp_sender=sender,
            smtp_starttls=_flag(env, "SMP_SMTP_STARTTLS", False),
            smtp_user=user,
            smtp_password=password,
            smtp_timeout_s=_int(env, "SMP_SMTP_TIMEOUT", cls.smtp_timeout_s, 1, 300),
            sms_provider=provider,
        )
