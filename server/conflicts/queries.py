"""Every query of the conflicts domain."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.accounts.models import Person, Team, team_members, team_villages
from server.accounts.scope import Scope
from server.devices.models import Device
from server.places.models import Town, Village
from server.sync.models import Conflict


def conflicts_page(session: Session, scope: Scope, status: str | None, village: str | None, offset: int,
                   limit: int) -> tuple[int, list[Conflict]]:
    """A page of the scope's conflicts, oldest first, and how many there are."""
    query = select(Conflict).where(scope.villages(Conflict.village_code))
    if status:
        query = query.where(Conflict.status == status)
    if village:
        query = query.where(Conflict.village_code == village)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Conflict.created_at, Conflict.id).offset(offset).limit(limit)).all()
    return total, list(rows)


def conflict_for_update(session: Session, conflict_id: uuid.UUID) -> Conflict | None:
    return session.scalar(select(Conflict).where(Conflict.id == conflict_id).with_for_update())


def open_conflict_of(session: Session, record_type: str, record_id: uuid.UUID, field: str) -> Conflict | None:
    return session.scalar(select(Conflict).where(
        Conflict.record_type == record_type, Conflict.record_id == record_id, Conflict.field == field,
        Conflict.status == "open"))


def surveyors_of(session: Session, device_ids: list[uuid.UUID]) -> list:
    """(device id, tablet name, person id, person's name, person's line) of these tablets."""
    if not device_ids:
        return []
    return session.execute(
        select(Device.id, Device.name, Person.id, Person.full_name, Person.line)
        .join(Person, Person.id == Device.person_id).where(Device.id.in_(sorted(set(device_ids))))).all()


def teams_of(session: Session, person_ids: list[int]) -> list:
    """(person id, team id, team name, team line, the team's village codes) of these people's teams."""
    if not person_ids:
        return []
    villages = (select(func.array_agg(team_villages.c.village_code))
                .where(team_villages.c.team_id == Team.id).scalar_subquery())
    return session.execute(
        select(team_members.c.person_id, Team.id, Team.name, Team.line, villages)
        .join(Team, Team.id == team_members.c.team_id)
        .where(team_members.c.person_id.in_(sorted(set(person_ids))))
        .order_by(team_members.c.person_id, Team.id)).all()


def places_of(session: Session, village_codes: list[str]) -> dict[str, tuple[str, str, str]]:
    """{village code: (village name, town code, town name)}."""
    if not village_codes:
        return {}
    rows = session.execute(select(Village.code, Village.name, Town.code, Town.name)
                           .join(Town, Town.code == Village.town_code)
                           .where(Village.code.in_(sorted(set(village_codes))))).all()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def names_of(session: Session, person_ids: list[int]) -> dict[int, str]:
    ids = sorted({i for i in person_ids if i is not None})
    if not ids:
        return {}
    return dict(session.execute(select(Person.id, Person.full_name).where(Person.id.in_(ids))).all())
