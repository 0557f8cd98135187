"""Writes an audit row for every read or change of a patient record.

It hooks SQLAlchemy's session events, so no code path can load or change a ``Patient`` without
leaving a trace:

- a change (insert, update, delete) is written in the same transaction as the change itself,
  so it commits or rolls back with it;
- a read (an ORM load) is queued on the session. A transaction that writes carries the reads
  queued so far with its own commit (one commit, not two: on SQLite a second write transaction
  would queue again for the write lock); if it rolls back they are queued again. What is left is
  written by :func:`write_pending_reads`, which the web layer calls before every response and
  ``session_scope`` calls on exit — even when the request failed, since the record was read all
  the same.

Who acts comes from a context variable the authentication middleware (or the CLI) sets.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session
from uuid_utils.compat import uuid7

from app.audit.models import AuditEntry
from app.db.engine import holds_write_lock
from app.patients.models import Patient

log = logging.getLogger(__name__)

AUDITED_TYPES: dict[type, str] = {Patient: "patient"}
_PENDING_KEY = "audit_pending_reads"
_IN_FLIGHT_KEY = "audit_reads_in_flight"
"""Reads inserted in the transaction being committed: forgotten once it commits, queued again if
it rolls back."""


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID | None
    name: str


SYSTEM = Actor(None, "system")
_current_actor: ContextVar[Actor] = ContextVar("smp_audit_actor", default=SYSTEM)


def current_actor() -> Actor:
    return _current_actor.get()


@contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    token = _current_actor.set(actor)
    try:
        yield
    finally:
        _current_actor.reset(token)


def set_actor(actor: Actor) -> None:
    """Sets the actor for the rest of the current context (one request)."""
    _current_actor.set(actor)


def _row(action: str, object_type: str, object_id: object, detail: str = "") -> dict[str, object]:
    actor = current_actor()
    return {
        "id": _new_id(),
        "occurred_at": dt.datetime.now(dt.UTC),
        "created_at": dt.datetime.now(dt.UTC),
        "updated_at": dt.datetime.now(dt.UTC),
        "user_id": actor.user_id,
        "actor": actor.name[:80],
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "detail": detail[:255],
    }


def _new_id() -> uuid.UUID:
    return uuid.UUID(bytes=uuid7().bytes)


@event.listens_for(Session, "loaded_as_persistent")
def _on_load(session: Session, instance: object) -> None:
    object_type = AUDITED_TYPES.get(type(instance))
    if object_type is not None:
        pending: dict[str, str] = session.info.setdefault(_PENDING_KEY, {})
        pending[str(instance.id)] = object_type  # type: ignore[attr-defined]


@event.listens_for(Session, "after_flush")
def _on_flush(session: Session, _flush_context: object) -> None:
    rows = []
    for instance in session.new:
        if (object_type := AUDITED_TYPES.get(type(instance))) is not None:
            rows.append(_row("create", object_type, instance.id))  # type: ignore[attr-defined]
    for instance in session.dirty:
        object_type = AUDITED_TYPES.get(type(instance))
        if object_type is None or not session.is_modified(instance, include_collections=False):
            continue
        state = inspect(instance)
        changed = sorted(a.key for a in state.attrs if a.history.has_changes() and a.key not in {"updated_at"})
        # Field names only: never the values, which are health data.
        rows.append(_row("update", object_type, instance.id, "champs : " + ", ".join(changed)))  # type: ignore[attr-defined]
    for instance in session.deleted:
        if (object_type := AUDITED_TYPES.get(type(instance))) is not None:
            rows.append(_row("delete", object_type, instance.id))  # type: ignore[attr-defined]
    if rows:
        session.connection().execute(insert(AuditEntry), rows)


@event.listens_for(Session, "before_commit")
def _reads_with_the_commit(session: Session) -> None:
    if not session.info.get(_PENDING_KEY) or not holds_write_lock(session):
        return  # a read-only SQLite transaction must not become a writer here
    pending: dict[str, str] = session.info.pop(_PENDING_KEY)
    session.info.setdefault(_IN_FLIGHT_KEY, {}).update(pending)
    session.execute(insert(AuditEntry), [_row("read", t, oid) for oid, t in pending.items()])


@event.listens_for(Session, "after_commit")
def _reads_committed(session: Session) -> None:
    session.info.pop(_IN_FLIGHT_KEY, None)


@event.listens_for(Session, "after_rollback")
def _reads_rolled_back(session: Session) -> None:
    in_flight: dict[str, str] | None = session.info.pop(_IN_FLIGHT_KEY, None)
    if in_flight:
        session.info.setdefault(_PENDING_KEY, {}).update(in_flight)


def record(session: Session, action: str, object_type: str, object_id: object, detail: str = "") -> None:
    """An explicit audit row (a bulk import, an export, a search that lists patients)."""
    session.execute(insert(AuditEntry), [_row(action, object_type, object_id, detail)])


def has_pending_reads(session: Session) -> bool:
    return bool(session.info.get(_PENDING_KEY))


def write_pending_reads(session: Session) -> None:
    """Persist the reads queued on this session, in a transaction of their own."""
    pending: dict[str, str] = session.info.pop(_PENDING_KEY, {})
    if not pending:
        return
    try:
        if session.in_transaction():
            session.rollback()  # anything not committed by the handler is abandoned, as it would be
        session.execute(insert(AuditEntry), [_row("read", t, oid) for oid, t in pending.items()])
        session.commit()
    except Exception:
        # Never silently: an unwritten audit row is an operational incident.
        log.exception("could not write %d audit read rows", len(pending))
        session.rollback()
        raise
