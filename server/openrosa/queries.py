"""Every query of the OpenRosa endpoints."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from server.openrosa.models import OpenRosaInstance
from server.records import registry
from server.sync.models import Submission


def instance(session: Session, instance_id: str) -> OpenRosaInstance | None:
    """The instance under FOR UPDATE: two uploads of one instance (a retry racing a slow first
    attempt) are taken one after the other, never both."""
    return session.scalars(
        select(OpenRosaInstance).where(OpenRosaInstance.instance_id == instance_id).with_for_update()
    ).one_or_none()


_LOCK_AND_FORM = text(
    "SELECT v.sha256, md5(v.xform) FROM (SELECT pg_advisory_xact_lock(hashtextextended(:key, 14))) AS l"
    " LEFT JOIN form_versions v ON v.form_id = :form_id AND v.version = :version AND v.xform <> ''")


def lock_instance_id(session: Session, instance_id: str, form_id: str, version: str) -> tuple[str, str] | None:
    """Serialise the first upload of an instance with a concurrent one (no row to lock yet);
    in the same round trip, the (sha256, md5 of the XForm) of the form version it names, or
    None when there is no such version with an XForm. The instance is read in a statement of
    its own, after the lock: its snapshot then sees what the holder we waited for committed."""
    row = session.execute(_LOCK_AND_FORM, {"key": f"openrosa:{instance_id}", "form_id": form_id,
                                           "version": version}).one()
    return (row[0], row[1]) if row[0] is not None else None


def record_of_submission(session: Session, submission_id: uuid.UUID) -> tuple[str, uuid.UUID] | None:
    row = session.execute(select(Submission.record_type, Submission.record_id)
                          .where(Submission.submission_id == submission_id)).one_or_none()
    return (row[0], row[1]) if row else None


def next_device_seq(session: Session, device_id: uuid.UUID) -> int:
    return session.scalar(select(func.coalesce(func.max(Submission.device_seq), 0) + 1)
                          .where(Submission.device_id == device_id))


def rows_in_villages(session: Session, record_type: str, villages) -> list[dict]:
    """The current rows (to_jsonb, as the pull reads them) of a record type in these villages."""
    villages = sorted(villages)
    if not villages:
        return []
    table = registry.TABLES[record_type]
    sql = f"SELECT to_jsonb(t) FROM {table} t WHERE village_code = ANY(:villages) ORDER BY id"  # noqa: S608 - table from the registry
    return list(session.scalars(text(sql), {"villages": villages}))


def open_conflicts_in(session: Session, record_type: str, villages) -> dict[str, list[dict]]:
    """Open conflicts of these villages' records, by record id (a child's ID-number status)."""
    rows = session.execute(text(
        "SELECT record_id, field, values FROM conflicts WHERE status = 'open' AND record_type = :type"
        " AND village_code = ANY(:villages)"), {"type": record_type, "villages": sorted(villages)}).all()
    out: dict[str, list[dict]] = {}
    for record_id, field, values in rows:
        out.setdefault(str(record_id), []).append({"field": field, "values": values})
    return out


def present_in_villages(session: Session, record_type: str, ids: list[uuid.UUID], villages) -> set[uuid.UUID]:
    """Which of these records stand in these villages now."""
    if not ids or not villages:
        return set()
    table = registry.TABLES[record_type]
    sql = f"SELECT id FROM {table} WHERE id = ANY(:ids) AND village_code = ANY(:villages)"  # noqa: S608 - table from the registry
    return set(session.scalars(text(sql), {"ids": ids, "villages": sorted(villages)}))
