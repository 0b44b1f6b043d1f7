"""POST /sync/push: a batch of offline submissions, merged field by field, one receipt each.

The batch is read in a handful of queries (stored submissions, tombstones, the records under
FOR UPDATE, their references, field states, base versions, open conflicts, attachments),
merged in memory in order, and written back in a few bulk statements. If the bulk write fails
(a value the database refuses, a race with a concurrent request on a new record or the same
submission), the batch is replayed one submission at a time, each in its own savepoint, so a
bad submission is refused alone and never takes the good ones with it (guarantee 10).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Boolean, bindparam, case, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

import survey_forms
from server import caps, db
from server.accounts.models import Person
from server.accounts.scope import Scope
from server.attachments import queries as attachment_queries
from server.devices.models import Device
from server.errors import DomainError
from server.forms import service as forms
from server.people.protection import IdNumberVault
from server.sync import queries, records, states
from server.sync.models import (
    Conflict,
    DuplicateCandidate,
    FieldStates,
    Submission,
    Tombstone,
)
from sync import merge as merging
from sync.records import DEVICE_WRITABLE, RECORD_TYPES, canonical

Key = tuple[str, uuid.UUID]
log = logging.getLogger(__name__)


class Refusal(Exception):
    def __init__(self, code: str, message: str, field: str | None = None, errors: list[dict] | None = None):
        super().__init__(message)
        self.errors = errors or [{"field": field, "code": code, "message": message}]


class Replay(Exception):
    """The bulk write could not go through: replay the batch one submission at a time."""


@dataclass
class Writes:
    inserts: list[tuple[str, dict]] = field(default_factory=list)
    updates: dict[Key, list[dict]] = field(default_factory=dict)
    states: dict[Key, dict] = field(default_factory=dict)
    new_conflicts: list[dict] = field(default_factory=list)
    grown_conflicts: dict[uuid.UUID, list] = field(default_factory=dict)
    submissions: list[dict] = field(default_factory=list)
    new_children: list[dict] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.inserts or self.updates or self.states or self.new_conflicts or self.grown_conflicts
                    or self.submissions)


@dataclass
class Batch:
    session: Session
    device: Device
    person: Person
    scope: Scope
    vault: IdNumberVault
    received_at: dt.datetime
    catalog: forms.FormCatalog
    rows: dict[Key, dict] = field(default_factory=dict)
    field_states: dict[Key, dict] = field(default_factory=dict)
    tombstones: dict[Key, uuid.UUID | None] = field(default_factory=dict)
    base_rows: dict[tuple[str, uuid.UUID, int], dict] = field(default_factory=dict)
    conflicts: dict[tuple[str, uuid.UUID, str], dict] = field(default_factory=dict)
    attachments: set[tuple[str, str]] = field(default_factory=set)  # (sha256, village) a village's tablet sent
    writes: Writes = field(default_factory=Writes)


# --- the envelope ----------------------------------------------------------------------------------

def content_sha256(submission: dict) -> str:
    return hashlib.sha256(canonical(submission).encode()).hexdigest()


def rejected(submission: Any, errors: list[dict]) -> dict:
    submission = submission if isinstance(submission, dict) else {}
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


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def shape(submission: Any) -> tuple[uuid.UUID, dict]:
    """Check the envelope of one submission; its fields are checked against the form later."""
    if not isinstance(submission, dict):
        raise Refusal("sync.invalid_submission", "a submission is a JSON object")
    submission_id = records.parse_uuid(submission.get("submission_id"))
    if submission_id is None:
        raise Refusal("sync.invalid_submission", "submission_id must be a UUID", "submission_id")
    if not _whole(submission.get("device_seq")) or submission["device_seq"] < 1:
        raise Refusal("sync.invalid_submission", "device_seq must be a whole number from 1", "device_seq")
    for name in ("form_id", "form_version"):
        if not isinstance(submission.get(name), str) or not submission[name]:
            raise Refusal("sync.invalid_submission", f"{name} is required", name)
    _timestamp(submission.get("captured_at"), "captured_at")
    record = submission.get("record")
    if not isinstance(record, dict):
        raise Refusal("sync.invalid_submission", "record is required", "record")
    if record.get("type") not in RECORD_TYPES:
        raise Refusal("sync.invalid_submission", f"record.type must be one of {', '.join(RECORD_TYPES)}",
                      "record.type")
    if records.parse_uuid(record.get("id")) is None:
        raise Refusal("sync.invalid_submission", "record.id must be a UUID", "record.id")
    base = record.get("base_version")
    if base is not None and (not _whole(base) or base < 0):
        raise Refusal("sync.invalid_submission", "base_version is a whole number or null", "record.base_version")
    if not isinstance(record.get("fields"), dict):
        raise Refusal("sync.invalid_submission", "record.fields must be an object", "record.fields")
    attachments = submission.get("attachments", [])
    if not isinstance(attachments, list) or not all(
            isinstance(a, str) and a.startswith("sha256:") and len(a) == 71 for a in attachments):
        raise Refusal("sync.invalid_submission", 'attachments are "sha256:<64 hex>" strings', "attachments")
    if len(attachments) > caps.MAX_SUBMISSION_ATTACHMENTS:
        raise Refusal("sync.invalid_submission", f"at most {caps.MAX_SUBMISSION_ATTACHMENTS} attachments",
                      "attachments")
    location = submission.get("location")
    if location is not None and not (isinstance(location, dict) and all(
            isinstance(location.get(k), int | float) and not isinstance(location.get(k), bool)
            for k in ("lat", "lon"))):
        raise Refusal("sync.invalid_submission", "location is {lat, lon, accuracy_m} or null", "location")
    return submission_id, record


# --- the batch -------------------------------------------------------------------------------------

def push(session: Session, device: Device, person: Person, scope: Scope, vault: IdNumberVault,
         submissions: list, max_batch: int) -> list[dict]:
    """Apply a batch of submissions; one receipt each, in order."""
    if len(submissions) > max_batch:
        raise DomainError("sync.batch_too_large", f"at most {max_batch} submissions in one push")
    received_at = session.scalar(select(func.now()))
    batch = Batch(session, device, person, scope, vault, received_at, forms.FormCatalog(session))

    shaped: list[tuple[Any, uuid.UUID | None, dict | None, list | None]] = []
    for submission in submissions:
        try:
            submission_id, record = shape(submission)
            shaped.append((submission, submission_id, record, None))
        except Refusal as refusal:
            shaped.append((submission, None, None, refusal.errors))
    stored = queries.submissions_by_id(session, [s[1] for s in shaped if s[1] is not None])
    _prefetch(batch, [(s, r) for s, sid, r, err in shaped if r is not None and sid not in stored])

    savepoint = session.begin_nested()
    try:
        receipts = _run(batch, shaped, stored, one_by_one=False)
        _flush(batch)
        savepoint.commit()
    except (Replay, DBAPIError) as exc:
        if db.connection_lost(exc):
            raise  # the database went away: 503 for the whole request, nothing was kept
        savepoint.rollback()
        batch.writes = Writes()
        batch.rows, batch.field_states, batch.conflicts = {}, {}, {}
        _prefetch(batch, [(s, r) for s, sid, r, err in shaped if r is not None and sid not in stored])
        receipts = _run(batch, shaped, stored, one_by_one=True)
    device.last_seen_at = received_at
    return receipts


def _run(batch: Batch, shaped, stored, one_by_one: bool) -> list[dict]:
    receipts: list[dict] = []
    seen: dict[uuid.UUID, tuple[str, dict]] = {}
    for submission, submission_id, record, errors in shaped:
        if errors is not None:
            receipts.append(rejected(submission, errors))
            continue
        content = content_sha256(submission)
        earlier = seen.get(submission_id)
        if earlier is None and submission_id in stored:
            earlier = (stored[submission_id].content_sha256, stored[submission_id].receipt)
        if earlier is not None:
            # Idempotent: the same submission again gets its original receipt and writes
            # nothing; the same id with other content is refused and the original kept.
            if earlier[0] == content:
                receipts.append(earlier[1])
            else:
                receipts.append(rejected(submission, [{
                    "field": "submission_id", "code": "sync.submission_id_reused",
                    "message": "this submission_id was already used for other content"}]))
            continue
        if one_by_one:
            receipt = _one_in_savepoint(batch, submission, submission_id, record, content)
        else:
            try:
                receipt = _merge(batch, submission, submission_id, record, content)
            except Refusal as refusal:
                receipt = rejected(submission, refusal.errors)
            except Exception as exc:
                # Unforeseen: the batch goes one submission at a time, where this one is
                # refused alone (and logged) instead of failing the whole request.
                raise Replay(str(exc)) from exc
        if receipt["status"] != "rejected":
            seen[submission_id] = (content, receipt)
        receipts.append(receipt)
    return receipts


def _one_in_savepoint(batch: Batch, submission, submission_id, record, content) -> dict:
    savepoint = batch.session.begin_nested()
    snapshot = (dict(batch.rows), dict(batch.field_states), {k: dict(v) for k, v in batch.conflicts.items()})
    try:
        receipt = _merge(batch, submission, submission_id, record, content)
        _flush(batch)
    except (Refusal, Replay, DBAPIError) as exc:
        if db.connection_lost(exc):
            # Not this submission's fault: refusing it would move it to the tablet's rejected
            # list for good. The request fails (503) and the tablet sends it again.
            raise
        savepoint.rollback()
        batch.writes = Writes()
        batch.rows, batch.field_states, batch.conflicts = snapshot
        if isinstance(exc, Refusal):
            return rejected(submission, exc.errors)
        if isinstance(exc, Replay):
            return rejected(submission, [{"field": "submission_id", "code": "sync.retry",
                                          "message": "a concurrent request touched this record or submission;"
                                                     " send it again"}])
        return rejected(submission, [{"field": "record.fields", "code": "sync.invalid_record",
                                      "message": f"the record cannot be stored ({type(exc.orig).__name__})"}])
    except Exception as exc:
        if db.connection_lost(exc):
            raise
        savepoint.rollback()
        batch.writes = Writes()
        batch.rows, batch.field_states, batch.conflicts = snapshot
        log.exception("submission %s could not be applied", submission_id)
        return rejected(submission, [{"field": None, "code": "sync.internal_error",
                                      "message": "the server could not apply this submission; it has been logged"}])
    savepoint.commit()
    return receipt


def _prefetch(batch: Batch, items: list[tuple[dict, dict]]) -> None:
    """Read what the batch needs in a few queries; lock its records (in id order)."""
    session = batch.session
    wanted: dict[str, set] = {}
    refs: dict[str, set] = {}
    for _, record in items:
        record_type = record["type"]
        if record_type not in queries.TABLES:
            continue
        wanted.setdefault(record_type, set()).add(records.parse_uuid(record["id"]))
        if record_type == "child" and records.parse_uuid(record.get("household_id")):
            refs.setdefault("household", set()).add(records.parse_uuid(record["household_id"]))
        if record_type == "visit" and records.parse_uuid(record.get("child_id")):
            refs.setdefault("child", set()).add(records.parse_uuid(record["child_id"]))
    all_keys = [(t, i) for t, ids in (*wanted.items(), *refs.items()) for i in ids]
    batch.tombstones.update({k: t.merged_into for k, t in queries.tombstones(session, all_keys).items()})
    # Merged records' survivors are what will be written and referenced.
    for (record_type, _), survivor in list(batch.tombstones.items()):
        if survivor is not None:
            (wanted if record_type in wanted else refs).setdefault(record_type, set()).add(survivor)
    for record_type, ids in wanted.items():
        for record_id, row in queries.rows_of(session, record_type, ids, for_update=True).items():
            batch.rows[(record_type, record_id)] = row
    for record_type, ids in refs.items():
        missing = [i for i in ids if (record_type, i) not in batch.rows]
        for record_id, row in queries.rows_of(session, record_type, missing).items():
            batch.rows[(record_type, record_id)] = row
    keys = list(batch.rows)
    batch.field_states.update(queries.field_states(session, keys))
    bases = []
    for _, record in items:
        record_id = records.parse_uuid(record["id"])
        if record.get("base_version") and (record["type"], record_id) in batch.rows:
            bases.append((record["type"], record_id, record["base_version"]))
    batch.base_rows.update(queries.version_rows(session, bases))
    for conflicts in queries.open_conflicts(session, keys).values():
        for c in conflicts:
            batch.conflicts[(c.record_type, c.record_id, c.field)] = {
                "id": c.id, "values": list(c.values), "village_code": c.village_code, "new": False}
    hashes = {a.removeprefix("sha256:") for s, _ in items for a in (s.get("attachments") or [])}
    if hashes:
        # (sha256, village): a file counts for a record only when a tablet of its village sent it.
        batch.attachments = attachment_queries.uploaded_by_village_tablets(
            session, hashes, {row["village_code"] for row in batch.rows.values()}
            | {r.get("village_code") for _, r in items if isinstance(r.get("village_code"), str)})


def _survivor(batch: Batch, record_type: str, record_id: uuid.UUID) -> uuid.UUID:
    seen = set()
    while (record_type, record_id) in batch.tombstones:
        if record_id in seen:
            break
        seen.add(record_id)
        merged_into = batch.tombstones[(record_type, record_id)]
        if merged_into is None:
            raise Refusal("sync.record_deleted", "the server deleted this record", "record.id")
        # Merged duplicates: an edit made on the losing copy goes to the surviving record.
        record_id = merged_into
    return record_id


def _reference(batch: Batch, record_type: str, raw, name: str) -> dict:
    ref_id = records.parse_uuid(raw)
    if ref_id is None:
        raise Refusal("sync.invalid_submission", f"{name} must be a UUID", name)
    ref_id = _survivor(batch, record_type, ref_id)
    row = batch.rows.get((record_type, ref_id))
    if row is None:
        row = queries.rows_of(batch.session, record_type, [ref_id]).get(ref_id)
        if row is None:
            raise Refusal("sync.unknown_reference",
                          f"no {record_type} {ref_id} on the server yet; send this again after it arrives", name)
        batch.rows[(record_type, ref_id)] = row
    return row


# --- one submission --------------------------------------------------------------------------------

def _merge(batch: Batch, submission: dict, submission_id: uuid.UUID, record: dict, content: str) -> dict:
    record_type = record["type"]
    if record_type not in DEVICE_WRITABLE:
        raise Refusal("sync.read_only_record", f"{record_type} records are read-only on tablets", "record.type")
    record_id = _survivor(batch, record_type, records.parse_uuid(record["id"]))
    form_row = batch.catalog.get(submission["form_id"], submission["form_version"])
    if form_row is None:
        raise Refusal("sync.unknown_form", f"no form {submission['form_id']} version {submission['form_version']}",
                      "form_version")
    if form_row.record_type != record_type:
        raise Refusal("sync.form_record_mismatch",
                      f"form {form_row.form_id} edits {form_row.record_type} records, not {record_type}", "form_id")
    key = (record_type, record_id)
    current = batch.rows.get(key)
    if current is None and key not in batch.rows:
        current = queries.rows_of(batch.session, record_type, [record_id], for_update=True).get(record_id)
        if current is not None:
            batch.rows[key] = current
            batch.field_states.update(queries.field_states(batch.session, [key]))
    is_new = current is None

    # Where the record stands, and that the device may write there (guarantee 1).
    household_id = child_id = None
    if record_type == "household":
        village_code = current["village_code"] if current else record.get("village_code")
        target_village = record.get("village_code") or village_code
    elif record_type == "child":
        household = _reference(batch, "household", record.get("household_id") or (current or {}).get("household_id"),
                               "record.household_id")
        household_id = uuid.UUID(str(household["id"]))
        village_code = current["village_code"] if current else household["village_code"]
        target_village = household["village_code"]
    else:  # visit: append-only, changed only by the tablet that recorded it
        if current is not None and current.get("device_id") not in (None, str(batch.device.id)):
            raise Refusal("sync.visit_append_only", "a visit is changed only by the tablet that recorded it",
                          "record.id")
        child = _reference(batch, "child", record.get("child_id") or (current or {}).get("child_id"), "record.child_id")
        child_id = uuid.UUID(str(child["id"]))
        household_id = uuid.UUID(str(child["household_id"]))
        village_code = current["village_code"] if current else child["village_code"]
        target_village = child["village_code"]
    for code in {village_code, target_village}:
        if not code or not batch.scope.covers(code):
            raise Refusal("sync.out_of_scope", "this record is outside the villages assigned to you",
                          "record.village_code")

    # The form version the tablet used decides what is valid; the answers are then mapped
    # forward to the newest version's field names (a removed field stays in the raw submission).
    compiled = forms.compiled(form_row)
    # Values are checked, but not completeness: a new record's first edit may arrive after its
    # second (guarantee 7), so a submission that creates a record may carry only some fields;
    # the tablet's form enforced `required` where the answers were given.
    errors = survey_forms.validate_submission(compiled, record["fields"], partial=True)
    if errors:
        raise Refusal("form.invalid", "", errors=[e.to_dict() for e in errors])
    chain = batch.catalog.chain_from(form_row.form_id, form_row.version)
    fields = dict(survey_forms.map_forward(record["fields"], chain).fields) if len(chain) > 1 else dict(record["fields"])
    policies = _policies(chain[-1])

    captured_at = merging.clamp(_timestamp(submission["captured_at"], "captured_at"), batch.received_at)
    base_version = record.get("base_version")
    base_row = batch.base_rows.get((record_type, record_id, base_version)) if base_version else None
    base_fields = records.fields_of(record_type, base_row, batch.vault) if base_row is not None else None
    current_fields = records.fields_of(record_type, current, batch.vault) if current else {}
    field_states = states.load(batch.field_states.get(key))
    edit = merging.Edit(str(batch.device.id), submission["device_seq"], captured_at, base_version, fields, base_fields)
    result = merging.merge(current_fields, field_states, current["version"] if current else 0, edit, policies)
    try:
        columns = records.columns_for(record_type, result.changed_fields, batch.vault)
    except records.FieldValueError as exc:
        raise Refusal(exc.code, exc.message, exc.field) from exc
    if record_type == "visit" and "answers" in columns and current is not None:
        columns["answers"] = {**(current.get("answers") or {}), **columns["answers"]}

    writes = batch.writes
    if is_new:
        columns.update(id=record_id, village_code=target_village)
        if record_type in ("child", "visit"):
            columns["household_id"] = household_id
        if record_type == "visit":
            columns.update(child_id=child_id, device_id=batch.device.id)
        writes.inserts.append((record_type, columns))
        row = records.row_after({"version": 1, "village_code": target_village}, columns)
        if record_type == "child":
            writes.new_children.append(row)
    else:
        if record_type == "household" and target_village != current["village_code"]:
            columns["village_code"] = target_village
        if record_type == "child" and household_id and str(household_id) != str(current["household_id"]):
            columns.update(household_id=household_id, village_code=target_village)
        if columns or result.conflicts:
            # A new or grown conflict changes what tablets must show on the record (they see
            # open conflicts on it), so it is a new version even when no value changed.
            columns["version"] = result.version if result.changed else current["version"] + 1
            writes.updates.setdefault(key, []).append(columns)
            row = records.row_after(current, columns)
        else:
            row = current
    batch.rows[key] = row
    if result.field_states:
        dumped = states.dump({**field_states, **result.field_states})
        batch.field_states[key] = dumped
        writes.states[key] = dumped

    conflicts = [_keep_conflict(batch, key, row["village_code"], outcome) for outcome in result.conflicts]
    # A field in an open conflict that this device now changes again (its own value, applied
    # without a new conflict): the new value joins the conflict, so the supervisor sees the
    # value the record shows and not only the one it replaced.
    for outcome in result.outcomes:
        if outcome.kind == "applied" and (record_type, record_id, outcome.field) in batch.conflicts:
            mine = merging.ConflictValue(outcome.value, edit.device_id, edit.captured_at, edit.device_seq)
            conflicts.append(_keep_conflict(batch, key, row["village_code"],
                                            merging.FieldOutcome(outcome.field, "conflict", outcome.value, (mine,))))
    missing = [a for a in submission.get("attachments") or []
               if (a.removeprefix("sha256:"), row["village_code"]) not in batch.attachments]
    receipt = {
        "submission_id": str(submission_id),
        "status": "conflict" if conflicts else result.status,
        "record": {"type": record_type, "id": str(record_id), "version": row["version"]},
        "conflicts": conflicts,
        "errors": [],
        "missing_attachments": missing,
    }
    writes.submissions.append({
        "submission_id": submission_id, "device_id": batch.device.id, "person_id": batch.person.id,
        "device_seq": submission["device_seq"], "received_at": batch.received_at, "content_sha256": content,
        "record_type": record_type, "record_id": record_id, "payload": submission, "receipt": receipt,
    })
    return receipt


_POLICIES: dict[tuple[str, str, str], dict[str, merging.Policy]] = {}


def _policies(form: survey_forms.CompiledForm) -> dict[str, merging.Policy]:
    key = (form.form_id, form.version, form.sha256)
    if key not in _POLICIES:
        _POLICIES[key] = {f.record_field: merging.Policy(f.merge_policy, tuple(f.choice_values) if f.choices else ())
                          for f in form.fields}
    return _POLICIES[key]


def _keep_conflict(batch: Batch, key: Key, village_code: str, outcome: merging.FieldOutcome) -> dict:
    """Open (or join) the field's conflict, keeping every value with who and when (guarantee 6)."""
    values = [{"value": v.value, "device_id": v.device_id, "captured_at": v.captured_at.isoformat()}
              for v in outcome.conflict_values]
    ckey = (key[0], key[1], outcome.field)
    conflict = batch.conflicts.get(ckey)
    if conflict is None:
        conflict = {"id": uuid.uuid4(), "values": values, "village_code": village_code, "new": True}
        batch.conflicts[ckey] = conflict
        batch.writes.new_conflicts.append({"id": conflict["id"], "record_type": key[0], "record_id": key[1],
                                           "village_code": village_code, "field": outcome.field, "values": values})
    else:
        known = {(canonical(v["value"]), v["device_id"]) for v in conflict["values"]}
        added = [v for v in values if (canonical(v["value"]), v["device_id"]) not in known]
        if added:
            conflict["values"] = conflict["values"] + added
            if conflict["new"]:
                next(c for c in batch.writes.new_conflicts if c["id"] == conflict["id"])["values"] = conflict["values"]
            else:
                batch.writes.grown_conflicts[conflict["id"]] = conflict["values"]
    return {"conflict_id": str(conflict["id"]), "field": outcome.field, "values": conflict["values"]}


