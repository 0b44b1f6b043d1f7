from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Boolean, DateTime, ForeignKey, String, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base


class OpenRosaInstance(Base):
    """One XForm instance an XForm client sent, beside the submission it became.

    The XML is kept as received except for a typed ID number (its text is replaced by the
    number's keyed lookup hash; the ciphertext is in the submission's payload). A split upload
    (Collect's `*isIncomplete*`) is kept here, incomplete, with the files received so far,
    until its last part arrives; only then does it become a submission."""

    __tablename__ = "openrosa_instances"

    instance_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    submission_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, unique=True)
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("devices.id"), nullable=False, index=True)
    form_id: Mapped[str] = mapped_column(String(64), nullable=False)
    form_version: Mapped[str] = mapped_column(String(32), nullable=False)
    deprecated_id: Mapped[str | None] = mapped_column(String(100))
    xml: Mapped[str] = mapped_column(Text, nullable=False)
    # A keyed hash of the bytes received: the same bytes again are the same submission; a
    # plain sha256 of XML holding an ID number could be tested against guessed numbers.
    xml_mac: Mapped[str] = mapped_column(String(64), nullable=False)
    files: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")  # name -> "sha256:…"
    complete: Mapped[bool] = mapped_column(Boolean, nullable=False)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    completed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
