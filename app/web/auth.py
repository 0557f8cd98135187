"""Who is asking: a session cookie (pages) or a personal API token (``Authorization: Bearer``).

Anonymous requests go through with ``request.user = None``; the guards below decide.
Only API paths accept bearer tokens, and only pages accept the session cookie, so the
CSRF check (cookie-based) can safely skip ``/api``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import anyio
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from sqlalchemy import event
from sqlalchemy.orm import Session, raiseload, sessionmaker

from app.accounts.models import ApiToken, Role, User
from app.accounts.security import token_digest
from app.accounts.services import UserService
from app.audit.recorder import Actor, set_actor

SESSION_USER_KEY = "uid"
TOKEN_CACHE_SECONDS = 5.0
"""How long a process trusts an API token it has checked, without reading it again."""


class TokenCache:
    """The users of the bearer tokens this process checked in the last few seconds.

    Every API request names its token: reading it from the database each time (a connection, a
    query, a thread) was a sixth of a slot search's time. A token checked less than
    :data:`TOKEN_CACHE_SECONDS` ago is trusted again as it was. Any change to a user or a token
    committed by this process empties the cache at once; a change made by another process (a
    revocation on another server worker, ``smp user …``) takes effect here within those seconds.
    Only tokens found valid are kept, by their SHA-256, never the token itself.
    """

    def __init__(self, ttl: float = TOKEN_CACHE_SECONDS, size: int = 1000) -> None:
        self.ttl, self.size = ttl, size
        self._entries: dict[str, tuple[float, User]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> User | None:
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None or entry[0] < time.monotonic():
                return None
            return entry[1]

    def put(self, digest: str, user: User) -> None:
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries.clear()
            self._entries[digest] = (time.monotonic() + self.ttl, user)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


token_cache = TokenCache()
_ACCOUNTS_CHANGED = "smp_accounts_changed"


@event.listens_for(Session, "after_flush")
def _note_account_changes(session: Session, _context: object) -> None:
    if any(isinstance(o, User | ApiToken) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info[_ACCOUNTS_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _forget_checked_tokens(session: Session) -> None:
    if session.info.pop(_ACCOUNTS_CHANGED, False):
        token_cache.clear()


def _lookup(factory: sessionmaker[Session], token: str | None, user_id: str | None) -> User | None:
    """The user of every request, detached: its clinician is not loaded (``clinician_id`` is)."""
    with factory() as session:
        service = UserService(session=session)
        if token is not None:
            user = service.user_for_token(token)
        else:
            try:
                uid = uuid.UUID(user_id or "")
            except ValueError:
                return None
            user = session.get(User, uid, options=[raiseload(User.clinician)])
            if user is not None and not user.is_active:
                user = None
        if user is not None:
            session.expunge(user)
        return user


class AuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        factory: sessionmaker[Session] = connection.app.state.session_factory
        path = connection.scope["path"]
        header = connection.headers.get("authorization", "")
        user: User | None = None
        if path.startswith("/api/"):
            if header.lower().startswith("bearer "):
                token = header[7:].strip()
                digest = token_digest(token)
                user = token_cache.get(digest)
                if user is None:
                    user = await anyio.to_thread.run_sync(_lookup, factory, token, None)
                    if user is not None:
                        token_cache.put(digest, user)
        else:
            session_data = connection.scope.get("session")
            # After a logout the session is Litestar's Empty sentinel, not a dict.
            uid = session_data.get(SESSION_USER_KEY) if isinstance(session_data, dict) else None
            if uid:
                user = await anyio.to_thread.run_sync(_lookup, factory, None, uid)
        if user is not None:
            set_actor(Actor(user.id, user.username))
        return AuthenticationResult(user=user, auth=None)


def login_required(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if connection.user is None:
        raise NotAuthorizedException("Authentification requise.")


def require_roles(*roles: Role) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]:
    """A guard that lets through only users with one of ``roles`` (admins always pass)."""
    allowed = {str(r) for r in roles} | {Role.ADMIN.value}

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user: User | None = connection.user
        if user is None:
            raise NotAuthorizedException("Authentification requise.")
        if user.role not in allowed:
            raise PermissionDeniedException("Votre rôle ne donne pas accès à cette page.")

    guard.__name__ = "require_" + "_or_".join(sorted(allowed))
    return guard


STAFF = (Role.COORDINATOR, Role.SECRETARY)
MANAGERS = (Role.COORDINATOR,)
