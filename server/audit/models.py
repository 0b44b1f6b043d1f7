from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Uuid, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base


class AuditEvent(Base):
    """One read of personal data, one export or one change, by one person."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    action: Mapped[str] = mapped_column(String(30), nullable=False)  # read_child, export, change
    subject_type: Mapped[str] = mapped_column(String(30), nullable=False)
    subject_id: Mapped[str] = mapped_column(String(64), nullable=False)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")
    # A read of personal data (server/audit/reads.py): the request's rule, its filters, how
    # many records the answer held and the ids of the children and households it showed.
    endpoint: Mapped[str | None] = mapped_column(String(120))
    filters: Mapped[dict | None] = mapped_column(JSONB)
    record_count: Mapped[int | None] = mapped_column(Integer)
    record_ids: Mapped[list[uuid.UUID] | None] = mapped_column(ARRAY(Uuid))

    __table_args__ = (
        Index("ix_audit_events_subject", "subject_type", "subject_id"),
        Index("ix_audit_events_person_at", "person_id", "at"),
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_record_ids", "record_ids", postgresql_using="gin"),
    )