# --- writing ---------------------------------------------------------------------------------------

def _flush(batch: Batch) -> None:
    """Send the pending writes in bulk statements (triggers keep history and the change log)."""
    writes, session = batch.writes, batch.session
    if not writes:
        return
    for record_type, group in _grouped(writes.inserts):
        model = queries.model(record_type)
        returned = session.connection().execute(
            insert(model.__table__).on_conflict_do_nothing(index_elements=["id"]).returning(model.__table__.c.id),
            group).scalars().all()
        if len(returned) != len(group):
            raise Replay("a concurrent request created one of these records")
    depth = max((len(u) for u in writes.updates.values()), default=0)
    for wave in range(depth):  # the k-th update of each record, so each record's order holds
        by_type: dict[str, list[tuple[uuid.UUID, dict]]] = {}
        for (record_type, record_id), cols in writes.updates.items():
            if len(cols) > wave:
                by_type.setdefault(record_type, []).append((record_id, cols[wave]))
        for record_type, pending in by_type.items():
            statement, names = _update_statement(record_type)
            params = []
            for record_id, columns in pending:
                unknown = set(columns) - set(names)
                if unknown:
                    raise ValueError(f"sync cannot write {sorted(unknown)} of a {record_type}")
                param = {"_id": record_id}
                for name in names:
                    param[f"s_{name}"] = name in columns
                    param[f"v_{name}"] = columns.get(name)
                params.append(param)
            session.connection().execute(statement, params)
    if writes.states:
        statement = insert(FieldStates)
        session.execute(statement.on_conflict_do_update(
            index_elements=[FieldStates.record_type, FieldStates.record_id], set_={"states": statement.excluded.states}),
            [{"record_type": k[0], "record_id": k[1], "states": s} for k, s in writes.states.items()])
    if writes.new_conflicts:
        session.execute(insert(Conflict), writes.new_conflicts)
    for conflict_id, values in writes.grown_conflicts.items():
        session.execute(update(Conflict).where(Conflict.id == conflict_id).values(values=values))
    if writes.submissions:
        returned = session.execute(insert(Submission).on_conflict_do_nothing(index_elements=["submission_id"])
                                   .returning(Submission.submission_id), writes.submissions).scalars().all()
        if len(returned) != len(writes.submissions):
            # The same submission is being applied by a concurrent request (a retry racing
            # the original): replay; the racer's stored receipt wins.
            raise Replay("a concurrent request stored one of these submissions")
    if writes.new_children:
        _flag_possible_duplicates(session, writes.new_children)
    batch.writes = Writes()


