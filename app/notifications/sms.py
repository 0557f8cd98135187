"""SMS: the provider interface, the recording provider, and French mobile numbers."""

from __future__ import annotations

import re
from typing import Protocol, runtime_checkable

from app.notifications.settings import NotificationSettings


class SmsError(RuntimeError):
    """The provider did not take the message; the text (French) is stored on the outbox message."""


@runtime_checkable
class SmsProvider(Protocol):
    """What an SMS carrier must offer. ``to`` is E.164 (``+33612345678``), ``text`` is GSM-7."""

    def send(self, to: str, text: str) -> str:
        """Hand the message to the carrier; returns the carrier's message id. Raises :class:`SmsError`."""
        ...


class OutboxSmsProvider:
    """The placeholder until the production carrier is configured: it sends nothing, and the
    message stays in the outbox (the secretaries' view) as ``sent`` with provider id ``outbox``."""

    name = "outbox"

    def send(self, to: str, text: str) -> str:
        if not to.startswith("+"):
            raise SmsError(f"numéro non international : {to!r}")
        return "outbox"


def get_sms_provider(settings: NotificationSettings) -> SmsProvider:
    """The provider ``SMP_SMS_PROVIDER`` names (only ``outbox`` so far)."""
    if settings.sms_provider == "outbox":
        return OutboxSmsProvider()
    raise SmsError(f"fournisseur SMS inconnu : {settings.sms_provider!r}")


_SEPARATORS = re.compile(r"[\s.\-/()]")
_MOBILE = re.compile(r"^(?:\+33|0033|0)([67]\d{8})$")


def mobile_e164(phone: str | None) -> str | None:
    """``+33612345678`` when ``phone`` is a French mobile (06/07, +33 6/7, 0033 6/7), else None."""
    if not phone:
        return None
    compact = _SEPARATORS.sub("", phone)
    found = _MOBILE.match(compact)
    return f"+33{found.group(1)}" if found else None
