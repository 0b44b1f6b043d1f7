"""The sync layer's own tables. Change log, history and version bumps are kept by database
triggers (migration 0003) so that every writer (sync, imports, supervisors) is covered."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base


class ChangeLogEntry(Base):
    """The newest change of one record in one village; `seq` is assigned at commit, in commit
    order, so a pull that reads up to seq N has seen every change committed before it."""

    __tablename__ = "change_log"

    record_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    village_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False, unique=True)
    op: Mapped[str] = mapped_column(String(10), nullable=False)  # upsert, exit, delete
    merged_into: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    __table_args__ = (
        CheckConstraint("op in ('upsert', 'exit', 'delete')", name="op"),
        Index("ix_change_log_village_seq", "village_code", "seq"),
    )


class ScopeHash(Base):
    """A village's part of the contract's scope hash (the XOR of its records' keys' hashes, as
    two signed 64-bit halves), kept by log_record_change() at commit: a pull reads one row a
    village instead of hashing its records (migration 20261202_1600_scope_hashes)."""

    __tablename__ = "scope_hashes"

    village_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    h1: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    h2: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")


class RecordVersion(Base):
    """Every version of every synced record, as its row was (the base of later merges)."""

    __tablename__ = "record_versions"

    record_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    row: Mapped[dict] = mapped_column(JSONB, nullable=False)
    written_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class FieldStates(Base):
    """Who wrote each field's current value, and each device's newest seq per field."""

    __tablename__ = "field_states"

    record_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    states: Mapped[dict] = mapped_column(JSONB, nullable=False, server_default="{}")


class Submission(Base):
    """An accepted submission, verbatim, with its receipt (idempotency and nothing lost)."""

    __tablename__ = "submissions"

    submission_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("devices.id"), nullable=False)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), nullable=False)
    device_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    content_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    record_type: Mapped[str] = mapped_column(String(20), nullable=False)
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    payload: Mapped[dict] = mapped_column(JSONB, nullable=False)
    receipt: Mapped[dict] = mapped_column(JSONB, nullable=False)

    __table_args__ = (
        Index("ix_submissions_record", "record_type", "record_id"),
        Index("ix_submissions_device_seq", "device_id", "device_seq"),
        # The audit trail reads changes newest first, and by person.
        Index("ix_submissions_received_at", "received_at"),
        Index("ix_submissions_person_received_at", "person_id", "received_at"),
    )


class Conflict(Base):
    """Two or more values written to one field concurrently, kept until a supervisor decides."""

    __tablename__ = "conflicts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    record_type: Mapped[str] = mapped_column(String(20), nullable=False)
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    village_code: Mapped[str] = mapped_column(String(12), nullable=False)
    field: Mapped[str] = mapped_column(String(64), nullable=False)
    values: Mapped[list] = mapped_column(JSONB, nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, server_default="open")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    resolution: Mapped[dict | None] = mapped_column(JSONB)

    __table_args__ = (
        CheckConstraint("status in ('open', 'resolved')", name="status"),
        Index("ix_conflicts_record", "record_type", "record_id"),
        Index("ix_conflicts_village_status", "village_code", "status"),
        # One open conflict per field of a record: later values join it.
        Index("uq_conflicts_open_field", "record_type", "record_id", "field", unique=True,
              postgresql_where="status = 'open'"),
    )


class Tombstone(Base):
    """A record the server deleted, pointing at the record it was merged into (if any)."""

    __tablename__ = "tombstones"

    record_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    village_code: Mapped[str] = mapped_column(String(12), nullable=False)
    merged_into: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    deleted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    deleted_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))


class DuplicateCandidate(Base):
    """Two children who may be one (same ID number, or same name, birth date and household)."""

    __tablename__ = "duplicate_candidates"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_a: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    child_b: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    village_code: Mapped[str] = mapped_column(String(12), nullable=False, index=True)
    reason: Mapped[str] = mapped_column(String(30), nullable=False)  # same_id_number, same_name_birth_household
    status: Mapped[str] = mapped_column(String(10), nullable=False, server_default="open")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    outcome: Mapped[str | None] = mapped_column(String(20))  # merged, distinct

    __table_args__ = (
        CheckConstraint("status in ('open', 'resolved')", name="status"),
        CheckConstraint("child_a < child_b", name="ordered_pair"),
        Index("uq_duplicate_candidates_pair", "child_a", "child_b", unique=True),
    )


class Attachment(Base):
    """A stored attachment, addressed by the SHA-256 of its bytes (the file lives on disk)."""

    __tablename__ = "attachments"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    content_type: Mapped[str | None] = mapped_column(String(100))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("devices.id"))
