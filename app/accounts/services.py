"""Accounts: creation, authentication, API tokens."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from advanced_alchemy.repository import SQLAlchemySyncRepository
from advanced_alchemy.service import SQLAlchemySyncRepositoryService
from sqlalchemy import select
from sqlalchemy.orm import raiseload

from app.accounts.models import ApiToken, Role, User
from app.accounts.security import (
    hash_password,
    new_api_token,
    password_error,
    token_digest,
    verify_password,
)
from app.core.errors import FieldErrors

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,79}$")


class UserRepository(SQLAlchemySyncRepository[User]):
    model_type = User


class ApiTokenRepository(SQLAlchemySyncRepository[ApiToken]):
    model_type = ApiToken


LOCK_AFTER = 5
LOCK_MINUTES = 15


class LockedOut(Exception):
    """Too many failed logins in a row: the account waits until ``until``."""

    def __init__(self, until: dt.datetime) -> None:
        super().__init__(f"locked until {until.isoformat()}")
        self.until = until


class UserService(SQLAlchemySyncRepositoryService[User, UserRepository]):
    repository_type = UserRepository

    def validate_new(self, username: str, role: str, password: str) -> dict[str, str]:
        errors: dict[str, str] = {}
        if not USERNAME_RE.match(username):
            errors["username"] = "L'identifiant doit comporter 3 à 80 caractères : minuscules, chiffres, point, tiret."
        elif self.repository.exists(username=username):
            errors["username"] = "Cet identifiant est déjà utilisé."
        if role not in {r.value for r in Role}:
            errors["role"] = "Rôle inconnu : " + ", ".join(r.value for r in Role)
        if msg := password_error(password):
            errors["password"] = msg
        return errors

    def create_user(
        self,
        username: str,
        role: str,
        password: str,
        *,
        full_name: str = "",
        email: str = "",
        clinician_id: uuid.UUID | None = None,
        organisation: str = "",
    ) -> User:
        if errors := self.validate_new(username, role, password):
            raise FieldErrors(errors)
        return self.create(
            User(
                username=username,
                role=role,
                password_hash=hash_password(password),
                full_name=full_name,
                email=email,
                clinician_id=clinician_id,
                organisation=organisation,
            ),
            auto_commit=True,
        )

    def authenticate(self, username: str, password: str, now: dt.datetime | None = None) -> User | None:
        """The user, or ``None`` for a wrong name or password; ``LockedOut`` while the account is
        locked (after ``LOCK_AFTER`` failures in a row, for ``LOCK_MINUTES``), right password or not."""
        now = now or dt.datetime.now(dt.UTC)
        user = self.repository.get_one_or_none(username=username.strip().lower())
        ok = verify_password(user.password_hash if user else None, password)
        if user is None or not user.is_active:
            return None
        if user.locked_until is not None and user.locked_until > now:
            raise LockedOut(user.locked_until)
        if not ok:
            user.failed_logins += 1
            if user.failed_logins >= LOCK_AFTER:
                user.locked_until = now + dt.timedelta(minutes=LOCK_MINUTES)
                user.failed_logins = 0
                self.repository.session.commit()
                raise LockedOut(user.locked_until)
            self.repository.session.commit()
            return None
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = dt.datetime.now(dt.UTC)
        self.repository.session.commit()
        return user

    def change_password(self, user: User, current: str, new: str, confirm: str) -> None:
        errors: dict[str, str] = {}
        if not verify_password(user.password_hash, current):
            errors["current_password"] = "Le mot de passe actuel est incorrect."
        if msg := password_error(new):
            errors["new_password"] = msg
        elif new != confirm:
            errors["confirm_password"] = "La confirmation ne correspond pas au nouveau mot de passe."
        if errors:
            raise FieldErrors(errors)
        user.password_hash = hash_password(new)
        self.repository.session.commit()

    def issue_token(self, user: User, name: str = "") -> str:
        token = new_api_token()
        self.repository.session.add(
            ApiToken(user_id=user.id, name=name, token_hash=token_digest(token), prefix=token[:10])
        )
        self.repository.session.commit()
        return token

    def user_for_token(self, token: str) -> User | None:
        """The active user a live token belongs to. Read on every API request: one query, and
        without the linked clinician (``user.clinician_id`` is there; reading ``user.clinician``
        raises rather than query again)."""
        return self.repository.session.scalars(
            select(User)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == token_digest(token), ApiToken.revoked_at.is_(None), User.is_active.is_(True))
            .options(raiseload(User.clinician))
        ).one_or_none()
