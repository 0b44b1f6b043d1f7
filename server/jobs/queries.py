"""The job outbox's statements."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from server.jobs.models import OutboxJob


def delete_row(session: Session, outbox_id: int) -> None:
    session.execute(delete(OutboxJob).where(OutboxJob.id == outbox_id))


def rows_to_sweep(session: Session, older_than: dt.datetime, limit: int = 500) -> list[OutboxJob]:
    """Rows older than the grace period, locked; rows another worker is sweeping are skipped."""
    return list(session.scalars(
        select(OutboxJob).where(OutboxJob.created_at < older_than)
        .order_by(OutboxJob.id).limit(limit).with_for_update(skip_locked=True)))


def mark_delivered(session: Session, outbox_id: int, attempts: int, now: dt.datetime) -> None:
    session.execute(update(OutboxJob).where(OutboxJob.id == outbox_id).values(attempts=attempts, delivered_at=now))


def all_rows(session: Session) -> list[OutboxJob]:
    return list(session.scalars(select(OutboxJob).order_by(OutboxJob.id)))
