from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.campaigns.models import Campaign


def active(session: Session) -> Campaign | None:
    return session.scalar(select(Campaign).where(Campaign.active.is_(True)))


def all_campaigns(session: Session) -> list[Campaign]:
    return list(session.scalars(select(Campaign).order_by(Campaign.school_year.desc(), Campaign.id)))


def deactivate_all(session: Session) -> None:
    session.execute(update(Campaign).where(Campaign.active.is_(True)).values(active=False))
