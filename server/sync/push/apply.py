"""One submission merged into its record: where it stands and whether the device may write
there, the form that decides what is valid, the field-level merge (sync/merge.py), the
columns it changes, its conflicts and its receipt."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

import survey_forms
from server.accounts.models import Person
from server.accounts.scope import Scope
from server.devices.models import Device
from server.forms import service as forms
from server.people import id_number
from server.people.protection import IdNumberVault, child_subject, marker
from server.records import writer
from server.sync import records, states
from server.sync.push import conflicts, envelope, prefetch
from server.sync.push import receipt as receipts
from server.sync.push.envelope import Refusal
from server.sync.push.prefetch import Known
from server.sync.push.writes import Writes
from sync import merge as merging
from sync.records import DEVICE_WRITABLE


@dataclass(frozen=True)
class Context:
    """Who pushes, from where, when: the same for every submission of a batch."""

    session: Session
    device: Device
    person: Person
    scope: Scope
    vault: IdNumberVault
    received_at: dt.datetime
    catalog: forms.FormCatalog


def merge_one(ctx: Context, known: Known, writes: Writes, submission: dict, submission_id: uuid.UUID, record: dict,
              content: str) -> dict:
    """Merge one submission into its record, field by field; queue its writes; return its receipt."""
    record_type = record["type"]
    if record_type not in DEVICE_WRITABLE:
        raise Refusal("sync.read_only_record", f"{record_type} records are read-only on tablets", "record.type")
    record_id = prefetch.survivor(known, record_type, records.parse_uuid(record["id"]))
    form_row = ctx.catalog.get(submission["form_id"], submission["form_version"])
    if form_row is None:
        raise Refusal("sync.unknown_form", f"no form {submission['form_id']} version {submission['form_version']}",
                      "form_version")
    if form_row.record_type != record_type:
        raise Refusal("sync.form_record_mismatch",
                      f"form {form_row.form_id} edits {form_row.record_type} records, not {record_type}", "form_id")
    key = (record_type, record_id)
    current = prefetch.current(ctx.session, known, key)
    is_new = current is None

    # Where the record stands, and that the device may write there (guarantee 1).
    household_id = child_id = None
    if record_type == "household":
        village_code = current["village_code"] if current else record.get("village_code")
        target_village = record.get("village_code") or village_code
    elif record_type == "child":
        household = prefetch.reference(ctx.session, known, "household", record.get("household_id") or (current or {}).get("household_id"),
                               "record.household_id")
        household_id = uuid.UUID(str(household["id"]))
        village_code = current["village_code"] if current else household["village_code"]
        target_village = household["village_code"]
    else:  # visit: append-only, changed only by the tablet that recorded it
        if current is not None and current.get("device_id") not in (None, str(ctx.device.id)):
            raise Refusal("sync.visit_append_only", "a visit is changed only by the tablet that recorded it",
                          "record.id")
        child = prefetch.reference(ctx.session, known, "child", record.get("child_id") or (current or {}).get("child_id"), "record.child_id")
        child_id = uuid.UUID(str(child["id"]))
        household_id = uuid.UUID(str(child["household_id"]))
        village_code = current["village_code"] if current else child["village_code"]
        target_village = child["village_code"]
    for code in {village_code, target_village}:
        if not code or not ctx.scope.covers(code):
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
    chain = ctx.catalog.chain_from(form_row.form_id, form_row.version)
    fields = dict(survey_forms.map_forward(record["fields"], chain).fields) if len(chain) > 1 else dict(record["fields"])
    policies = _policies(chain[-1])
    typed = lookup = None
    protected = records.PROTECTED.get(record_type, ())
    if "id_number" in protected and "id_number" in fields:
        # The merge sees the number as its marker only; the digits go straight to the cipher.
        raw = fields.pop("id_number")
        if raw not in (None, ""):
            check = id_number.check(str(raw))
            if not check.ok:
                raise Refusal(check.errors[0], "not a valid ID number (GB 11643)", "id_number")
            typed, lookup = check.value, ctx.vault.lookup(check.value)
            fields["id_number"] = marker(lookup)
    if protected:
        policies = {**policies, **{name: _ON_FILE for name in protected}}

    captured_at = merging.clamp(envelope.timestamp(submission["captured_at"], "captured_at"), ctx.received_at)
    base_version = record.get("base_version")
    base_row = known.base_rows.get((record_type, record_id, base_version)) if base_version else None
    base_fields = records.fields_of(record_type, base_row) if base_row is not None else None
    for name in protected:  # the device was never sent it: it has no base value
        (base_fields or {}).pop(name, None)
    current_fields = records.fields_of(record_type, current) if current else {}
    field_states = states.load(known.field_states.get(key))
    edit = merging.Edit(str(ctx.device.id), submission["device_seq"], captured_at, base_version, fields, base_fields)
    result = merging.merge(current_fields, field_states, current["version"] if current else 0, edit, policies)
    changed = dict(result.changed_fields)
    if "id_number" in changed:
        changed["id_number"] = typed  # a device changes the number only to the one it typed
    try:
        columns = writer.columns(record_type, record_id, changed, ctx.vault)
    except records.FieldValueError as exc:
        raise Refusal(exc.code, exc.message, exc.field) from exc
    ciphers: dict[str, str] = {}
    if typed is not None:
        typed_outcome = next(o for o in result.outcomes if o.field == "id_number")
        confirmed = "\\x" + lookup.hex()
        if typed_outcome.kind in ("applied", "unchanged") and (current or {}).get("id_number_confirmed_lookup") != confirmed:
            columns["id_number_confirmed_lookup"] = lookup  # the tablet now shows `matched`
        if typed_outcome.kind == "conflict":
            # The supervisor will see both numbers (masked): each value keeps its ciphertext.
            ciphers[lookup.hex()] = base64.b64encode(ctx.vault.encrypt(typed, child_subject(record_id))).decode()
            on_file = current.get("id_number_cipher")
            if on_file:
                ciphers[current["id_number_lookup"][2:]] = base64.b64encode(bytes.fromhex(on_file[2:])).decode()
    if record_type == "visit" and "answers" in columns and current is not None:
        columns["answers"] = {**(current.get("answers") or {}), **columns["answers"]}

    if is_new:
        columns.update(id=record_id, village_code=target_village)
        if record_type in ("child", "visit"):
            columns["household_id"] = household_id
        if record_type == "visit":
            columns.update(child_id=child_id, device_id=ctx.device.id)
        writes.inserts.append((record_type, columns))
        row = records.row_after({"version": 1, "village_code": target_village}, columns)
        if record_type == "child":
            writes.new_children.append(record_id)
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
    known.rows[key] = row
    if result.field_states:
        dumped = states.dump({**field_states, **result.field_states})
        known.field_states[key] = dumped
        writes.states[key] = dumped

    kept = [conflicts.keep(known, writes, key, row["village_code"], outcome, ciphers) for outcome in result.conflicts]
    # A field in an open conflict that this device now changes again (its own value, applied
    # without a new conflict): the new value joins the conflict, so the supervisor sees the
    # value the record shows and not only the one it replaced.
    for outcome in result.outcomes:
        if outcome.kind == "applied" and (record_type, record_id, outcome.field) in known.conflicts:
            mine = merging.ConflictValue(outcome.value, edit.device_id, edit.captured_at, edit.device_seq)
            if typed is not None and outcome.field == "id_number":
                ciphers[lookup.hex()] = base64.b64encode(
                    ctx.vault.encrypt(typed, child_subject(record_id))).decode()
            kept.append(conflicts.keep(known, writes, key, row["village_code"],
                                            merging.FieldOutcome(outcome.field, "conflict", outcome.value, (mine,)),
                                            ciphers))
    receipt = receipts.accepted(submission_id, record_type, record_id, row["version"], result.status, kept,
                                receipts.missing_attachments(submission, known.attachments, row["village_code"]))
    writes.submissions.append({
        "submission_id": submission_id, "device_id": ctx.device.id, "person_id": ctx.person.id,
        "device_seq": submission["device_seq"], "received_at": ctx.received_at, "content_sha256": content,
        "record_type": record_type, "record_id": record_id,
        "payload": envelope.stored_payload(submission, ctx.vault, records.parse_uuid(record["id"])), "receipt": receipt,
    })
    return receipt


_POLICIES: dict[tuple[str, str, str], dict[str, merging.Policy]] = {}
_ON_FILE = merging.Policy("on_file")


def _policies(form: survey_forms.CompiledForm) -> dict[str, merging.Policy]:
    key = (form.form_id, form.version, form.sha256)
    if key not in _POLICIES:
        _POLICIES[key] = {f.record_field: merging.Policy(f.merge_policy, tuple(f.choice_values) if f.choices else ())
                          for f in form.fields}
    return _POLICIES[key]
