"""The request's database session: advanced-alchemy's plugin, with our end-of-request rule.

Handlers commit explicitly. Before the response leaves, anything still uncommitted is rolled back
(a handler that did not commit did not mean to write) and the patient reads queued by the audit
recorder are written.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from advanced_alchemy.extensions.litestar import SQLAlchemyPlugin, SQLAlchemySyncConfig
from advanced_alchemy.extensions.litestar._utils import delete_aa_scope_state, get_aa_scope_state
from litestar.types import Message, Scope
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.audit.recorder import has_pending_reads, write_pending_reads


def _finish(session: Session) -> None:
    try:
        write_pending_reads(session)
    finally:
        session.close()


def make_before_send(scope_key: str) -> Callable[[Message, Scope], Awaitable[None]]:
    """The end-of-request hook for the session stored under ``scope_key``.

    advanced-alchemy numbers the key of every configuration after the first one built in a process
    (``_sqlalchemy_db_session_1``…): the hook must read the key of its own configuration, or a second
    application in the same process (tests, tools) would never close its sessions nor write the
    audit trail's reads."""

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        session: Session | None = get_aa_scope_state(scope, scope_key)
        if session is None:
            return
        delete_aa_scope_state(scope, scope_key)
        if session.in_transaction() or has_pending_reads(session):
            await anyio.to_thread.run_sync(_finish, session)  # database work: off the event loop
        else:
            session.close()  # the handler ended its transaction: nothing left but to let go

    return before_send


def build_db_plugin(engine: Engine) -> tuple[SQLAlchemyPlugin, SQLAlchemySyncConfig]:
    from advanced_alchemy.config import SyncSessionConfig

    config = SQLAlchemySyncConfig(
        engine_instance=engine,
        session_dependency_key="db_session",
        session_config=SyncSessionConfig(expire_on_commit=False),
        create_all=False,
    )
    config.before_send_handler = make_before_send(config.session_scope_key)
    return SQLAlchemyPlugin(config=config), config


def plugin_signature_namespace() -> dict[str, Any]:
    return {"Session": Session}
