"""The tablet contract's use cases: manifest, changes (pull), push and repair.

Each function takes the request's session and never commits: the HTTP edge commits once, so a
push's records, conflicts and verbatim submissions land together or not at all (guarantee 4).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

import survey_forms
from server.accounts.models import Person
from server.accounts.scope import Scope
from server.devices.models import Device
from server.errors import DomainError
from server.forms import service as forms
from server.people.protection import IdNumberVault
from server.places.models import Town, Village
from server.sync import queries, records, states
from server.sync.models import Attachment, Conflict, DuplicateCandidate
from sync import cursor as cursors
from sync import merge as merging
from sync.records import DEVICE_WRITABLE, RECORD_TYPES, canonical
from sync.scope_hash import scope_hash

PROTOCOL_VERSION = 1


@dataclass(frozen=True)
class Limits:
    max_batch_submissions: int = 500
    max_request_bytes: int = 16 * 1024 * 1024
    max_page_size: int = 1000
    max_attachment_bytes: int = 10 * 1024 * 1024

    def as_dict(self) -> dict:
        return self.__dict__.copy()


# --- manifest ------------------------------------------------------------------------------------

def manifest(session: Session, device: Device, person: Person, scope: Scope, limits: Limits) -> dict:
    villages = session.execute(
        select(Village.code, Village.name, Village.town_code, Town.name).join(Town)
        .where(scope.villages(Village.code)).order_by(Village.code)
    ).all()
    return {
        "protocol_version": PROTOCOL_VERSION,
        "server_time": session.scalar(select(func.now())),
        "device": {"device_id": str(device.id), "device_name": device.name},
        "surveyor": {"id": person.id, "username": person.username, "full_name": person.full_name,
                     "role": person.role, "line": person.line},
        "villages": [{"code": v[0], "name": v[1], "town_code": v[2], "town_name": v[3]} for v in villages],
        "forms": [{"form_id": f.form_id, "version": f.version, "sha256": f.sha256}
                  for f in forms.forms_in_use(session)],
        "limits": limits.as_dict(),
    }


# --- pull ----------------------------------------------------------------------------------------

def _conflict_dict(c: Conflict) -> dict:
    return {"conflict_id": str(c.id), "field": c.field, "values": c.values}


def _upserts(session: Session, vault: IdNumberVault, keys: list[tuple[str, uuid.UUID]]) -> dict:
    """Current records (envelopes) by key; keys whose record is gone are left out."""
    out = {}
    conflicts = queries.open_conflicts(session, keys)
    for record_type in RECORD_TYPES:
        ids = [k[1] for k in keys if k[0] == record_type]
        if not ids or record_type not in queries.TABLES:
            continue
        for record_id, row in queries.rows_of(session, record_type, ids).items():
            out[(record_type, record_id)] = records.envelope(
                record_type, row, vault, [_conflict_dict(c) for c in conflicts.get((record_type, record_id), [])])
    return out


def changes(session: Session, vault: IdNumberVault, scope_villages: frozenset[str], cursor_text: str | None,
            limit: int) -> dict:
    """One page of changes after the cursor (contract: GET /sync/changes)."""
    try:
        cursor = cursors.Cursor.decode(cursor_text)
    except cursors.InvalidCursor as exc:
        raise DomainError("sync.invalid_cursor") from exc
    plan = cursors.plan(cursor, scope_villages)
    head = queries.head_seq(session)
    items: list[dict] = []
    exit_progress: dict[str, int | None] = {}

    # Villages that left the scope first: every record of theirs leaves the device.
    for village in sorted(plan.exiting):
        room = limit - len(items)
        if room <= 0:
            exit_progress[village] = plan.exiting[village]
            continue
        rows = queries.exit_page(session, village, plan.exiting[village], room + 1)
        page = rows[:room]
        still_here = queries.present_in(session, [(r[0], r[1]) for r in page], sorted(scope_villages))
        items += [{"op": "scope_exit", "type": r[0], "id": str(r[1])} for r in page if (r[0], r[1]) not in still_here]
        exit_progress[village] = page[-1][2] if len(rows) > room else None

    delivered_up_to: int | None = None
    has_more = any(v is not None for v in exit_progress.values())
    room = limit - len(items)
    if room > 0 and not has_more:
        rows = queries.change_page(session, plan.positions, room + 1)
        page = rows[:room]
        has_more = len(rows) > room
        delivered_up_to = page[-1].seq if has_more else head
        upsert_keys = [(r.record_type, r.record_id) for r in page if r.op == "upsert"]
        exit_keys = [(r.record_type, r.record_id) for r in page if r.op == "exit"]
        current = _upserts(session, vault, upsert_keys)
        # A record that moved between two villages the device holds is not exited.
        still_here = queries.present_in(session, exit_keys, sorted(scope_villages))
        for r in page:
            key = (r.record_type, r.record_id)
            if r.op == "upsert" and key in current:
                items.append({"op": "upsert", "record": current[key]})
            elif r.op == "exit" and key not in still_here:
                items.append({"op": "scope_exit", "type": r.record_type, "id": str(r.record_id)})
            elif r.op == "delete":
                items.append({"op": "delete", "type": r.record_type, "id": str(r.record_id),
                              "merged_into": str(r.merged_into) if r.merged_into else None})
    next_cursor = cursors.advance(plan, delivered_up_to, exit_progress)
    return {
        "changes": items,
        "cursor": next_cursor.encode(),
        "has_more": has_more,
        # As of this page's cursor: the pull reads one snapshot (REPEATABLE READ), in which
        # every change up to `head` is committed and nothing after it is visible.
        "scope_hash": None if has_more else scope_hash(
            (t, str(i), v) for t, i, v in queries.scope_versions(session, sorted(scope_villages))),
    }


def repair(session: Session, vault: IdNumberVault, scope_villages: frozenset[str], have: dict[str, int]) -> dict:
    """What makes the device's copy equal to the server's (contract: POST /sync/repair)."""
    server = {(t, i): v for t, i, v in queries.scope_versions(session, sorted(scope_villages))}
    device: dict[tuple[str, uuid.UUID], int] = {}
    for key, version in have.items():
        record_type, _, raw_id = key.partition(":")
        record_id = records.parse_uuid(raw_id)
        if record_type in RECORD_TYPES and record_id is not None:
            device[(record_type, record_id)] = version
    stale = [k for k, v in server.items() if device.get(k) != v]
    gone = [k for k in device if k not in server]
    current = _upserts(session, vault, stale)
    items = [{"op": "upsert", "record": current[k]} for k in stale if k in current]
    tombs = queries.tombstones(session, gone)
    for key in gone:
        tomb = tombs.get(key)
        if tomb is not None:
            items.append({"op": "delete", "type": key[0], "id": str(key[1]),
                          "merged_into": str(tomb.merged_into) if tomb.merged_into else None})
        else:
            items.append({"op": "scope_exit", "type": key[0], "id": str(key[1])})
    head = queries.head_seq(session)
    return {
        "changes": items,
        "scope_hash": scope_hash((t, str(i), v) for (t, i), v in server.items()),
        # Where to pull from next: the repaired copy is the server's as of this snapshot.
        "cursor": cursors.Cursor({v: head for v in scope_villages}).encode(),
    }


# --- push ----------------------------------------------------------------------------------------

class Refusal(Exception):
    def __init__(self, code: str, message: str, field: str | None = None, errors: list[dict] | None = None):
        super().__init__(message)
        self.errors = errors or [{"field": field, "code": code, "message": message}]


@dataclass
class PushContext:
    session: Session
    device: Device
    person: Person
    scope: Scope
    vault: IdNumberVault
    received_at: dt.datetime
    catalog: forms.FormCatalog
    rows: dict[tuple[str, uuid.UUID], dict] = field(default_factory=dict)
    field_states: dict[tuple[str, uuid.UUID], dict] = field(default_factory=dict)


def _content_sha256(submission: dict) -> str:
    return hashlib.sha256(canonical(submission).encode()).hexdigest()


def _rejected(submission: dict, errors: list[dict]) -> dict:
    record = submission.get("record") if isinstance(submission.get("record"), dict) else {}
    return {
        "submission_id": str(submission.get("submission_id")) if submission.get("submission_id") else None,
        "status": "rejected",
        "record": {"type": record.get("type"), "id": record.get("id"), "version": None},
        "conflicts": [], "errors": errors, "missing_attachments": [],
    }


def _timestamp(value, name: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise Refusal("sync.invalid_submission", "not an ISO 8601 time", name) from exc
    if parsed.tzinfo is None:
        raise Refusal("sync.invalid_submission", "a time needs its UTC offset", name)
    return parsed


def _shape(submission: Any) -> tuple[uuid.UUID, dict]:
    """Check the envelope of one submission; the fields are checked against the form later."""
    if not isinstance(submission, dict):
        raise Refusal("sync.invalid_submission", "a submission is a JSON object")
    submission_id = records.parse_uuid(submission.get("submission_id"))
    if submission_id is None:
        raise Refusal("sync.invalid_submission", "submission_id must be a UUID", "submission_id")
    seq = submission.get("device_seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise Refusal("sync.invalid_submission", "device_seq must be a whole number from 1", "device_seq")
    for name in ("form_id", "form_version"):
        if not isinstance(submission.get(name), str) or not submission[name]:
            raise Refusal("sync.invalid_submission", f"{name} is required", name)
    _timestamp(submission.get("captured_at"), "captured_at")
    record = submission.get("record")
    if not isinstance(record, dict):
        raise Refusal("sync.invalid_submission", "record is required", "record")
    if record.get("type") not in RECORD_TYPES:
        raise Refusal("sync.invalid_submission", f"record.type must be one of {', '.join(RECORD_TYPES)}", "record.type")
    if records.parse_uuid(record.get("id")) is None:
        raise Refusal("sync.invalid_submission", "record.id must be a UUID", "record.id")
    base = record.get("base_version")
    if base is not None and (not isinstance(base, int) or isinstance(base, bool) or base < 0):
        raise Refusal("sync.invalid_submission", "base_version is a whole number or null", "record.base_version")
    if not isinstance(record.get("fields"), dict):
        raise Refusal("sync.invalid_submission", "record.fields must be an object", "record.fields")
    attachments = submission.get("attachments", [])
    if not isinstance(attachments, list) or not all(
            isinstance(a, str) and a.startswith("sha256:") and len(a) == 71 for a in attachments):
        raise Refusal("sync.invalid_submission", 'attachments are "sha256:<64 hex>" strings', "attachments")
    location = submission.get("location")
    if location is not None and not (isinstance(location, dict) and all(
            isinstance(location.get(k), int | float) for k in ("lat", "lon"))):
        raise Refusal("sync.invalid_submission", "location is {lat, lon, accuracy_m} or null", "location")
    return submission_id, record


def push(session: Session, device: Device, person: Person, scope: Scope, vault: IdNumberVault,
         submissions: list, limits: Limits) -> list[dict]:
    """Apply a batch of submissions; one receipt each, in order (contract: POST /sync/push)."""
    if len(submissions) > limits.max_batch_submissions:
        raise DomainError("sync.batch_too_large",
                          f"at most {limits.max_batch_submissions} submissions in one push")
    received_at = session.scalar(select(func.now()))
    ctx = PushContext(session, device, person, scope, vault, received_at, forms.FormCatalog(session))

    shaped: list[tuple[dict, uuid.UUID | None, dict | None, list[dict] | None]] = []
    for submission in submissions:
        try:
            submission_id, record = _shape(submission)
            shaped.append((submission, submission_id, record, None))
        except Refusal as refusal:
            shaped.append((submission, None, None, refusal.errors))
    stored = queries.submissions_by_id(session, [s[1] for s in shaped if s[1] is not None])
    _prefetch(ctx, [(r["type"], records.parse_uuid(r["id"])) for _, sid, r, err in shaped
                    if r is not None and sid not in stored])

    receipts: list[dict] = []
    seen_in_batch: dict[uuid.UUID, tuple[str, dict]] = {}
    for submission, submission_id, record, errors in shaped:
        if errors is not None:
            receipts.append(_rejected(submission, errors))
            continue
        content = _content_sha256(submission)
        earlier = stored.get(submission_id)
        if earlier is None and submission_id in seen_in_batch:
            digest, receipt = seen_in_batch[submission_id]
            earlier_content, earlier_receipt = digest, receipt
        elif earlier is not None:
            earlier_content, earlier_receipt = earlier.content_sha256, earlier.receipt
        else:
            earlier_content = None
        if earlier_content is not None:
            # Idempotent: the same submission again gets its original receipt and writes
            # nothing; the same id with other content is refused and the original kept.
            if earlier_content == content:
                receipts.append(earlier_receipt)
            else:
                receipts.append(_rejected(submission, [{
                    "field": "submission_id", "code": "sync.submission_id_reused",
                    "message": "this submission_id was already used for other content"}]))
            continue
        receipt = _apply_one(ctx, submission, submission_id, record, content)
        if receipt["status"] != "rejected":
            seen_in_batch[submission_id] = (content, receipt)
        receipts.append(receipt)
    device.last_seen_at = received_at
    return receipts


def _prefetch(ctx: PushContext, keys: list[tuple[str, uuid.UUID]]) -> None:
    """Lock and load the batch's records, their references and field states in a few queries."""
    ids_by_type: dict[str, set] = {}
    for record_type, record_id in keys:
        if record_type in queries.TABLES:
            ids_by_type.setdefault(record_type, set()).add(record_id)
    for record_type, ids in ids_by_type.items():
        for record_id, row in queries.rows_of(ctx.session, record_type, ids, for_update=True).items():
            ctx.rows[(record_type, record_id)] = row
    ctx.field_states.update(queries.field_states(ctx.session, list(ctx.rows)))


