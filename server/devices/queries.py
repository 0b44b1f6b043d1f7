"""Every query of the devices domain: tablets, enrollment codes, the surveyors they are for."""

from __future__ import annotations

import uuid

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from server.accounts import queries as accounts_queries
from server.accounts.models import Person, Team, team_members, team_villages
from server.accounts.scope import Scope
from server.devices.models import Device, EnrollmentCode


def code_for_update(session: Session, code_hash: bytes) -> EnrollmentCode | None:
    return session.scalar(select(EnrollmentCode).where(EnrollmentCode.code_hash == code_hash).with_for_update())


def _by_token():
    digest = bindparam("digest")
    return (select(Device, Person, func.now(), *accounts_queries.assignment_columns(Person.id))
            .outerjoin(Person, Person.id == Device.person_id)
            .where(or_(Device.token_hash == digest,
                       and_(Device.previous_token_hash == digest, Device.previous_token_expires_at > func.now())))
            .order_by((Device.token_hash == digest).desc())  # the current token first (never both)
            .limit(1))


# Built once: building and keying this statement on every request cost more than running it.
_BY_TOKEN = _by_token()


def device_by_token(session: Session, digest: bytes):
    """The tablet whose current token, or (within its grace) previous token, has this hash, as
    (device, its person, the transaction's now(), the person's four assignment arrays), or None.

    One round trip: every tablet request starts here, and a one-submission push paid six (the
    device, the time, the person, three for the scope) before it read anything of its own."""
    return session.execute(_BY_TOKEN, {"digest": digest}).first()


_SEEN = update(Device.__table__).where(Device.__table__.c.id == bindparam("device_id")).values(
    last_seen_at=bindparam("at"))


def mark_seen(session: Session, device_id: uuid.UUID, at) -> None:
    """The tablet was seen at `at`: a Core UPDATE (the ORM's flush of one attribute at commit
    cost a push more Python than the statement)."""
    session.connection().execute(_SEEN, {"device_id": device_id, "at": at})


def revoke(session: Session, device_id: uuid.UUID, person_id: int) -> None:
    session.execute(update(Device).where(Device.id == device_id, Device.revoked_at.is_(None))
                    .values(revoked_at=func.now(), revoked_by=person_id))


def teams_of(session: Session, person_id: int) -> list[int]:
    return list(session.scalars(select(team_members.c.team_id).where(team_members.c.person_id == person_id)))


def team_names_of(session: Session, person_ids: list[int]) -> dict[int, list[str]]:
    """person id -> the names of the teams they are members of."""
    out: dict[int, list[str]] = {}
    if person_ids:
        rows = session.execute(select(team_members.c.person_id, Team.name).join(Team, Team.id == team_members.c.team_id)
                               .where(team_members.c.person_id.in_(sorted(set(person_ids)))).order_by(Team.name))
        for person_id, name in rows:
            out.setdefault(person_id, []).append(name)
    return out


def devices_with_people(session: Session) -> list[tuple[Device, Person]]:
    return [tuple(r) for r in session.execute(select(Device, Person).join(Person, Person.id == Device.person_id)
                                              .order_by(Device.enrolled_at.desc())).all()]


def surveyors_of_managed_teams(session: Session, scope: Scope, roles, village: str | None):
    """(person, village code) for the active surveyors and leaders of the teams `scope` manages."""
    query = (select(Person, team_villages.c.village_code)
             .join(team_members, team_members.c.person_id == Person.id)
             .join(team_villages, team_villages.c.team_id == team_members.c.team_id)
             .where(Person.role.in_(roles), Person.active.is_(True), scope.managed(team_members.c.team_id)))
    if village:
        query = query.where(team_villages.c.village_code == village)
    return session.execute(query.order_by(Person.id)).all()
