"""Queue and send patient notifications.

Transactions: :func:`notify` and :func:`queue_due_reminders` only add rows (they flush, never
commit): the caller's request or CLI command commits them with the booking change that caused
them, so a rolled-back cancellation sends nothing. :func:`send_queued` is different: every send is
an irreversible act outside the database, so it **commits** around each message (claim, then
outcome) and must be called with no other pending change in the session (it would commit it too).

Delivery is at least once: a message is claimed (``attempts + 1``) and committed before it goes
out, so two concurrent runs never send the same message, and a run that dies in between leaves
it to be retried by the next one. A failure stays ``failed`` with its error and is retried by the
next run until :data:`MAX_ATTEMPTS`; a reminder whose appointment was cancelled, moved or is
past is ``withdrawn`` instead of sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import CursorResult, Table, exists, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from uuid_utils.compat import uuid7

from app.core.dates import PARIS
from app.db.engine import immediate
from app.notifications import messages
from app.notifications.email import EmailError, send_email
from app.notifications.models import KINDS, MAX_ATTEMPTS, OutboxMessage
from app.notifications.settings import NotificationSettings
from app.notifications.sms import SmsError, SmsProvider, get_sms_provider, mobile_e164
from app.notifications.view import appointment_view
from app.patients.models import Patient
from app.rota.models import Booking, RotaSession, Slot

log = logging.getLogger(__name__)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
RETRYABLE = ("queued", "failed")


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    withdrawn: int = 0
    skipped: int = 0
    """Claimed by another run in the meantime."""
    errors: list[str] = field(default_factory=list)
    """``<message id> (<channel>): <error>`` of this run's failures, the recipient masked."""

    def as_dict(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "withdrawn": self.withdrawn,
            "skipped": self.skipped,
            "errors": self.errors,
        }


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")


def dedup_key(
    kind: str,
    booking_id: uuid.UUID,
    channel: str,
    starts_at: dt.datetime,
    *,
    now: dt.datetime,
    previous_starts_at: dt.datetime | None = None,
) -> str:
    """The outbox's idempotence key.

    A reminder exists once per booking, channel and appointment time: queuing it again is a no-op,
    and a moved booking gets a reminder for its new time (a withdrawn reminder frees its key, so a
    cancellation undone still gets reminded). A confirmation, a cancellation or a move is an event
    that may happen again for the same booking and time (cancel, undo, cancel; A→B, B→A, A→B), so
    its key also carries the time it was notified: the same call repeated is a no-op, a new event
    is a new message.
    """
    key = f"{kind}:{booking_id}:{channel}:{_iso(starts_at)}"
    if kind == "move":
        key += f":from:{_iso(previous_starts_at) if previous_starts_at else '-'}"
    if kind != "reminder":
        key += f":at:{now.astimezone(dt.UTC).isoformat()}"
    return key


def email_recipient(patient: Patient) -> str | None:
    address = (patient.email or "").strip()
    return address if _EMAIL.match(address) else None


