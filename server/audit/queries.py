"""The audit trail as one list: the explicit events (reads, exports, imports, decisions) and the
changes whose own tables already say who made them (tablet submissions, case steps).

Changes from tablets are not copied into audit_events: every accepted submission is kept
verbatim with its person and device, so the trail reads it from there instead of writing each
change twice on the sync path.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Integer, String, Uuid, cast, func, literal, null, or_, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, JSONPATH
from sqlalchemy.orm import Session

from server.accounts.models import Person
from server.audit.models import AuditEvent
from server.cases.models import Case, CaseEvent
from server.sync.models import Submission


def _events():
    return select(
        AuditEvent.at.label("at"),
        AuditEvent.person_id.label("person_id"),
        AuditEvent.action.label("action"),
        AuditEvent.subject_type.label("subject_type"),
        AuditEvent.subject_id.label("subject_id"),
        AuditEvent.remote_addr.label("remote_addr"),
        literal(None, String).label("device_id"),
        AuditEvent.detail.label("detail"),
        literal("audit", String).label("source"),
        AuditEvent.endpoint.label("endpoint"),
        AuditEvent.filters.label("filters"),
        AuditEvent.record_count.label("record_count"),
        AuditEvent.record_ids.label("record_ids"),
    )


def _no_read():
    """The read columns of the parts that are changes, not reads."""
    return (cast(null(), String).label("endpoint"), cast(null(), JSONB).label("filters"),
            cast(null(), Integer).label("record_count"), cast(null(), ARRAY(Uuid)).label("record_ids"))


def _submissions():
    return select(
        Submission.received_at.label("at"),
        Submission.person_id.label("person_id"),
        literal("change", String).label("action"),
        Submission.record_type.label("subject_type"),
        cast(Submission.record_id, String).label("subject_id"),
        literal(None, String).label("remote_addr"),
        cast(Submission.device_id, String).label("device_id"),
        func.jsonb_build_object(
            "submission_id", cast(Submission.submission_id, String),
            "device_seq", Submission.device_seq,
            "fields", func.coalesce(func.jsonb_path_query_array(Submission.payload, cast("$.record.fields.keyvalue().key", JSONPATH)),
                                    func.jsonb_build_array()),
            "outcome", Submission.receipt["status"],
        ).label("detail"),
        literal("sync", String).label("source"),
        *_no_read(),
    )


def _case_steps():
    return select(
        CaseEvent.at.label("at"),
        CaseEvent.person_id.label("person_id"),
        literal("change", String).label("action"),
        literal("case", String).label("subject_type"),
        cast(CaseEvent.case_id, String).label("subject_id"),
        literal(None, String).label("remote_addr"),
        literal(None, String).label("device_id"),
        func.jsonb_build_object("from", CaseEvent.from_status, "to", CaseEvent.to_status,
                                "child_id", cast(Case.child_id, String)).label("detail"),
        literal("cases", String).label("source"),
        *_no_read(),
    ).join(Case, Case.id == CaseEvent.case_id)


def _filtered(part, *, person, at, subject_type_col, subject_id_col, subject_id_value, person_id, subject_type,
              since, until):
    if person_id is not None:
        part = part.where(person == person_id)
    if since is not None:
        part = part.where(at >= since)
    if until is not None:
        part = part.where(at < until)
    if subject_type and subject_type_col is not None:
        part = part.where(subject_type_col == subject_type)
    if subject_id_value is not None:
        part = part.where(subject_id_col == subject_id_value)
    return part


def _as(kind, value: str):
    try:
        return kind(value)
    except (TypeError, ValueError):
        return None


def trail_page(session: Session, *, person_id: int | None = None, action: str | None = None,
               subject_type: str | None = None, subject_id: str | None = None,
               since: dt.datetime | None = None, until: dt.datetime | None = None,
               record_id: uuid.UUID | None = None, endpoint: str | None = None,
               offset: int, limit: int):
    """One page of the trail, newest first, with the total that matches the filters.

    Each part is filtered on its own columns before the union, so that each uses its indexes
    (a submission's record id is a uuid, a case's id an integer); a part that cannot match
    the filters is left out. `record_id` finds every event about one child or household: the
    reads that showed it (in a list too: the GIN index on record_ids) and its changes.
    """
    common = {"person_id": person_id, "subject_type": subject_type, "since": since, "until": until}
    events = _events()
    if action:
        events = events.where(AuditEvent.action == action)
    if endpoint:
        events = events.where(AuditEvent.endpoint == endpoint)
    if record_id is not None:
        events = events.where(or_(AuditEvent.record_ids.contains([record_id]),
                                  AuditEvent.subject_id == str(record_id)))
    parts = [_filtered(events, person=AuditEvent.person_id, at=AuditEvent.at, subject_type_col=AuditEvent.subject_type,
                       subject_id_col=AuditEvent.subject_id, subject_id_value=subject_id, **common)]
    if action in (None, "change") and not endpoint:
        submitted = _as(uuid.UUID, subject_id) if subject_id else None
        if (not subject_id or submitted is not None) and (record_id is None or submitted in (None, record_id)):
            parts.append(_filtered(_submissions(), person=Submission.person_id, at=Submission.received_at,
                                   subject_type_col=Submission.record_type, subject_id_col=Submission.record_id,
                                   subject_id_value=submitted or record_id, **common))
        case_id = _as(int, subject_id) if subject_id else None
        if subject_type in (None, "case") and (not subject_id or case_id is not None) and record_id is None:
            parts.append(_filtered(_case_steps(), person=CaseEvent.person_id, at=CaseEvent.at, subject_type_col=None,
                                   subject_id_col=CaseEvent.case_id, subject_id_value=case_id, **common))
    trail = union_all(*parts).subquery("trail")
    total = session.scalar(select(func.count()).select_from(trail))
    rows = session.execute(
        select(trail, Person.username, Person.full_name, Person.role)
        .outerjoin(Person, Person.id == trail.c.person_id)
        .order_by(trail.c.at.desc(), trail.c.subject_id)
        .offset(offset).limit(limit)
    ).mappings().all()
    return total, rows
