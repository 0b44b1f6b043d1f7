from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, SyncedRecord


class Visit(SyncedRecord, Base):
    """One follow-up visit to a child (劝返走访), as a tablet recorded it."""

    __tablename__ = "visits"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), nullable=False, index=True)
    household_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("households.id"), nullable=False)
    village_code: Mapped[str] = mapped_column(ForeignKey("villages.code"), nullable=False)
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id"))
    visit_date: Mapped[dt.date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(30))
    next_step: Mapped[str | None] = mapped_column(String(30))
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    visitors: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    # Attachments and any later form fields, as the tablet sent them.
    answers: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")

    __table_args__ = (Index("ix_visits_village_code", "village_code"),)
