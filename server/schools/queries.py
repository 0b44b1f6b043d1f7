from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.schools.models import School


def schools(session: Session, town_code: str | None = None):
    query = select(
        School, func.ST_X(School.location).label("lon"), func.ST_Y(School.location).label("lat")
    ).order_by(School.code)
    if town_code:
        query = query.where(School.town_code == town_code)
    return session.execute(query).all()
