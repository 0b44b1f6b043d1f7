"""Enrollment codes, device tokens and revocation."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from server import db
from server.accounts.models import Person
from server.accounts.scope import TEAM_ROLES, Scope, team_scope
from server.devices import queries
from server.devices.models import Device, EnrollmentCode
from server.errors import DomainError, FieldError

# Unambiguous characters (no 0/O, 1/I/L): the code is also typed by hand when a QR fails.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10  # ~49 bits; one-time and expiring, so guessing is hopeless
SURVEYING_ROLES = ("surveyor", "team_leader")


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def issue_code(session: Session, issuer: Person, issuer_scope: Scope, surveyor_id: int,
               expires_in: dt.timedelta) -> tuple[str, EnrollmentCode]:
    """Issue a one-time code for one surveyor in the issuer's area."""
    surveyor = session.get(Person, surveyor_id)
    if surveyor is None or surveyor.role not in SURVEYING_ROLES or not surveyor.active:
        raise DomainError("request.invalid", errors=[FieldError("surveyor_id", "devices.not_a_surveyor",
                                                                "no active surveyor or team leader with this id")])
    if not in_area(session, issuer_scope, surveyor):
        # Not one of the issuer's teams: answered like an unknown id. The tablet's manifest
        # names its surveyor and its pushes are booked to them, so issuing a code for someone
        # is speaking for them: only who manages their teams may.
        raise DomainError("request.invalid", errors=[FieldError("surveyor_id", "devices.not_a_surveyor",
                                                                "no active surveyor or team leader with this id")])
    code = "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))
    now = db.now(session)
    row = EnrollmentCode(code_hash=_hash(normalize_code(code)), person_id=surveyor.id, issued_by=issuer.id,
                         expires_at=now + expires_in)
    session.add(row)
    session.flush()
    return code, row


def normalize_code(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


def code_matches(row: EnrollmentCode, code: str) -> bool:
    return secrets.compare_digest(row.code_hash, _hash(normalize_code(code)))


def enroll(session: Session, code: str, device_name: str, platform: str | None,
           token_lifetime: dt.timedelta) -> tuple[Device, str]:
    """Trade a valid code for a device id and token (once)."""
    row = queries.code_for_update(session, _hash(normalize_code(code)))
    now = db.now(session)
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise DomainError("devices.invalid_enrollment_code", "The enrollment code is unknown, used or expired.",
                          [FieldError("enrollment_code", "devices.invalid_enrollment_code",
                                      "ask your supervisor for a new code")], status=400)
    token = secrets.token_urlsafe(32)
    device = Device(id=uuid.uuid4(), person_id=row.person_id, name=device_name, platform=platform,
                    token_hash=_hash(token), token_expires_at=now + token_lifetime)
    session.add(device)
    session.flush()
    row.used_at = now
    row.device_id = device.id
    return device, token


COLLECT_PLATFORM = "odk-collect"


def enroll_collect(session: Session, issuer: Person, issuer_scope: Scope, surveyor_id: int, device_name: str,
                   token_lifetime: dt.timedelta) -> tuple[Device, str]:
    """Enroll an XForm client (ODK Collect) for a surveyor in the issuer's area, at once.

    Collect cannot trade a code for a token, so the supervisor does it for the tablet: a code is
    issued and used in one step, with the same checks and the same trail as a tablet's own
    enrollment (who issued it, for whom, when)."""
    code, _ = issue_code(session, issuer, issuer_scope, surveyor_id, dt.timedelta(minutes=5))
    return enroll(session, code, device_name, COLLECT_PLATFORM, token_lifetime)


def reissue_collect(session: Session, device: Device, token_lifetime: dt.timedelta) -> str:
    """A new URL for a Collect device (the old one stops working at once: it may be lost)."""
    token = secrets.token_urlsafe(32)
    device.token_hash, device.token_expires_at = _hash(token), db.now(session) + token_lifetime
    device.previous_token_hash = device.previous_token_expires_at = None
    session.flush()
    return token


@dataclass(frozen=True)
class TokenHolder:
    """A tablet found by its token, with its surveyor and what their scope is made of."""

    device: Device
    person: Person | None
    assignments: tuple  # accounts.queries.assignment_columns' four arrays

    def scope(self) -> Scope | None:
        """The surveyor's scope, from the arrays read with the token (None for another role)."""
        if self.person is None or not self.person.active or self.person.role not in TEAM_ROLES:
            return None
        return team_scope(self.person, *self.assignments)


def device_for_token(session: Session, token: str) -> TokenHolder | None:
    """The tablet whose current token (or, shortly after a renewal, previous one) this is.
    Whether it has expired is the caller's to judge (a distinct refusal for the tablet)."""
    row = queries.device_by_token(session, _hash(token))
    if row is None:
        return None
    device, person, now, *assignments = row
    db.remember_now(session, now)  # token_expired and the push ask for it next
    return TokenHolder(device, person, tuple(assignments))


def token_expired(session: Session, device: Device) -> bool:
    return device.token_expires_at <= db.now(session)


def renew_token(session: Session, device: Device, used_token: str, lifetime: dt.timedelta,
                grace: dt.timedelta) -> str:
    """Give the tablet a new token with a new lifetime. The token it asked with stays valid for
    `grace`: if the answer is lost on a weak network, the tablet still has a way in (and asks
    again with it)."""
    token = secrets.token_urlsafe(32)
    now = db.now(session)
    device.previous_token_hash, device.previous_token_expires_at = _hash(used_token), now + grace
    device.token_hash, device.token_expires_at = _hash(token), now + lifetime
    session.flush()
    return token


def revoke(session: Session, device_id: uuid.UUID, by: Person) -> None:
    queries.revoke(session, device_id, by.id)


def in_area(session: Session, scope: Scope, surveyor: Person) -> bool:
    """Whether `scope` manages a tablet's surveyor: every team of theirs is one it manages (a
    town supervisor its town's, a team leader those it leads). A surveyor between teams is in
    no one's area: the city's only."""
    if scope.everywhere:
        return True
    return scope.manages_member(queries.teams_of(session, surveyor.id))


DEVICE_STATUSES = {"active": "使用中", "revoked": "已吊销", "expired": "令牌过期", "surveyor_inactive": "人员已停用"}


def device_status(device: Device, surveyor: Person, now: dt.datetime) -> str:
    """What a tablet's next request would meet: one of DEVICE_STATUSES."""
    if device.revoked_at is not None:
        return "revoked"
    if not surveyor.active:
        return "surveyor_inactive"
    if device.token_expires_at <= now:
        return "expired"
    return "active"


def devices_in_scope(session: Session, scope: Scope) -> list[tuple[Device, Person]]:
    return [(d, p) for d, p in queries.devices_with_people(session) if in_area(session, scope, p)]
