from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import DateTime, ForeignKey, Index, func
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base


class AttachmentUpload(Base):
    """Who uploaded an attachment's bytes, and from which tablet: a file is stored once, but
    only those who had its bytes (or their village's tablets) may refer to it."""

    __tablename__ = "attachment_uploads"

    sha256: Mapped[str] = mapped_column(ForeignKey("attachments.sha256"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())

    __table_args__ = (Index("ix_attachment_uploads_device_id", "device_id"),)
