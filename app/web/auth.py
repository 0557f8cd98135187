"""Who is asking: a session cookie (pages) or a personal API token (``Authorization: Bearer``).

Anonymous requests go through with ``request.user = None``; the guards below decide.
Only API paths accept bearer tokens, and only pages accept the session cookie, so the
CSRF check (cookie-based) can safely skip ``/api``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import anyio
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import Role, User
from app.accounts.services import UserService
from app.audit.recorder import Actor, set_actor

SESSION_USER_KEY = "uid"


def _lookup(factory: sessionmaker[Session], token: str | None, user_id: str | None) -> User | None:
    with factory() as session:
        service = UserService(session=session)
        if token is not None:
            user = service.user_for_token(token)
        else:
            try:
                uid = uuid.UUID(user_id or "")
            except ValueError:
                return None
            user = session.get(User, uid)
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
                user = await anyio.to_thread.run_sync(_lookup, factory, header[7:].strip(), None)
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
