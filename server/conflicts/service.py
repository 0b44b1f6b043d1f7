"""Conflicts in front of a supervisor: list them in scope, resolve one with a value."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.orm import Session

import survey_forms
from server import db, disclosure
from server.accounts.models import Person
from server.accounts.scope import Scope
from server.conflicts import queries
from server.errors import DomainError, FieldError, not_found
from server.forms import queries as form_queries
from server.forms import service as forms
from server.people import id_number
from server.people.protection import IdNumberVault, child_subject, is_protected, marker
from server.records import writer
from server.sync import queries as sync_queries
from server.sync import records
from server.sync.models import Conflict

REVIEWERS = ("city", "town_supervisor", "team_leader")


_LABEL_COLUMNS = {"child": "name", "household": "head_name", "visit": "visit_date"}


def _labels(session: Session, conflicts: list[Conflict]) -> dict[tuple[str, uuid.UUID], str | None]:
    """Whom each conflict is about, for a supervisor's list (a name, never an ID number): one
    query per record type, however long the page."""
    out = {}
    for record_type, column in _LABEL_COLUMNS.items():
        ids = [c.record_id for c in conflicts if c.record_type == record_type]
        for record_id, row in sync_queries.rows_of(session, record_type, ids).items():
            out[(record_type, record_id)] = row.get(column)
    return out


def _shown(conflict: Conflict, entry: dict | None, viewer: str, vault: IdNumberVault) -> dict | None:
    """A value of the conflict (or its resolution) as the viewer may see that field, never a
    stored ciphertext: an ID number by its marker (a supervisor picks one by sending the marker
    back) beside its digits as the reader policy shows them; any other field through the policy
    (an absent field without its value)."""
    if entry is None:
        return None
    out = {k: v for k, v in entry.items() if k not in ("value", "cipher")}
    value, field = entry.get("value"), conflict.field
    if field in records.PROTECTED.get(conflict.record_type, ()) and is_protected(value):
        clear = vault.reveal(entry, child_subject(conflict.record_id)) if entry.get("cipher") else None
        shown = disclosure.show(viewer, conflict.record_type, {field: clear})
        if field in shown:
            out["value"] = {**value, "masked": shown[field]}
        return out
    shown = disclosure.show(viewer, conflict.record_type, {field: value})
    if field in shown:
        out["value"] = shown[field]
    return out


def describe(session: Session, conflict: Conflict, viewer: str, vault: IdNumberVault,
             labels: dict | None = None) -> dict:
    labels = _labels(session, [conflict]) if labels is None else labels
    label_field = _LABEL_COLUMNS.get(conflict.record_type)
    label = labels.get((conflict.record_type, conflict.record_id))
    return {
        "conflict_id": str(conflict.id),
        "record": {"type": conflict.record_type, "id": str(conflict.record_id), "village_code": conflict.village_code},
        "record_label": disclosure.show(viewer, conflict.record_type, {label_field: label}).get(label_field),
        "field": conflict.field,
        "values": [_shown(conflict, v, viewer, vault) for v in conflict.values],
        "status": conflict.status,
        "created_at": conflict.created_at,
        "resolution": _shown(conflict, conflict.resolution, viewer, vault),
    }


def list_conflicts(session: Session, scope: Scope, viewer: str, vault: IdNumberVault, status: str | None,
                   village: str | None, page: int, page_size: int) -> dict:
    total, rows = queries.conflicts_page(session, scope, status, village, (page - 1) * page_size, page_size)
    labels = _labels(session, rows)
    return {"items": [describe(session, c, viewer, vault, labels) for c in rows], "total": total, "page": page,
            "page_size": page_size}


def _field_definition(session: Session, record_type: str, field: str) -> survey_forms.CompiledForm | None:
    """The newest live form version that writes this field of this record type."""
    candidates = [r for r in form_queries.all_versions(session)
                  if r.record_type == record_type and r.retired_at is None]
    for row in reversed(candidates):
        form = forms.compiled(row)
        if any(f.record_field == field for f in form.fields):
            return form
    return None


def resolve(session: Session, scope: Scope, vault: IdNumberVault, person: Person, conflict_id: uuid.UUID,
            value, note: str | None, remote_addr: str | None) -> dict:
    """Decide a conflict: the value becomes the record's, in a new version that flows to tablets."""
    conflict = queries.conflict_for_update(session, conflict_id)
    if conflict is None or not scope.covers(conflict.village_code):
        raise not_found("conflict")
    if conflict.status != "open":
        raise DomainError("conflicts.already_resolved")
    protected = conflict.field in records.PROTECTED.get(conflict.record_type, ())
    if protected and is_protected(value):
        # One of the conflict's own numbers, picked by its marker.
        entry = next((v for v in conflict.values if is_protected(v.get("value")) and v.get("cipher")
                      and v["value"].get("lookup") == value.get("lookup")), None)
        if entry is None:
            raise DomainError("request.invalid", errors=[FieldError(
                "value", "conflicts.unknown_value", "not one of this conflict's values")])
        value = vault.reveal(entry, child_subject(conflict.record_id))
    form = _field_definition(session, conflict.record_type, conflict.field)
    if form is not None:
        errors = survey_forms.validate_submission(form, {conflict.field: value}, partial=True)
        if errors:
            raise DomainError("request.invalid", errors=[FieldError("value", e.code, e.message) for e in errors])
    raw_columns = {}
    if protected and value is not None:
        checked = id_number.check(str(value))
        if not checked.ok:
            raise DomainError("request.invalid", errors=[FieldError("value", checked.errors[0],
                                                                    "not a valid ID number (GB 11643)")])
        # From here on the number is spoken of by its marker only (the resolution, field states);
        # `matched` when the number kept is one a tablet typed.
        lookup = vault.lookup(checked.value)
        value = checked.value
        typed_on_tablet = any(v.get("device_id") and v.get("value") == marker(lookup) for v in conflict.values)
        raw_columns["id_number_confirmed_lookup"] = lookup if typed_on_tablet else None
    # The supervisor's decision is a write by the server: a tablet that edits the field from
    # an older version afterwards is concurrent with it, and conflicts again.
    try:
        writer.change(session, vault, person.id, conflict.record_type, conflict.record_id, {conflict.field: value},
                      scope=scope, raw_columns=raw_columns, new_version=True, remote_addr=remote_addr,
                      field=conflict.field, conflict_id=str(conflict.id))
    except records.FieldValueError as exc:
        raise DomainError("request.invalid", errors=[FieldError("value", exc.code, exc.message)]) from exc
    if protected and value is not None:
        value = marker(vault.lookup(value))
    now = db.now(session)
    conflict.status = "resolved"
    conflict.resolved_at = now
    conflict.resolved_by = person.id
    conflict.resolution = {"value": value, "note": note, "resolved_by": person.id,
                           "resolved_at": now.astimezone(dt.UTC).isoformat()}
    session.flush()
    return describe(session, conflict, disclosure.viewer_of(person), vault)
