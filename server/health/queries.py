from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def postgis_version(session: Session) -> str | None:
    return session.scalar(
        text("select extversion from pg_extension where extname = 'postgis'")
    )


def database_now(session: Session):
    return session.scalar(text("select now()"))
