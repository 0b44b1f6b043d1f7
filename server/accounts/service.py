"""Logging in and out, and finding who a bearer token belongs to."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server.accounts.models import AccessToken, Person
from server.accounts.passwords import hash_password, needs_rehash, verify_password
from server.errors import DomainError


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class LoginRefused(DomainError):
    """A wrong password, an unknown username or an inactive account: one answer for all."""


def log_in(session: Session, username: str, password: str, ttl: dt.timedelta) -> tuple[str, AccessToken, Person]:
    """Check the password and issue a new bearer token; only its hash is stored.

    Guessing is slowed at the edge (server/accounts/throttle.py: a back-off per account and
    address), not by locking the account: a lock let anyone keep the bureau out.
    """
    person = session.scalar(select(Person).where(Person.username == username))
    now = session.scalar(select(func.now()))
    if not verify_password(person.password_hash if person else None, password) or not person.active:
        raise LoginRefused("auth.invalid_credentials")
    if needs_rehash(person.password_hash):
        person.password_hash = hash_password(password)
    token = secrets.token_urlsafe(32)
    access = AccessToken(person_id=person.id, token_hash=_token_hash(token), expires_at=now + ttl)
    session.add(access)
    session.flush()
    return token, access, person


def person_for_token(session: Session, token: str) -> tuple[Person, AccessToken]:
    """The active person behind an unexpired, unrevoked token, or auth.invalid_token."""
    row = session.execute(
        select(Person, AccessToken)
        .join(AccessToken, AccessToken.person_id == Person.id)
        .where(
            AccessToken.token_hash == _token_hash(token),
            AccessToken.revoked_at.is_(None),
            AccessToken.expires_at > func.now(),
            Person.active.is_(True),
        )
    ).first()
    if row is None:
        raise DomainError("auth.invalid_token")
    return row[0], row[1]


def log_out(session: Session, access: AccessToken) -> None:
    session.execute(
        update(AccessToken).where(AccessToken.id == access.id).values(revoked_at=func.now())
    )


def revoke_all(session: Session, person_id: int) -> int:
    """Revoke every live token of a person (a lost tablet, a person leaving the campaign)."""
    result = session.execute(
        update(AccessToken)
        .where(AccessToken.person_id == person_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    return result.rowcount
