"""Accounts: argon2 passwords, validation, API tokens stored hashed."""

import pytest
from sqlalchemy import select

from app.accounts.models import ApiToken, User
from app.accounts.security import hash_password, token_digest, verify_password
from app.accounts.services import UserService
from app.core.errors import FieldErrors


def test_passwords_are_hashed_with_argon2_and_verified():
    h = hash_password("correct horse battery")
    assert h.startswith("$argon2id$")
    assert verify_password(h, "correct horse battery")
    assert not verify_password(h, "wrong horse battery")
    assert not verify_password(None, "anything at all")


def test_a_too_short_password_or_a_bad_username_is_refused_and_nothing_is_written(db):
    service = UserService(session=db)
    before = db.scalar(select(User.id).where(User.username == "x"))
    with pytest.raises(FieldErrors) as exc:
        service.create_user("x", "secretary", "court")
    assert "10 caractères" in exc.value.errors["password"]
    assert "identifiant" in exc.value.errors["username"].lower()
    assert before is None and db.scalar(select(User.id).where(User.username == "x")) is None


def test_a_taken_username_is_refused(db, demo):
    with pytest.raises(FieldErrors) as exc:
        UserService(session=db).create_user("secretariat1", "secretary", "un-long-mot-de-passe")
    assert exc.value.errors["username"] == "Cet identifiant est déjà utilisé."


def test_an_api_token_is_stored_only_as_a_digest_and_finds_its_user(db, demo):
    service = UserService(session=db)
    account = db.scalar(select(User).where(User.username == "secretariat2"))
    token = service.issue_token(account, "test")
    stored = db.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    assert stored is not None and token not in (stored.token_hash, stored.prefix)
    assert service.user_for_token(token).username == "secretariat2"
    assert service.user_for_token(token + "x") is None


def test_a_failed_login_is_counted_and_a_good_one_resets_the_count(db, demo):
    service = UserService(session=db)
    assert service.authenticate("comite", "pas le bon mot de passe") is None
    assert db.scalar(select(User.failed_logins).where(User.username == "comite")) >= 1
    from seeds.demo import DEMO_PASSWORD

    assert service.authenticate("COMITE ", DEMO_PASSWORD).username == "comite"
    assert db.scalar(select(User.failed_logins).where(User.username == "comite")) == 0