def insert_rows(session: Session, rows: list[dict[str, object]]) -> list[uuid.UUID]:
    """Insert outbox rows built by :func:`compose`, skipping any already queued (same dedup key):
    the ids inserted. :func:`queue` is the same returning the messages."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    builder = pg_insert if dialect == "postgresql" else sqlite_insert
    # The rows go as parameters, not inside the statement, so it is compiled once per process
    # and not at every booking (under the write lock).
    table = OutboxMessage.__table__
    assert isinstance(table, Table)
    stmt = builder(table).on_conflict_do_nothing(index_elements=["dedup_key"]).returning(table.c.id)
    return list(session.scalars(stmt, rows))


def notify(
    session: Session,
    booking: Booking,
    kind: str,
    now: dt.datetime,
    *,
    previous_starts_at: dt.datetime | None = None,
) -> list[OutboxMessage]:
    """Queue the messages telling the patient about ``booking`` (its current slot): an email when the
    patient has an address, an SMS when the phone is a French mobile.

    ``kind`` is ``reminder``, ``confirmation``, ``cancellation`` or ``move`` (for a move, pass the
    old start as ``previous_starts_at``; the booking already points at its new slot). Returns the
    messages queued by this call: empty when the patient can be reached by neither channel (tell the
    secretary to phone) or when the same message was already queued. Flushes, never commits.
    """
    session.flush()
    return queue(session, compose(session, booking, kind, now, previous_starts_at=previous_starts_at))


def compose(
    session: Session,
    booking: Booking,
    kind: str,
    now: dt.datetime,
    *,
    previous_starts_at: dt.datetime | None = None,
    slot: Slot | None = None,
) -> list[dict[str, object]]:
    """The outbox rows :func:`notify` would queue, built but not written.

    It only reads (the patient, the slot, its session, site and clinician), so a write path can
    build its messages before it takes the write lock and hold the lock only to insert them with
    :func:`insert_rows` (or :func:`queue`). ``booking`` needs its ``id``, ``kind`` and
    ``patient_id``; it may not be in the session yet when ``slot`` is given.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    patient = session.get(Patient, booking.patient_id)  # first, and held: the view reads it too
    view = appointment_view(session, booking, slot)
    assert patient is not None  # appointment_view checked it
    stamp = now.astimezone(dt.UTC)
    base: dict[str, object] = {
        "kind": kind,
        "booking_id": booking.id,
        "appointment_at": view.starts_at,
        "status": "queued",
        "attempts": 0,
        "error": "",
        "provider_ref": "",
        "created_at": stamp,
        "updated_at": stamp,
    }
    rows: list[dict[str, object]] = []
    address = email_recipient(patient)
    if address:
        rows.append(
            {
                **base,
                "id": uuid.UUID(bytes=uuid7().bytes),
                "channel": "email",
                "recipient": address,
                "subject": messages.email_subject(kind, view),
                "body": messages.email_body(kind, view, previous_starts_at),
                "dedup_key": dedup_key(
                    kind, booking.id, "email", view.starts_at, now=stamp, previous_starts_at=previous_starts_at
                ),
            }
        )
    mobile = mobile_e164(patient.phone)
    if mobile:
        rows.append(
            {
                **base,
                "id": uuid.UUID(bytes=uuid7().bytes),
                "channel": "sms",
                "recipient": mobile,
                "subject": "",
                "body": messages.sms_text(kind, view, previous_starts_at),
                "dedup_key": dedup_key(
                    kind, booking.id, "sms", view.starts_at, now=stamp, previous_starts_at=previous_starts_at
                ),
            }
        )
    return rows


def queue(session: Session, rows: list[dict[str, object]]) -> list[OutboxMessage]:
    """Insert rows built by :func:`compose`; the messages queued (a duplicate is skipped)."""
    ids = insert_rows(session, rows)
    if not ids:
        return []
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.channel)))


def tomorrow_bounds(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """UTC bounds of the Europe/Paris calendar day after ``now`` (23, 24 or 25 hours long)."""
    day = now.astimezone(PARIS).date() + dt.timedelta(days=1)
    start = dt.datetime.combine(day, dt.time(0), tzinfo=PARIS)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=PARIS)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def queue_due_reminders(session: Session, now: dt.datetime) -> int:
    """Queue the reminders of every live booking (``booked``, open slot, published session) whose
    slot starts tomorrow in Europe/Paris. Idempotent: run it as often as wanted, a reminder is
    queued once per booking, channel and appointment time. Returns how many messages it queued.
    Flushes, never commits."""
    start, end = tomorrow_bounds(now)
    already = exists().where(
        OutboxMessage.booking_id == Booking.id,
        OutboxMessage.kind == "reminder",
        OutboxMessage.appointment_at == Slot.starts_at,
        OutboxMessage.status != "withdrawn",
    )
    due: Sequence[Booking] = session.scalars(
        select(Booking)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(RotaSession, RotaSession.id == Slot.session_id)
        .where(
            Booking.status == "booked",
            Slot.status == "open",
            RotaSession.status == "published",
            Slot.starts_at >= start,
            Slot.starts_at < end,
            ~already,
        )
        .order_by(Slot.starts_at)
    ).all()
    return sum(len(notify(session, booking, "reminder", now)) for booking in due)


