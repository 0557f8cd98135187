"""The request's database session: advanced-alchemy's plugin, with our end-of-request rule.

Handlers commit explicitly. Before the response leaves, anything still uncommitted is rolled back
(a handler that did not commit did not mean to write) and the patient reads queued by the audit
recorder are written.
"""

from __future__ import annotations

from typing import Any

import anyio
from advanced_alchemy.extensions.litestar import SQLAlchemyPlugin, SQLAlchemySyncConfig
from advanced_alchemy.extensions.litestar._utils import delete_aa_scope_state, get_aa_scope_state
from advanced_alchemy.extensions.litestar.plugins.init.config.common import SESSION_SCOPE_KEY
from litestar.types import Message, Scope
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.audit.recorder import write_pending_reads


def _finish(session: Session) -> None:
    try:
        write_pending_reads(session)
    finally:
        session.close()


async def before_send(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    session: Session | None = get_aa_scope_state(scope, SESSION_SCOPE_KEY)
    if session is None:
        return
    delete_aa_scope_state(scope, SESSION_SCOPE_KEY)
    await anyio.to_thread.run_sync(_finish, session)


def build_db_plugin(engine: Engine) -> tuple[SQLAlchemyPlugin, SQLAlchemySyncConfig]:
    from advanced_alchemy.config import SyncSessionConfig

    config = SQLAlchemySyncConfig(
        engine_instance=engine,
        session_dependency_key="db_session",
        session_config=SyncSessionConfig(expire_on_commit=False),
        before_send_handler=before_send,
        create_all=False,
    )
    return SQLAlchemyPlugin(config=config), config


def plugin_signature_namespace() -> dict[str, Any]:
    return {"Session": Session}
