from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, LargeBinary, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base


class FormVersion(Base):
    """One published version of a form: the compiled JSON, its XForm and the source XLSForm."""

    __tablename__ = "form_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[str] = mapped_column(String(32), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    record_type: Mapped[str] = mapped_column(String(20), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    compiled: Mapped[dict] = mapped_column(JSONB, nullable=False)
    xform: Mapped[str] = mapped_column(Text, nullable=False)
    xlsform: Mapped[bytes | None] = mapped_column(LargeBinary)
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    published_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("form_id", "version", name="uq_form_versions_form_version"),)


class CampaignForm(Base):
    """A form the campaign's tablets use."""

    __tablename__ = "campaign_forms"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    form_id: Mapped[str] = mapped_column(String(64), primary_key=True)
