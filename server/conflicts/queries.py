"""Every query of the conflicts domain."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.accounts.scope import Scope
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
