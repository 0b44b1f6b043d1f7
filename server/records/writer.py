"""The one way a server-side change reaches a synced record (a supervisor resolving a conflict,
a duplicate merge, a case step): the scope check, the columns (protected fields encrypted for
their row), the new version, the field states (a write by the server: a tablet editing from an
older version is concurrent with it), the conflicts it opens and the audit event.

A tablet's push writes many records at once and keeps its own bulk path
(server/sync/push/writes.py), but converts fields to columns here too (`columns`), so that an
ID number is encrypted and bound the same way whoever writes it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from server import db
from server.accounts.scope import Scope
from server.audit import service as audit
from server.conflicts import queries as conflict_queries
from server.errors import not_found
from server.people.protection import IdNumberVault
from server.sync import queries as sync_queries
from server.sync import records, states
from server.sync.models import Conflict
from sync import merge as merging


def columns(record_type: str, record_id: uuid.UUID, fields: dict[str, Any], vault: IdNumberVault | None) -> dict[str, Any]:
    """The columns for a change of wire fields (FieldValueError on a bad value); a protected
    field (the ID number) in clear leaves as its ciphertext bound to this record and its lookup."""
    return records.columns_for(record_type, fields, vault, record_id)


def locked(session: Session, record_type: str, record_id: uuid.UUID, scope: Scope | None) -> dict:
    """The record's current row, locked; not found outside the scope (as if it did not exist)."""
    row = sync_queries.rows_of(session, record_type, [record_id], for_update=True).get(record_id)
    if row is None or (scope is not None and not scope.covers(row["village_code"])):
        raise not_found(record_type)
    return row


def change(session: Session, vault: IdNumberVault | None, person_id: int | None, record_type: str, record_id: uuid.UUID,
           fields: dict[str, Any], *, scope: Scope | None = None, current: dict | None = None,
           raw_columns: dict[str, Any] | None = None, new_version: bool = False, remote_addr: str | None = None,
           **audit_detail) -> dict:
    """Write `fields` (wire names, clear values) to one record as the server; return its new row.

    `vault` may be None for a change without a protected field. `raw_columns` are columns that are no wire field (a child's school_id) or already in their
    stored form; `new_version` makes a version even with nothing to write (a new conflict on the
    record is something tablets must see)."""
    current = current if current is not None else locked(session, record_type, record_id, scope)
    values = columns(record_type, record_id, fields, vault)
    values.update(raw_columns or {})
    if not values and not new_version:
        return current
    values["version"] = current["version"] + 1
    row = sync_queries.update_row(session, record_type, record_id, values)
    if fields:
        now = db.now(session)
        key = (record_type, record_id)
        loaded = states.load(sync_queries.field_states(session, [key]).get(key))
        # Protected fields are spoken of by marker in the field states, never in clear.
        loaded.update(merging.server_write(loaded, {name: None for name in fields}, row["version"], now))
        sync_queries.save_field_states(session, record_type, record_id, states.dump(loaded))
    audit.record(session, person_id, "change", record_type, str(record_id), remote_addr=remote_addr,
                 version=row["version"], fields=sorted(fields), **audit_detail)
    return row


def open_conflict(session: Session, record_type: str, record_id: uuid.UUID, village_code: str, field: str,
                  values: list[dict]) -> None:
    """Open the field's conflict with these values, or add the new ones to the open conflict."""
    existing = conflict_queries.open_conflict_of(session, record_type, record_id, field)
    if existing is None:
        session.add(Conflict(id=uuid.uuid4(), record_type=record_type, record_id=record_id,
                             village_code=village_code, field=field, values=values))
    else:
        existing.values = existing.values + values[1:]