def _row(ctx: PushContext, record_type: str, record_id: uuid.UUID, lock: bool = True) -> dict | None:
    key = (record_type, record_id)
    if key not in ctx.rows:
        row = queries.rows_of(ctx.session, record_type, [record_id], for_update=lock).get(record_id)
        if row is None:
            return None
        ctx.rows[key] = row
        ctx.field_states.update(queries.field_states(ctx.session, [key]))
    return ctx.rows[key]


def _apply_one(ctx: PushContext, submission: dict, submission_id: uuid.UUID, record: dict, content: str) -> dict:
    savepoint = ctx.session.begin_nested()
    try:
        receipt = _merge_submission(ctx, submission, submission_id, record, content)
    except Refusal as refusal:
        savepoint.rollback()
        _forget_batch_cache(ctx, record)
        return _rejected(submission, refusal.errors)
    except DBAPIError as exc:
        # A value the database refuses (a CHECK the form did not express): this submission
        # alone is refused; the rest of the batch goes on (guarantee 10).
        savepoint.rollback()
        _forget_batch_cache(ctx, record)
        return _rejected(submission, [{"field": "record.fields", "code": "sync.invalid_record",
                                       "message": f"the record cannot be stored ({type(exc.orig).__name__})"}])
    savepoint.commit()
    return receipt


