"""Every query of places: towns, villages and the counts shown beside them."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.accounts.scope import Scope
from server.people.models import Child, Household
from server.places.models import Town, Village


def towns(session: Session, scope: Scope):
    visible = select(Village.town_code).where(scope.villages(Village.code)).distinct()
    return session.execute(
        select(Town.code, Town.name, Town.kind).where(Town.code.in_(visible)).order_by(Town.code)
    ).all()


def villages(session: Session, scope: Scope, town_code: str | None = None, code: str | None = None,
             with_boundary: bool = False):
    columns = [
        Village.code, Village.name, Village.kind, Village.town_code, Town.name.label("town_name"),
        func.ST_X(Village.centroid).label("lon"), func.ST_Y(Village.centroid).label("lat"),
    ]
    if with_boundary:
        columns.append(func.ST_AsGeoJSON(Village.boundary, 6).label("boundary"))
    query = select(*columns).join(Town).where(scope.villages(Village.code)).order_by(Village.code)
    if town_code is not None:
        query = query.where(Village.town_code == town_code)
    if code is not None:
        query = query.where(Village.code == code)
    return session.execute(query).all()


def _grouping(by: str):
    return Village.town_code if by == "town" else Village.code


def household_counts(session: Session, scope: Scope, by: str, town_code: str | None = None):
    """{area code: (households, surveyed households)}, grouped by village or town."""
    key = _grouping(by)
    query = (
        select(key, func.count(), func.count().filter(Household.survey_status != "not_visited"))
        .select_from(Household)
        .join(Village, Village.code == Household.village_code)
        .where(scope.households(Household))
        .group_by(key)
    )
    if town_code is not None:
        query = query.where(Village.town_code == town_code)
    return {row[0]: (row[1], row[2]) for row in session.execute(query)}


def child_status_counts(session: Session, scope: Scope, by: str, town_code: str | None = None):
    """{area code: {enrollment_status: children}}, grouped by village or town."""
    key = _grouping(by)
    query = (
        select(key, Child.enrollment_status, func.count())
        .select_from(Child)
        .join(Village, Village.code == Child.village_code)
        .where(scope.children(Child))
        .group_by(key, Child.enrollment_status)
    )
    if town_code is not None:
        query = query.where(Village.town_code == town_code)
    counts: dict[str, dict[str, int]] = {}
    for area, status, n in session.execute(query):
        counts.setdefault(area, {})[status] = n
    return counts
