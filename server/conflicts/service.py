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
from sync.records import canonical

REVIEWERS = ("city", "town_supervisor", "team_leader")


_LABEL_COLUMNS = {"child": "name", "household": "head_name", "visit": "visit_date"}
_HOUSEHOLD_FIELDS = ("head_name", "address", "group_name", "household_number")


class _Context:
    """What a page of conflicts needs besides the conflicts, read once for the whole page (a
    query per kind, however long the page): the records they are about and their households,
    the villages and towns, who gave each value (tablet, surveyor, the team over the conflict's
    village, its line) and who decided."""

    def __init__(self, session: Session, conflicts: list[Conflict]):
        self.rows: dict[tuple[str, uuid.UUID], dict] = {}
        for record_type in _LABEL_COLUMNS:
            ids = [c.record_id for c in conflicts if c.record_type == record_type]
            for record_id, row in sync_queries.rows_of(session, record_type, ids).items():
                self.rows[(record_type, record_id)] = row
        household_ids = [uuid.UUID(str(row["household_id"])) for (t, _), row in self.rows.items()
                         if t in ("child", "visit") and row.get("household_id")]
        self.households = {**{i: row for (t, i), row in self.rows.items() if t == "household"},
                           **sync_queries.rows_of(session, "household", household_ids)}
        child_ids = [uuid.UUID(str(row["child_id"])) for (t, _), row in self.rows.items()
                     if t == "visit" and row.get("child_id")]
        self.children = {**{i: row for (t, i), row in self.rows.items() if t == "child"},
                         **sync_queries.rows_of(session, "child", child_ids)}
        self.places = queries.places_of(session, [c.village_code for c in conflicts])
        self.givers = Givers(session, [v.get("device_id") for c in conflicts for v in c.values])
        self.deciders = queries.names_of(session, [c.resolved_by for c in conflicts])

    def record(self, conflict: Conflict) -> dict | None:
        return self.rows.get((conflict.record_type, conflict.record_id))

    def giver(self, conflict: Conflict, entry: dict) -> dict:
        return self.givers.of(entry.get("device_id"), conflict.village_code)


class Givers:
    """Who stands behind tablets: each tablet's surveyor and that surveyor's teams, read once
    for a page (two queries, however many tablets)."""

    def __init__(self, session: Session, device_ids):
        ids = []
        for device_id in device_ids:
            try:
                ids.append(uuid.UUID(str(device_id)))
            except ValueError:
                continue
        self.devices = {str(r[0]): r for r in queries.surveyors_of(session, ids)}
        self.teams: dict[int, list] = {}
        for row in queries.teams_of(session, [r[2] for r in self.devices.values()]):
            self.teams.setdefault(row[0], []).append(row)

    def of(self, device_id, village_code: str) -> dict:
        """Who gave a value: the tablet, its surveyor, and the surveyor's team over this village
        (a surveyor may be in a team of each line; the one covering the village answers for the
        value, else the surveyor's own line). No tablet: a value the server wrote (a merge)."""
        device = self.devices.get(str(device_id))
        if device is None:
            return {"source": "server" if device_id is None else "tablet", "device_name": None,
                    "surveyor": None, "team": None, "line": None}
        _, device_name, person_id, full_name, person_line = device
        team = next((t for t in self.teams.get(person_id, []) if village_code in (t[4] or ())), None)
        return {"source": "tablet", "device_name": device_name, "surveyor": {"id": person_id, "name": full_name},
                "team": {"id": team[1], "name": team[2]} if team else None,
                "line": team[3] if team else person_line}


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


def _options(conflict: Conflict, values: list[dict]) -> list[dict]:
    """The conflict's distinct values, each once with everyone who gave it (two surveyors who
    wrote the same number are one option, not two), in the order they were first given."""
    options: dict[str, dict] = {}
    for stored, shown in zip(conflict.values, values, strict=True):
        key = canonical(stored.get("value"))
        if key not in options:
            options[key] = {"value": shown.get("value"), "given_by": []}
            if "value" not in shown:
                del options[key]["value"]
        options[key]["given_by"].append({k: v for k, v in shown.items() if k != "value"})
    return list(options.values())


def shown_household(viewer: str, household: dict | None) -> dict | None:
    """A household beside a review item (a conflict, a duplicate pair), as the viewer may see it."""
    if household is None:
        return None
    return {"id": str(household["id"]),
            **disclosure.show(viewer, "household", {f: household.get(f) for f in _HOUSEHOLD_FIELDS})}


def shown_place(places: dict, village_code: str) -> dict:
    """The village and town of a review item, from queries.places_of."""
    village_name, town_code, town_name = places.get(village_code, (None, None, None))
    return {"village": {"code": village_code, "name": village_name},
            "town": {"code": town_code, "name": town_name} if town_code else None}


def _context(conflict: Conflict, ctx: _Context, viewer: str) -> dict:
    """The household and village a conflict is about, as the viewer may see them."""
    row = ctx.record(conflict) or {}
    household_id = conflict.record_id if conflict.record_type == "household" else row.get("household_id")
    household = ctx.households.get(uuid.UUID(str(household_id))) if household_id else None
    child_id = conflict.record_id if conflict.record_type == "child" else row.get("child_id")
    child = ctx.children.get(uuid.UUID(str(child_id))) if child_id else None
    return {
        **shown_place(ctx.places, conflict.village_code),
        "household": shown_household(viewer, household),
        "child": None if child is None else {
            "id": str(child["id"]),
            **disclosure.show(viewer, "child", {f: child.get(f) for f in ("name", "gender", "birth_date")})},
    }


def describe(session: Session, conflict: Conflict, viewer: str, vault: IdNumberVault,
             ctx: _Context | None = None) -> dict:
    ctx = ctx or _Context(session, [conflict])
    label_field = _LABEL_COLUMNS.get(conflict.record_type)
    label = (ctx.record(conflict) or {}).get(label_field)
    values = [{**_shown(conflict, v, viewer, vault), **ctx.giver(conflict, v)} for v in conflict.values]
    resolution = _shown(conflict, conflict.resolution, viewer, vault)
    if resolution is not None:
        resolution["resolved_by_name"] = ctx.deciders.get(conflict.resolved_by)
    return {
        "conflict_id": str(conflict.id),
        "record": {"type": conflict.record_type, "id": str(conflict.record_id), "village_code": conflict.village_code},
        "record_label": disclosure.show(viewer, conflict.record_type, {label_field: label}).get(label_field),
        "field": conflict.field,
        "values": values,
        "options": _options(conflict, values),
        "context": _context(conflict, ctx, viewer),
        "status": conflict.status,
        "created_at": conflict.created_at,
        "resolved_at": conflict.resolved_at,
        "resolution": resolution,
    }


def list_conflicts(session: Session, scope: Scope, viewer: str, vault: IdNumberVault, status: str | None,
                   village: str | None, page: int, page_size: int) -> dict:
    total, rows = queries.conflicts_page(session, scope, status, village, (page - 1) * page_size, page_size)
    ctx = _Context(session, rows)
    return {"items": [describe(session, c, viewer, vault, ctx) for c in rows], "total": total, "page": page,
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
