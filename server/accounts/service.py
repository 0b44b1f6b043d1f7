"""Logging in and out, and finding who a bearer token belongs to."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy.orm import Session

from server import db
from server.accounts import queries
from server.accounts.models import AccessToken, Person
from server.accounts.passwords import hash_password, needs_rehash, verify_password
from server.accounts.scope import Scope, scope_of
from server.errors import DomainError, FieldError


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class LoginRefused(DomainError):
    """A wrong password, an unknown username or an inactive account: one answer for all."""


def log_in(session: Session, username: str, password: str, ttl: dt.timedelta) -> tuple[str, AccessToken, Person]:
    """Check the password and issue a new bearer token; only its hash is stored.

    Guessing is slowed at the edge (server/accounts/throttle.py: a back-off per account and
    address), not by locking the account: a lock let anyone keep the bureau out.
    """
    person = queries.person_by_username(session, username)
    now = db.now(session)
    if not verify_password(person.password_hash if person else None, password) or not person.active:
        raise LoginRefused("auth.invalid_credentials")
    if needs_rehash(person.password_hash):
        person.password_hash = hash_password(password)
    token = secrets.token_urlsafe(32)
    access = AccessToken(person_id=person.id, token_hash=_token_hash(token), expires_at=now + ttl)
    session.add(access)
    session.flush()
    return token, access, person


def person_for_token(session: Session, token: str) -> tuple[Person, AccessToken, Scope]:
    """The active person behind an unexpired, unrevoked token, their token and their scope
    (read with it), or auth.invalid_token."""
    found = queries.live_token(session, _token_hash(token))
    if found is None:
        raise DomainError("auth.invalid_token")
    person, access, parts = found
    return person, access, scope_of(session, person, parts)


def log_out(session: Session, access: AccessToken) -> None:
    queries.revoke_token(session, access.id)


def revoke_all(session: Session, person_id: int) -> int:
    """Revoke every live token of a person (a lost tablet, a person leaving the campaign)."""
    return queries.revoke_tokens_of(session, person_id)


MIN_PASSWORD_LENGTH = 10


def change_password(session: Session, person: Person, access: AccessToken, current: str, new: str) -> int:
    """Set a new password after checking the current one; every other login of the person ends.

    Returns how many other tokens were revoked. The account that changes its password on a
    shared office computer is usually one somebody else may have known the old password of.
    """
    if not verify_password(person.password_hash, current):
        raise DomainError("auth.wrong_password")
    problem = None
    if len(new) < MIN_PASSWORD_LENGTH:
        problem = f"at least {MIN_PASSWORD_LENGTH} characters"
    elif new.strip().lower() == person.username.lower():
        problem = "must differ from the username"
    elif new == current:
        problem = "must differ from the current password"
    if problem:
        raise DomainError("request.invalid", errors=[FieldError("new_password", "auth.weak_password", problem)])
    person.password_hash = hash_password(new)
    return queries.revoke_tokens_of(session, person.id, keep=access.id)
