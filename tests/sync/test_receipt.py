"""What a push receipt says, from plain values: no database, no Flask app."""

from __future__ import annotations

import uuid

import pytest

from server.sync.push import receipt

SUBMISSION_ID, RECORD_ID = uuid.uuid4(), uuid.uuid4()


@pytest.mark.parametrize(("merge_status", "conflicts", "status"), [
    ("applied", [], "applied"),
    ("merged", [], "merged"),
    # A conflict kept by this submission (or one it joined) outranks an auto-merge.
    ("merged", [{"conflict_id": "c", "field": "grade", "values": []}], "conflict"),
    ("applied", [{"conflict_id": "c", "field": "grade", "values": []}], "conflict"),
])
def test_an_accepted_submission_says_applied_merged_or_conflict(merge_status, conflicts, status):
    answer = receipt.accepted(SUBMISSION_ID, "child", RECORD_ID, 4, merge_status, conflicts, [])
    assert answer == {"submission_id": str(SUBMISSION_ID), "status": status,
                      "record": {"type": "child", "id": str(RECORD_ID), "version": 4},
                      "conflicts": conflicts, "errors": [], "missing_attachments": []}


def test_a_receipt_shows_an_id_number_conflict_by_its_markers_never_its_ciphertext():
    marker = {"protected": "id_number", "lookup": "ab" * 32}
    kept = [{"conflict_id": "c", "field": "id_number", "values": [
        {"value": marker, "device_id": None, "captured_at": "t", "cipher": "c2VjcmV0"},
        {"value": marker | {"lookup": "cd" * 32}, "device_id": "d", "captured_at": "t", "cipher": "b3RoZXI="}]}]
    answer = receipt.accepted(SUBMISSION_ID, "child", RECORD_ID, 5, "applied", kept, [])
    assert answer["status"] == "conflict"
    assert all("cipher" not in v for v in answer["conflicts"][0]["values"])
    assert answer["conflicts"][0]["values"][0]["value"] == marker
    assert "cipher" in kept[0]["values"][0]  # what the server keeps is left as it is


@pytest.mark.parametrize("submission", [None, "text", {}, {"submission_id": "x", "record": "y"},
                                        {"submission_id": "s", "record": {"type": "child", "id": "i"}}])
def test_a_rejection_echoes_what_the_submission_said_about_itself(submission):
    answer = receipt.rejected(submission, [{"field": "f", "code": "c", "message": "m"}])
    assert answer["status"] == "rejected" and answer["record"]["version"] is None
    said = submission if isinstance(submission, dict) else {}
    assert answer["submission_id"] == (said.get("submission_id") or None)
    record = said.get("record") if isinstance(said.get("record"), dict) else {}
    assert answer["record"]["type"] == record.get("type") and answer["record"]["id"] == record.get("id")


@pytest.mark.parametrize(("make", "code"), [(receipt.reused, "sync.submission_id_reused"), (receipt.retry, "sync.retry"),
                                            (receipt.internal_error, "sync.internal_error")])
def test_each_refusal_has_its_stable_code(make, code):
    assert make({"submission_id": "s"})["errors"][0]["code"] == code


def test_missing_attachments_are_those_the_server_does_not_hold():
    submission = {"attachments": ["sha256:" + "a" * 64, "sha256:" + "b" * 64]}
    # A file counts for the record's village only when a tablet of that village sent it.
    assert receipt.missing_attachments(submission, {("a" * 64, "320685001001")}, "320685001001") == ["sha256:" + "b" * 64]
    assert receipt.missing_attachments(submission, {("a" * 64, "320685001002")}, "320685001001") == [
        "sha256:" + "a" * 64, "sha256:" + "b" * 64]
    assert receipt.missing_attachments({}, set(), "320685001001") == []