def _forget_batch_cache(ctx: PushContext, record: dict) -> None:
    # A rolled-back submission may have written a row we cached: read it again if needed.
    key = (record.get("type"), records.parse_uuid(record.get("id")))
    ctx.rows.pop(key, None)
    ctx.field_states.pop(key, None)


def _resolve_tombstone(ctx: PushContext, record_type: str, record_id: uuid.UUID) -> uuid.UUID:
    tomb = queries.tombstones(ctx.session, [(record_type, record_id)]).get((record_type, record_id))
    if tomb is None:
        return record_id
    if tomb.merged_into is None:
        raise Refusal("sync.record_deleted", "the server deleted this record", "record.id")
    # Merged duplicates: an edit made on the losing copy goes to the surviving record.
    return _resolve_tombstone(ctx, record_type, tomb.merged_into)


def _reference(ctx: PushContext, record_type: str, raw, name: str) -> dict:
    ref_id = records.parse_uuid(raw)
    if ref_id is None:
        raise Refusal("sync.invalid_submission", f"{name} must be a UUID", name)
    ref_id = _resolve_tombstone(ctx, record_type, ref_id)
    row = _row(ctx, record_type, ref_id, lock=False)
    if row is None:
        raise Refusal("sync.unknown_reference",
                      f"no {record_type} {ref_id} on the server yet; send this again after it arrives", name)
    return row