def _stale_reason(session: Session, msg: OutboxMessage, now: dt.datetime) -> str:
    """Why the message must not go out any more (empty when it still should). Every kind is
    checked against the booking as it is now: a confirmation of a booking sent to "to rebook"
    since, or a cancellation of a booking restored since, would mislead the patient."""
    if msg.appointment_at is not None and msg.appointment_at <= now:
        return "non envoyé : l'heure du rendez-vous est passée"
    booking = (
        session.scalar(select(Booking).where(Booking.id == msg.booking_id).execution_options(populate_existing=True))
        if msg.booking_id
        else None
    )
    if booking is None:
        return "non envoyé : rendez-vous supprimé"
    if msg.kind == "cancellation":
        return "non envoyé : le rendez-vous a été rétabli" if booking.status == "booked" else ""
    if booking.status != "booked":
        return "non envoyé : le rendez-vous n'est plus prévu"
    if booking.starts_at != msg.appointment_at:
        return "non envoyé : le rendez-vous a changé d'heure"
    return ""


def _deliver(msg: OutboxMessage, settings: NotificationSettings, provider: SmsProvider) -> str:
    if msg.channel == "email":
        return send_email(settings, msg.recipient, msg.subject, msg.body)
    return provider.send(msg.recipient, msg.body)


def send_queued(
    session: Session,
    settings: NotificationSettings,
    now: dt.datetime,
    *,
    sms_provider: SmsProvider | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    limit: int | None = None,
) -> SendReport:
    """Send what is ``queued`` (and retry what ``failed`` fewer than ``max_attempts`` times), oldest
    first: email over SMTP, SMS through ``sms_provider`` (default: the configured one).
    **Commits** after each claim and each outcome (see the module docstring)."""
    provider = sms_provider or get_sms_provider(settings)
    report = SendReport()
    session.commit()
    stmt = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status.in_(RETRYABLE), OutboxMessage.attempts < max_attempts)
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    ids = list(session.scalars(stmt))
    session.commit()
    for message_id in ids:
        immediate(session)
        msg = session.get(OutboxMessage, message_id, populate_existing=True)
        if msg is None or msg.status not in RETRYABLE or msg.attempts >= max_attempts:
            session.commit()
            report.skipped += 1
            continue
        reason = _stale_reason(session, msg, now)
        if reason:
            msg.status = "withdrawn"
            msg.error = reason
            msg.dedup_key = f"{msg.dedup_key}:withdrawn:{msg.id}"[:200]
            session.commit()
            report.withdrawn += 1
            continue
        claimed = cast(
            "CursorResult[Any]",
            session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == message_id,
                    OutboxMessage.attempts == msg.attempts,
                    OutboxMessage.status.in_(RETRYABLE),
                )
                .values(attempts=OutboxMessage.attempts + 1, last_attempt_at=now, updated_at=dt.datetime.now(dt.UTC))
                .execution_options(synchronize_session=False)
            ),
        ).rowcount
        session.commit()
        if not claimed:
            report.skipped += 1
            continue
        session.refresh(msg)
        try:
            ref = _deliver(msg, settings, provider)
        except (EmailError, SmsError) as exc:
            error = str(exc)
        except Exception as exc:  # a carrier's bug must not stop the others; no content in the log
            log.exception("outbox message %s: unexpected %s", message_id, type(exc).__name__)
            error = f"erreur inattendue ({type(exc).__name__})"
        else:
            msg.status = "sent"
            msg.sent_at = now
            msg.error = ""
            msg.provider_ref = ref[:100]
            session.commit()
            report.sent += 1
            continue
        msg.status = "failed"
        msg.error = error[:500]
        session.commit()
        report.failed += 1
        report.errors.append(f"{message_id} ({msg.channel}): {error.replace(msg.recipient, '<destinataire>')}")
        log.warning("outbox message %s failed (attempt %d): %s", message_id, msg.attempts, msg.channel)
    return report


def requeue(message: OutboxMessage) -> None:
    """Give a message that used up its attempts a fresh start (after fixing the relay or the address).
    The caller commits."""
    if message.status == "sent":
        raise ValueError("message already sent")
    message.status = "queued"
    message.attempts = 0
    message.error = ""


def messages_for_booking(session: Session, booking_id: uuid.UUID) -> list[OutboxMessage]:
    """What the patient was told about one booking, oldest first (for the booking page)."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.booking_id == booking_id)
            .order_by(OutboxMessage.created_at, OutboxMessage.channel)
        )
    )
