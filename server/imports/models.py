"""Imports and what they leave behind: problems, history, register snapshots, dropout signals."""

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
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base

KINDS = ("roster", "register")
# full: the file is the whole roster of its towns (who it leaves out is missing from the roster);
# corrections: only the rows to add or fix (service.py's docstring says why and how).
MODES = ("full", "corrections")
SEVERITIES = ("error", "warning")  # rows.ERROR, rows.WARNING
STATUSES = ("queued", "running", "done", "failed")
# What a register row says about a student (values.REGISTER_STATUSES maps the Chinese).
REGISTER_STATUSES = ("attending", "suspended", "transferred_out", "graduated", "dropped_out", "deceased")
# 学籍动态监控: why a student is a suspected dropout.
DROPOUT_SIGNALS = {
    "left_register": "学籍消失且未在其他学校注册",
    "transferred_out_not_received": "转出后未在其他学校注册",
    "not_handed_over": "小学毕业后未在初中注册（小升初未移交）",
}


def _in(column: str, values) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


class Import(Base):
    """One uploaded roster or register and the job that reads it."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, server_default="queued")
    phase: Mapped[str | None] = mapped_column(String(20))  # reading, saving, matching, comparing
    filename: Mapped[str] = mapped_column(String(200), nullable=False)
    file_format: Mapped[str | None] = mapped_column(String(8))
    encoding: Mapped[str | None] = mapped_column(String(20))
    file_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    file_size: Mapped[int] = mapped_column(Integer, nullable=False)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    # A town supervisor's import may only touch that town's villages.
    town_code: Mapped[str | None] = mapped_column(ForeignKey("towns.code"))
    # The day the export reflects (a register's 学籍 state on that day).
    as_of: Mapped[dt.date] = mapped_column(Date, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                    server_default=func.now())
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    rows_total: Mapped[int | None] = mapped_column(Integer)
    rows_read: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    rows_ok: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    rows_bad: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    problems_preview: Mapped[list] = mapped_column(JSONB, nullable=False, server_default="[]")
    summary: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")
    error_code: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)
    previous_import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"))
    mode: Mapped[str] = mapped_column(String(12), nullable=False, server_default="full")

    __table_args__ = (
        CheckConstraint(_in("kind", KINDS), name="kind"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("mode", MODES), name="mode"),
        Index("ix_imports_kind_status", "kind", "status"),
    )


class ImportFile(Base):
    """The uploaded bytes, kept in the database (workers need no shared disk) until the job
    has read them: they hold ID numbers in clear text, so they are erased once it is done."""

    __tablename__ = "import_files"

    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class ImportProblem(Base):
    """One row's problem in one column: line, column, stable code, message, severity (an error
    kept the row out; a warning's row was imported), and where the row's child lives."""

    __tablename__ = "import_problems"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"), nullable=False)
    line: Mapped[int] = mapped_column(Integer, nullable=False)
    column: Mapped[str | None] = mapped_column(String(30))
    header: Mapped[str | None] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(40), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    value: Mapped[str | None] = mapped_column(String(200))  # ID numbers masked
    severity: Mapped[str] = mapped_column(String(8), nullable=False, server_default="error")
    imported_value: Mapped[str | None] = mapped_column(String(200))  # a warning's: from the ID number
    name: Mapped[str | None] = mapped_column(String(50))
    town: Mapped[str | None] = mapped_column(String(100))
    village: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (
        CheckConstraint(_in("severity", SEVERITIES), name="severity"),
        Index("ix_import_problems_import_line", "import_id", "line"),
        Index("ix_import_problems_import_severity", "import_id", "severity", "line"),
    )


class RosterEntry(Base):
    """A child's place in the police rosters: first and last import, missing since when."""

    __tablename__ = "roster_entries"

    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"),
                                                primary_key=True)
    # Plain integers rather than foreign keys: every roster writes one entry per child, and two
    # FK checks per row would cost a second per 100,000 rows; imports are never deleted.
    first_import_id: Mapped[int] = mapped_column(Integer, nullable=False)
    last_import_id: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    last_line: Mapped[int] = mapped_column(Integer, nullable=False)
    # Set when a newer roster of the child's town no longer lists the child; never deleted.
    missing_since_import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"), index=True)


