from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from server.audit.models import AuditEvent


def record(session: Session, person_id: int | None, action: str, subject_type: str, subject_id: str,
           *, remote_addr: str | None = None, **detail) -> None:
    """Add an audit event to the current transaction: it commits with the work it describes."""
    session.add(AuditEvent(person_id=person_id, action=action, subject_type=subject_type,
                           subject_id=str(subject_id), remote_addr=remote_addr, detail=detail))


def record_read(session: Session, person_id: int, action: str, subject_type: str, subject_id: str, *,
                endpoint: str, filters: dict, record_ids: list[uuid.UUID], record_count: int,
                remote_addr: str | None, detail: dict) -> None:
    """Add one read of personal data (one request, however many records) to the transaction."""
    session.add(AuditEvent(person_id=person_id, action=action, subject_type=subject_type,
                           subject_id=str(subject_id), remote_addr=remote_addr, detail=detail,
                           endpoint=endpoint, filters=filters, record_count=record_count,
                           record_ids=record_ids))
