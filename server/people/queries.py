"""Every query of households and children; each takes the caller's scope."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.accounts.scope import Scope
from server.people.models import Child, Household
from server.places.models import Village


def households_page(session: Session, scope: Scope, *, village_code=None, survey_status=None,
                    offset: int, limit: int):
    query = select(
        Household,
        func.ST_X(Household.location).label("lon"),
        func.ST_Y(Household.location).label("lat"),
    ).where(scope.households(Household))
    if village_code:
        query = query.where(Household.village_code == village_code)
    if survey_status:
        query = query.where(Household.survey_status == survey_status)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.execute(query.order_by(Household.village_code, Household.household_number, Household.id)
                           .offset(offset).limit(limit)).all()
    return total, rows


def children_page(session: Session, scope: Scope, *, village_code=None, town_code=None,
                  enrollment_status=None, household_id=None, offset: int, limit: int):
    query = select(Child).where(scope.children(Child))
    if village_code:
        query = query.where(Child.village_code == village_code)
    if town_code:
        query = query.where(Child.village_code.in_(select(Village.code).where(Village.town_code == town_code)))
    if enrollment_status:
        query = query.where(Child.enrollment_status.in_(enrollment_status))
    if household_id:
        query = query.where(Child.household_id == household_id)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Child.village_code, Child.household_id, Child.birth_date, Child.id)
                           .offset(offset).limit(limit)).all()
    return total, rows


def child(session: Session, scope: Scope, child_id: uuid.UUID) -> Child | None:
    return session.scalar(select(Child).where(Child.id == child_id, scope.children(Child)))


def children_by_lookup(session: Session, lookup: bytes) -> list[Child]:
    return list(session.scalars(select(Child).where(Child.id_number_lookup == lookup)))