class RecordChange(Base):
    """History: what an import changed in a child or household record, and when."""

    __tablename__ = "record_changes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    record_type: Mapped[str] = mapped_column(String(12), nullable=False)  # child, household
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id", ondelete="SET NULL"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    # updated, status_from_register, missing_from_roster, back_in_roster
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    changes: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")  # field: [old, new]

    __table_args__ = (
        CheckConstraint("record_type in ('child', 'household')", name="record_type"),
        Index("ix_record_changes_record", "record_type", "record_id", "id"),
    )


class RegisterStudent(Base):
    """One row of one register import: the register as it stood on that import's date."""

    __tablename__ = "register_students"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"), nullable=False)
    line: Mapped[int] = mapped_column(Integer, nullable=False)
    id_number_lookup: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    id_number_cipher: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    gender: Mapped[str] = mapped_column(String(1), nullable=False)
    student_number: Mapped[str | None] = mapped_column(String(30))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    school_code: Mapped[str | None] = mapped_column(String(10))
    school_name: Mapped[str | None] = mapped_column(String(100))
    grade: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    class_name: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    child_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("children.id", ondelete="SET NULL"))

    __table_args__ = (
        CheckConstraint(_in("status", REGISTER_STATUSES), name="status"),
        CheckConstraint("gender in ('M', 'F')", name="gender"),
        Index("ix_register_students_import_lookup", "import_id", "id_number_lookup"),
        Index("ix_register_students_child_id", "child_id"),
    )


class SuspectedDropout(Base):
    """学籍动态监控: a student who left the registers between two imports, with the evidence.

    Kept for the monthly dropout report (月辍学报告); one row per signal and register import.
    """

    __tablename__ = "suspected_dropouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    register_import_id: Mapped[int] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"), nullable=False)
    previous_import_id: Mapped[int] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"), nullable=False)
    detected_on: Mapped[dt.date] = mapped_column(Date, nullable=False)  # the later register's date
    id_number_lookup: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    id_number_cipher: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    child_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("children.id", ondelete="SET NULL"))
    village_code: Mapped[str | None] = mapped_column(ForeignKey("villages.code"), index=True)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    gender: Mapped[str] = mapped_column(String(1), nullable=False)
    student_number: Mapped[str | None] = mapped_column(String(30))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    school_name: Mapped[str | None] = mapped_column(String(100))
    grade: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    evidence: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                    server_default=func.now())

    __table_args__ = (
        CheckConstraint(_in("kind", DROPOUT_SIGNALS), name="kind"),
        Index("uq_suspected_dropouts_signal", "register_import_id", "id_number_lookup", "kind", unique=True),
        Index("ix_suspected_dropouts_detected_on", "detected_on"),
    )


REFERRAL_STATUSES = ("held", "moved", "dismissed")


class RosterReferral(Base):
    """A town roster's row held for the city bureau: its ID number is none of the town's children.

    The row is kept as the town sent it (the ID number encrypted and hashed, like a child's)
    until the bureau moves the child into the uploader's village or dismisses the row.
    """

    __tablename__ = "roster_referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"), nullable=False, index=True)
    line: Mapped[int] = mapped_column(Integer, nullable=False)
    id_number_lookup: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    id_number_cipher: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    name: Mapped[str] = mapped_column(String(50), nullable=False)
    gender: Mapped[str] = mapped_column(String(1), nullable=False)
    birth_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    ethnicity: Mapped[str | None] = mapped_column(String(20))
    village_code: Mapped[str] = mapped_column(ForeignKey("villages.code"), nullable=False)
    group_name: Mapped[str | None] = mapped_column(String(20))
    household_number: Mapped[str | None] = mapped_column(String(30))
    address: Mapped[str | None] = mapped_column(String(200))
    head_name: Mapped[str | None] = mapped_column(String(50))
    relation_to_head: Mapped[str | None] = mapped_column(String(20))
    guardian_name: Mapped[str | None] = mapped_column(String(50))
    guardian_phone: Mapped[str | None] = mapped_column(String(30))
    # The child on file with this number when the row arrived (none: new to the county).
    child_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("children.id"))
    status: Mapped[str] = mapped_column(String(10), nullable=False, server_default="held")
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())

    __table_args__ = (
        CheckConstraint(_in("status", REFERRAL_STATUSES), name="status"),
        Index("ix_roster_referrals_held", "id", postgresql_where="status = 'held'"),
    )
