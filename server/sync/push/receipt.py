"""What a receipt says, built from plain values (no database): the tablet settles its outbox
on it, so its shape is the contract's (sync-contract.md, POST /sync/push)."""

from __future__ import annotations

import uuid
from typing import Any

from server.sync.records import device_conflicts


def accepted(submission_id: uuid.UUID, record_type: str, record_id: uuid.UUID, version: int, merge_status: str,
             conflicts: list[dict], missing_attachments: list[str]) -> dict:
    """An applied submission: `conflict` when a field awaits review, else the merge's status."""
    return {
        "submission_id": str(submission_id),
        "status": "conflict" if conflicts else merge_status,
        "record": {"type": record_type, "id": str(record_id), "version": version},
        # A protected value (an ID number) appears by its marker only, never its ciphertext.
        "conflicts": device_conflicts(conflicts),
        "errors": [],
        "missing_attachments": missing_attachments,
    }


def rejected(submission: Any, errors: list[dict]) -> dict:
    """A refused submission, echoing what it said about itself (which may be anything)."""
    submission = submission if isinstance(submission, dict) else {}
    record = submission.get("record") if isinstance(submission.get("record"), dict) else {}
    return {
        "submission_id": str(submission.get("submission_id")) if submission.get("submission_id") else None,
        "status": "rejected",
        "record": {"type": record.get("type"), "id": record.get("id"), "version": None},
        "conflicts": [], "errors": errors, "missing_attachments": [],
    }


def reused(submission: Any) -> dict:
    return rejected(submission, [{"field": "submission_id", "code": "sync.submission_id_reused",
                                  "message": "this submission_id was already used for other content"}])


def retry(submission: Any) -> dict:
    return rejected(submission, [{"field": "submission_id", "code": "sync.retry",
                                  "message": "a concurrent request touched this record or submission; send it again"}])


def not_storable(submission: Any, reason: str) -> dict:
    return rejected(submission, [{"field": "record.fields", "code": "sync.invalid_record",
                                  "message": f"the record cannot be stored ({reason})"}])


def internal_error(submission: Any) -> dict:
    return rejected(submission, [{"field": None, "code": "sync.internal_error",
                                  "message": "the server could not apply this submission; it has been logged"}])


def missing_attachments(submission: dict, present: set[tuple[str, str]], village_code: str) -> list[str]:
    """The files the submission names that no tablet of the record's village has sent yet."""
    return [a for a in submission.get("attachments") or [] if (a.removeprefix("sha256:"), village_code) not in present]
