"""The envelope of a submission: its shape, what identifies its content, how it is stored."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import uuid
from typing import Any

from server import caps
from server.people.protection import IdNumberVault, child_subject, marker
from server.sync import records
from sync.records import RECORD_TYPES, canonical


class Refusal(Exception):
    def __init__(self, code: str, message: str, field: str | None = None, errors: list[dict] | None = None):
        super().__init__(message)
        self.errors = errors or [{"field": field, "code": code, "message": message}]


def timestamp(value, name: str) -> dt.datetime:
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
    timestamp(submission.get("captured_at"), "captured_at")
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


def typed_id_number(submission: dict) -> str | None:
    """The ID number a surveyor typed into this submission, as typed, if any."""
    record = submission.get("record") if isinstance(submission, dict) else None
    fields = record.get("fields") if isinstance(record, dict) else None
    value = fields.get("id_number") if isinstance(fields, dict) else None
    return value if isinstance(value, str) and value else None


def _with_id_number(submission: dict, value) -> dict:
    out = copy.deepcopy(submission)
    out["record"]["fields"]["id_number"] = value
    return out


def content_hash(submission: dict, vault: IdNumberVault) -> str:
    """What tells a re-sent submission from another one with the same id.

    A plain sha256 of a submission holding an ID number could be tested against guessed
    numbers (the other fields are known to whoever reads the table, and there are only about
    10^11 numbers): with a number in it the hash is keyed, over the number's lookup hash."""
    number = typed_id_number(submission)
    if number is None:
        return hashlib.sha256(canonical(submission).encode()).hexdigest()
    return vault.mac(canonical(_with_id_number(submission, marker(vault.lookup(number)))))


def stored_payload(submission: dict, vault: IdNumberVault, record_id: uuid.UUID) -> dict:
    """The submission as stored: verbatim, except that a typed ID number is kept as its
    ciphertext (bound to the child) and lookup hash, never in clear."""
    number = typed_id_number(submission)
    if number is None:
        return submission
    return _with_id_number(submission, vault.protect(number, child_subject(record_id)))