def _merge_submission(ctx: PushContext, submission: dict, submission_id: uuid.UUID, record: dict,
                      content: str) -> dict:
    record_type = record["type"]
    if record_type not in DEVICE_WRITABLE:
        raise Refusal("sync.read_only_record", f"{record_type} records are read-only on tablets", "record.type")
    record_id = _resolve_tombstone(ctx, record_type, records.parse_uuid(record["id"]))
    form_row = ctx.catalog.get(submission["form_id"], submission["form_version"])
    if form_row is None:
        raise Refusal("sync.unknown_form", f"no form {submission['form_id']} version {submission['form_version']}",
                      "form_version")
    if form_row.record_type != record_type:
        raise Refusal("sync.form_record_mismatch",
                      f"form {form_row.form_id} edits {form_row.record_type} records, not {record_type}", "form_id")

    current = _row(ctx, record_type, record_id)
    is_new = current is None

    # Where the record stands, and that the device may write there (guarantee 1).
    household_id = None
    child_id = None
    if record_type == "household":
        village_code = current["village_code"] if current else record.get("village_code")
        target_village = record.get("village_code") or village_code
    elif record_type == "child":
        raw_household = record.get("household_id") or (current or {}).get("household_id")
        household = _reference(ctx, "household", raw_household, "record.household_id")
        household_id = uuid.UUID(household["id"])
        village_code = current["village_code"] if current else household["village_code"]
        target_village = household["village_code"]
    else:  # visit
        if current is not None and current.get("device_id") not in (None, str(ctx.device.id)):
            raise Refusal("sync.visit_append_only", "a visit is changed only by the tablet that recorded it",
                          "record.id")
        child = _reference(ctx, "child", record.get("child_id") or (current or {}).get("child_id"), "record.child_id")
        child_id = uuid.UUID(child["id"])
        household_id = uuid.UUID(child["household_id"])
        village_code = current["village_code"] if current else child["village_code"]
        target_village = child["village_code"]
    for code in {village_code, target_village}:
        if not code or not ctx.scope.covers(code):
            raise Refusal("sync.out_of_scope", "this record is outside the villages assigned to you",
                          "record.village_code")

    # The form version the tablet used decides what is valid; then the answers are mapped
    # forward to the newest version's field names.
    compiled = forms.compiled(form_row)
    errors = survey_forms.validate_submission(compiled, record["fields"], partial=not is_new)
    if errors:
        raise Refusal("form.invalid", "", errors=[e.to_dict() for e in errors])
    chain = ctx.catalog.chain_from(form_row.form_id, form_row.version)
    mapped = survey_forms.map_forward(record["fields"], chain) if len(chain) > 1 else None
    fields = dict(mapped.fields) if mapped else dict(record["fields"])
    newest = chain[-1]
    policies = {f.record_field: merging.Policy(f.merge_policy, tuple(f.choice_values) if f.choices else ())
                for f in newest.fields}

    captured_at = merging.clamp(_timestamp(submission["captured_at"], "captured_at"), ctx.received_at)
    key = (record_type, record_id)
    base_version = record.get("base_version")
    base_fields = None
    if current is not None and base_version:
        base_row = queries.version_rows(ctx.session, [(record_type, record_id, base_version)]).get(
            (record_type, record_id, base_version))
        if base_row is not None:
            base_fields = records.fields_of(record_type, base_row, ctx.vault)
    current_fields = records.fields_of(record_type, current, ctx.vault) if current else {}
    field_states = states.load(ctx.field_states.get(key))
    edit = merging.Edit(str(ctx.device.id), submission["device_seq"], captured_at, base_version, fields, base_fields)
    result = merging.merge(current_fields, field_states, current["version"] if current else 0, edit, policies)

    try:
        columns = records.columns_for(record_type, result.changed_fields, ctx.vault)
    except records.FieldValueError as exc:
        raise Refusal(exc.code, exc.message, exc.field) from exc
    if record_type == "visit" and "answers" in columns and current is not None:
        columns["answers"] = {**(current.get("answers") or {}), **columns["answers"]}

    if is_new:
        columns.update(id=record_id, village_code=target_village)
        if record_type in ("child", "visit"):
            columns["household_id"] = household_id
        if record_type == "visit":
            columns.update(child_id=child_id, device_id=ctx.device.id)
        row = queries.insert_row(ctx.session, record_type, columns)
        if row is None:
            raise Refusal("sync.retry", "another request created this record at the same moment; send again",
                          "record.id")
    else:
        if record_type == "household" and target_village != current["village_code"]:
            columns["village_code"] = target_village
        if record_type == "child" and household_id and str(household_id) != str(current["household_id"]):
            columns.update(household_id=household_id, village_code=target_village)
        if columns or result.conflicts:
            # A new or grown conflict changes what tablets must show on the record (they see
            # open conflicts on it), so it is a new version even when no value changed.
            columns["version"] = result.version if result.changed else current["version"] + 1
            row = queries.update_row(ctx.session, record_type, record_id, columns)
        else:
            row = current
    ctx.rows[key] = row
    new_states = {**field_states, **result.field_states}
    if result.field_states:
        dumped = states.dump(new_states)
        queries.save_field_states(ctx.session, record_type, record_id, dumped)
        ctx.field_states[key] = dumped

    conflicts = [_keep_conflict(ctx, record_type, record_id, row["village_code"], outcome, submission_id)
                 for outcome in result.conflicts]
    if is_new and record_type == "child":
        _flag_possible_duplicates(ctx, row)

    missing = _missing_attachments(ctx, submission.get("attachments") or [])
    receipt = {
        "submission_id": str(submission_id),
        "status": result.status,
        "record": {"type": record_type, "id": str(record_id), "version": row["version"]},
        "conflicts": conflicts,
        "errors": [],
        "missing_attachments": missing,
    }
    if not queries.insert_submission(ctx.session, {
        "submission_id": submission_id, "device_id": ctx.device.id, "person_id": ctx.person.id,
        "device_seq": submission["device_seq"], "received_at": ctx.received_at, "content_sha256": content,
        "record_type": record_type, "record_id": record_id, "payload": submission, "receipt": receipt,
    }):
        # The same submission is being applied by a concurrent request (a retry racing the
        # original): undo ours; the device gets the stored receipt on its next push.
        raise Refusal("sync.retry", "this submission is being applied by another request; send it again",
                      "submission_id")
    return receipt


