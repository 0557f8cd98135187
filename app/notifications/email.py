"""Sending one email over SMTP (standard library only)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from app.notifications.settings import NotificationSettings


class EmailError(RuntimeError):
    """The relay could not be reached or refused the message; the text says which, in French
    (it is stored on the outbox message and shown to the secretaries)."""


def build_email(settings: NotificationSettings, to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text UTF-8 message with ``Message-ID``, ``Date`` and ``Auto-Submitted`` headers."""
    if not to or "@" not in to or any(c.isspace() for c in to):
        raise EmailError("adresse e-mail invalide")
    msg = EmailMessage()
    msg["From"] = settings.smtp_sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(settings.smtp_sender)[1].rpartition("@")[2] or "smp.invalid"
    msg["Message-ID"] = make_msgid(domain=domain)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    msg.set_content(body, charset="utf-8")
    return msg


def _sender_address(settings: NotificationSettings) -> str:
    return parseaddr(settings.smtp_sender)[1] or "no-reply@smp.invalid"


def send_email(settings: NotificationSettings, to: str, subject: str, body: str) -> str:
    """Send one message; returns its ``Message-ID``. Raises :class:`EmailError` on any failure
    (relay unreachable, timeout, TLS or login refused, recipient or message refused)."""
    msg = build_email(settings, to, subject, body)
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s) as smtp:
            smtp.ehlo()
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.smtp_user and settings.smtp_password:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(msg, from_addr=_sender_address(settings), to_addrs=[to])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = "; ".join(f"{code} {reply.decode(errors='replace')}" for code, reply in exc.recipients.values())
        raise EmailError(f"destinataire refusé par le serveur SMTP {where} : {codes}") from exc
    except smtplib.SMTPAuthenticationError as exc:
        raise EmailError(f"identifiants SMTP refusés par {where} ({exc.smtp_code})") from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise EmailError(f"le serveur SMTP {where} ne propose pas STARTTLS ou l'authentification : {exc}") from exc
    except smtplib.SMTPResponseException as exc:
        reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        raise EmailError(f"message refusé par le serveur SMTP {where} : {exc.smtp_code} {reply}") from exc
    except smtplib.SMTPException as exc:
        raise EmailError(f"échec SMTP avec {where} : {exc}") from exc
    except ssl.SSLError as exc:
        raise EmailError(f"échec TLS avec le serveur SMTP {where} : {exc.reason or exc}") from exc
    except TimeoutError as exc:
        raise EmailError(f"serveur SMTP {where} : pas de réponse en {settings.smtp_timeout_s} s") from exc
    except OSError as exc:
        raise EmailError(f"serveur SMTP {where} injoignable : {exc.strerror or exc}") from exc
    return str(msg["Message-ID"])
