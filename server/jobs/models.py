"""The job outbox: a job is a row written in the transaction that asks for it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, DateTime, Index, SmallInteger, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base


class OutboxJob(Base):
    """A job asked for by a committed transaction and not yet finished.

    The row commits with the work it is about, so Redis being down at that moment loses
    nothing: the job is delivered once Redis is back. The job deletes its row when it
    finishes; a row that outlives its delivery (a worker killed mid-job, Redis restarted
    empty) is delivered again, which is safe because every job may run twice.
    """

    __tablename__ = "job_outbox"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    queue: Mapped[str] = mapped_column(String(20), nullable=False)
    function: Mapped[str] = mapped_column(String(200), nullable=False)  # dotted path of a module-level function
    args: Mapped[list] = mapped_column(JSONB, nullable=False, server_default="[]")
    options: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")  # job_timeout, description
    # Deliveries after the first; each gets its own RQ job id (outbox-<id>-<attempts>).
    attempts: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default="0", default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_job_outbox_created_at", "created_at"),)
