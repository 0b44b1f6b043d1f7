from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.cases import machine
from server.db import Base

NOTICE_KINDS = {
    "enroll": "入学通知书",
    "return": "劝返复学通知书",
    "deadline": "限期入学通知书",
    "violation": "违反义务教育法告知书",
}
NOTICE_STATUSES = ("queued", "done", "failed")


def _in(column: str, values) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


class Case(Base):
    """One out-of-school child followed until back in school or lawfully exempted."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), nullable=False, index=True)
    # The child's village when the case opened, kept here so scoped lists filter without a join.
    village_code: Mapped[str] = mapped_column(ForeignKey("villages.code"), nullable=False, index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="identified")
    opened_from: Mapped[str] = mapped_column(String(30), nullable=False)  # the child's enrollment_status
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    due_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    deadline: Mapped[dt.date | None] = mapped_column(Date)  # 限期 set by the town on escalation
    return_school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    return_school_name: Mapped[str | None] = mapped_column(String(100))
    return_date: Mapped[dt.date | None] = mapped_column(Date)
    exemption_reason: Mapped[str | None] = mapped_column(String(20))
    evidence: Mapped[str | None] = mapped_column(String(71))  # sha256:<hex> of the photo
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())

    __table_args__ = (
        CheckConstraint(_in("status", machine.STATUSES), name="status"),
        CheckConstraint(f"exemption_reason is null or {_in('exemption_reason', machine.EXEMPTION_REASONS)}",
                        name="exemption_reason"),
        # One open case per child: opening twice (two clicks, two workers) cannot duplicate it.
        Index("uq_cases_open_child", "child_id", unique=True, postgresql_where=text("closed_at is null")),
        Index("ix_cases_status", "status"),
    )


class CaseEvent(Base):
    """One step of a case: from, to, who, when and what they said."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20), nullable=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    note: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")


class NoticeCounter(Base):
    """The last number of each kind of notice in each year (海安教返〔2027〕0001号 …)."""

    __tablename__ = "notice_counters"

    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, nullable=False)


class Notice(Base):
    """A written notice to a child's guardians; its PDF is rendered by a job on "reports"."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    year: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    number_text: Mapped[str] = mapped_column(String(40), nullable=False)
    issued_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    # What the page prints beside the child: who issues it, where and to whom the child
    # reports, whom the family calls. Kept on the notice so a second rendering is the same page.
    issuer: Mapped[str | None] = mapped_column(String(100))
    school_name: Mapped[str | None] = mapped_column(String(100))
    report_place: Mapped[str | None] = mapped_column(String(200))
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(10), nullable=False, server_default="queued")
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    rendered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(_in("kind", NOTICE_KINDS), name="kind"),
        CheckConstraint(_in("status", NOTICE_STATUSES), name="status"),
        Index("uq_notices_kind_year_number", "kind", "year", "number", unique=True),
    )


class SupportPlan(Base):
    """一生一案: what is done for a family in difficulty, who answers for it, when it is reviewed."""

    __tablename__ = "support_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    measures: Mapped[list] = mapped_column(JSONB, nullable=False, server_default="[]")
    responsible_name: Mapped[str] = mapped_column(String(50), nullable=False)
    responsible_phone: Mapped[str | None] = mapped_column(String(30))
    review_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