def _grouped(inserts: list[tuple[str, dict]]):
    groups: dict[tuple[str, frozenset], list[dict]] = {}
    for record_type, columns in inserts:
        groups.setdefault((record_type, frozenset(columns)), []).append(columns)
    for (record_type, _), group in groups.items():
        yield record_type, group


_UPDATES: dict[str, tuple] = {}
# Every column a tablet's edit can change, by type: one UPDATE shape per type, whatever fields
# an edit touched, so a batch is one executemany per type instead of one per combination.
_WRITABLE_COLUMNS = {
    "household": ("head_name", "phone", "address", "group_name", "household_number", "location",
                  "location_accuracy_m", "location_approximate", "survey_status", "vulnerable_family_types", "notes",
                  "village_code"),
    "child": ("name", "gender", "birth_date", "id_number_cipher", "id_number_lookup", "enrollment_status",
              "school_name", "grade", "dropout_reason", "dropout_reason_note", "certificate_photo", "disability",
              "disability_type", "disability_level", "left_behind", "migrant", "guardian_name", "guardian_phone",
              "vulnerable_family_types", "ethnicity", "relation_to_head", "class_name", "household_id",
              "village_code"),
    "visit": ("visitors", "visit_date", "outcome", "next_step", "deadline", "note", "answers"),
}