def _keep_conflict(ctx: PushContext, record_type: str, record_id: uuid.UUID, village_code: str,
                   outcome: merging.FieldOutcome, submission_id: uuid.UUID) -> dict:
    """Open (or join) the field's conflict with every value, who and when (guarantee 6)."""
    values = [{"value": v.value, "device_id": v.device_id, "captured_at": v.captured_at.isoformat()}
              for v in outcome.conflict_values]
    conflict = queries.open_conflict(ctx.session, record_type, record_id, outcome.field)
    if conflict is None:
        conflict = Conflict(id=uuid.uuid4(), record_type=record_type, record_id=record_id,
                            village_code=village_code, field=outcome.field, values=values)
        ctx.session.add(conflict)
    else:
        known = {(canonical(v["value"]), v["device_id"]) for v in conflict.values}
        conflict.values = conflict.values + [v for v in values if (canonical(v["value"]), v["device_id"]) not in known]
    ctx.session.flush()
    return _conflict_dict(conflict)


def _flag_possible_duplicates(ctx: PushContext, row: dict) -> None:
    """A child created on a tablet who may already exist: same ID number, or same name, birth
    date and household. A supervisor decides (merge or keep both)."""
    from server.people.models import Child

    lookup = row.get("id_number_lookup")
    lookup_bytes = bytes.fromhex(lookup[2:]) if lookup else None
    conditions = [(Child.name == row["name"]) & (Child.birth_date == dt.date.fromisoformat(row["birth_date"]))
                  & (Child.household_id == uuid.UUID(row["household_id"]))]
    if lookup_bytes:
        conditions.append(Child.id_number_lookup == lookup_bytes)
    others = ctx.session.execute(select(Child.id, Child.id_number_lookup).where(
        or_(*conditions), Child.id != uuid.UUID(str(row["id"])))).all()
    for other_id, other_lookup in others:
        a, b = sorted([uuid.UUID(str(row["id"])), other_id])
        reason = "same_id_number" if lookup_bytes and other_lookup == lookup_bytes else "same_name_birth_household"
        ctx.session.execute(insert(DuplicateCandidate).values(
            child_a=a, child_b=b, village_code=row["village_code"], reason=reason).on_conflict_do_nothing())


def _missing_attachments(ctx: PushContext, attachments: list[str]) -> list[str]:
    if not attachments:
        return []
    wanted = {a.removeprefix("sha256:") for a in attachments}
    have = set(ctx.session.scalars(select(Attachment.sha256).where(Attachment.sha256.in_(wanted))))
    return [a for a in attachments if a.removeprefix("sha256:") not in have]
