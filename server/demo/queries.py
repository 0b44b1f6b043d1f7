"""The demo county's statements: is there a county already, wipe it, refresh the statistics."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from server.places.models import Town


def has_places(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Town)))


def wipe(session: Session, tables) -> None:
    session.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))


def analyze(session: Session) -> None:
    # The planner needs the new row counts before the first imports and maps run.
    session.execute(text("ANALYZE"))