def _update_statement(record_type: str):
    """UPDATE t SET c = CASE WHEN :s_c THEN :v_c ELSE c END ..., version = :v_version."""
    if record_type not in _UPDATES:
        table = queries.model(record_type).__table__
        names = _WRITABLE_COLUMNS[record_type]
        values = {name: case((bindparam(f"s_{name}", type_=Boolean), bindparam(f"v_{name}", type_=table.c[name].type)),
                             else_=table.c[name]) for name in names}
        values["version"] = bindparam("v_version", type_=table.c.version.type)
        statement = update(table).where(table.c.id == bindparam("_id")).values(values)
        _UPDATES[record_type] = (statement, names + ("version",))
    return _UPDATES[record_type]


def _flag_possible_duplicates(session: Session, children: list[dict]) -> None:
    """Children created on tablets who may already exist: the same ID number, or the same name,
    birth date and household. A supervisor decides (merge or keep both)."""
    rows = session.execute(text("""
        SELECT n.id, c.id, c.id_number_lookup IS NOT NULL AND c.id_number_lookup = n.id_number_lookup, n.village_code
          FROM children n JOIN children c
            ON c.id <> n.id
           AND ((c.id_number_lookup = n.id_number_lookup)
                OR (c.household_id = n.household_id AND c.name = n.name AND c.birth_date = n.birth_date))
         WHERE n.id = ANY(:ids)
    """), {"ids": [uuid.UUID(str(c["id"])) for c in children]}).all()
    if not rows:
        return
    candidates = []
    for new_id, other_id, same_number, village_code in rows:
        a, b = sorted([new_id, other_id])
        candidates.append({"child_a": a, "child_b": b, "village_code": village_code,
                           "reason": "same_id_number" if same_number else "same_name_birth_household"})
    session.execute(insert(DuplicateCandidate).on_conflict_do_nothing(), candidates)


__all__ = ["push", "Refusal", "Tombstone"]
