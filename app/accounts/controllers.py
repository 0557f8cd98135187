"""Login, logout and the user's own profile (API tokens)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Redirect, Template
from sqlalchemy import select

from app.accounts.models import ApiToken, User
from app.accounts.services import LockedOut, UserService
from app.core.dates import PARIS
from app.core.errors import FieldErrors
from app.core.parsing import clean_query
from app.web.auth import SESSION_USER_KEY, login_required
from app.web.forms import DbSession, FormData, safe_next


class LoginController(Controller):
    tags = ["pages"]
    include_in_schema = False

    @get("/login", sync_to_thread=False, name="login")
    def login_form(self, request: Request[Any, Any, Any], next: FromQuery[str | None] = None) -> Template | Redirect:
        if request.user is not None:
            return Redirect(path=safe_next(next))
        return Template("login.html", context={"next": safe_next(next), "username": ""})

    @post("/login", sync_to_thread=True, name="login_submit")
    def login(
        self,
        request: Request[Any, Any, Any],
        db_session: DbSession,
        data: FormData,
    ) -> Template | Redirect:
        username = clean_query(str(data.get("username", "")), 80).lower()
        password = str(data.get("password", ""))[:200].replace("\x00", "")
        target = safe_next(str(data.get("next", "")))
        try:
            user = UserService(session=db_session).authenticate(username, password)
        except LockedOut as exc:
            until = exc.until.astimezone(PARIS).strftime("%H h %M")
            return Template(
                "login.html",
                context={
                    "next": target,
                    "username": username,
                    "error": f"Trop d'essais infructueux : ce compte est bloqué jusqu'à {until}. "
                    "Réessayez ensuite, ou demandez à l'administrateur de le débloquer.",
                },
                status_code=429,
            )
        if user is None:
            return Template(
                "login.html",
                context={
                    "next": target,
                    "username": username,
                    "error": "Identifiant ou mot de passe incorrect.",
                },
                status_code=400,
            )
        request.clear_session()
        request.set_session({SESSION_USER_KEY: str(user.id)})
        flash(request, f"Bienvenue, {user.full_name or user.username}.", category="success")
        return Redirect(path=target)

    @post("/logout", sync_to_thread=False, name="logout", guards=[login_required])
    def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        request.clear_session()
        request.set_session({})  # a fresh, empty session to carry the goodbye message
        flash(request, "Vous êtes déconnecté·e.", category="info")
        return Redirect(path="/login")


class ProfileController(Controller):
    path = "/profile"
    guards = [login_required]
    include_in_schema = False

    def _context(self, db_session: DbSession, user: User, **extra: Any) -> dict[str, Any]:
        tokens = db_session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())
        ).all()
        from app.calendars.controllers import feeds_context

        return {"account": user, "tokens": tokens, **feeds_context(db_session, user), **extra}

    @get("/", sync_to_thread=True, name="profile")
    def profile(self, request: Request[User, Any, Any], db_session: DbSession) -> Template:
        return Template("profile.html", context=self._context(db_session, request.user))

    @post("/password", sync_to_thread=True, name="password_change")
    def change_password(
        self, request: Request[User, Any, Any], db_session: DbSession, data: FormData
    ) -> Template | Redirect:
        account = db_session.get(User, request.user.id)
        assert account is not None
        try:
            UserService(session=db_session).change_password(
                account,
                str(data.get("current_password", "")),
                str(data.get("new_password", "")),
                str(data.get("confirm_password", "")),
            )
        except FieldErrors as exc:
            db_session.rollback()
            return Template(
                "profile.html", context=self._context(db_session, account, password_errors=exc.errors), status_code=400
            )
        flash(request, "Mot de passe changé.", category="success")
        return Redirect(path="/profile")

    @post("/tokens", sync_to_thread=True, name="token_create")
    def create_token(self, request: Request[User, Any, Any], db_session: DbSession, data: FormData) -> Template:
        name = str(data.get("name", "")).strip()[:80] or "Jeton personnel"
        token = UserService(session=db_session).issue_token(request.user, name)
        flash(request, "Jeton créé. Copiez-le maintenant : il ne sera plus affiché.", category="success")
        return Template("profile.html", context=self._context(db_session, request.user, new_token=token))

    @post("/tokens/{token_id:uuid}/revoke", sync_to_thread=True, name="token_revoke")
    def revoke_token(
        self, request: Request[User, Any, Any], db_session: DbSession, token_id: FromPath[uuid.UUID]
    ) -> Redirect:
        token = db_session.get(ApiToken, token_id)
        if token is not None and token.user_id == request.user.id and token.revoked_at is None:
            token.revoked_at = dt.datetime.now(dt.UTC)
            db_session.commit()
            flash(request, f"Jeton « {token.name} » révoqué.", category="success")
        return Redirect(path="/profile")
