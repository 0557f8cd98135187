"""``smp reminders ...``: a click group ready to mount on the ``smp`` command
(``main.add_command(reminders)`` in ``app/cli.py``). Meant to run from cron, e.g. hourly 9 h–19 h."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from app.notifications.settings import NotificationSettings


def _emit(data: dict[str, object], as_json: bool, human: str) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str) if as_json else human)


def _settings() -> NotificationSettings:
    from app.notifications.settings import NotificationSettings
    from app.settings import SettingsError

    try:
        return NotificationSettings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def reminders() -> None:
    """Patient reminders and notifications (email, SMS)."""


@reminders.command("queue")
@click.option("--json", "as_json", is_flag=True)
def reminders_queue(as_json: bool) -> None:
    """Queue the reminders of tomorrow's appointments (idempotent)."""
    from app.audit.recorder import Actor, acting_as
    from app.db.engine import session_scope
    from app.notifications.service import queue_due_reminders

    now = dt.datetime.now(dt.UTC)
    with acting_as(Actor(None, "system:reminders")), session_scope() as session:
        queued = queue_due_reminders(session, now)
    _emit({"queued": queued}, as_json, f"{queued} rappel(s) mis en file d'attente.")


@reminders.command("send")
@click.option("--no-queue", is_flag=True, help="Only send what is already queued.")
@click.option("--limit", type=click.IntRange(1, None), default=None, help="Send at most this many messages.")
@click.option("--json", "as_json", is_flag=True)
def reminders_send(no_queue: bool, limit: int | None, as_json: bool) -> None:
    """Queue tomorrow's reminders, then send every queued message (and retry the failed ones)."""
    from app.audit.recorder import Actor, acting_as
    from app.db.engine import session_scope
    from app.notifications.service import queue_due_reminders, send_queued

    settings = _settings()
    now = dt.datetime.now(dt.UTC)
    with acting_as(Actor(None, "system:reminders")):
        queued = 0
        if not no_queue:
            with session_scope() as session:
                queued = queue_due_reminders(session, now)
        with session_scope() as session:
            report = send_queued(session, settings, now, limit=limit)
    data = {"queued": queued, **report.as_dict()}
    human = (
        f"{queued} rappel(s) mis en file, {report.sent} envoyé(s), {report.failed} en échec, "
        f"{report.withdrawn} retiré(s)."
    )
    if report.errors:
        human += "\n" + "\n".join(report.errors)
    _emit(data, as_json, human)
