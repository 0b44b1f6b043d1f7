"""The reference client's own bookkeeping, against a tiny fake server held in the test.

These check what the tablet does with answers (outbox, cursor, rejections, retries, gzip,
scope hash); the real server's side of the contract is tested end to end elsewhere.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import ValidationError

import mobile_contract
from mobile_contract.client import (
    ApiError,
    ClientError,
    DeviceRevoked,
    FaultyTransport,
    ProtocolError,
    RetriesExhausted,
    RetryPolicy,
    TabletClient,
    TransportError,
)
from mobile_contract.client.tablet import scope_hash as client_scope_hash
from mobile_contract.client.transport import Response
from sync.scope_hash import scope_hash as server_scope_hash
from tests.contract.fake_server import OTHER_VILLAGE, UUID, VILLAGE, FakeServer

ROOT = Path(__file__).resolve().parents[2]
CLOCK = dt.datetime(2026, 5, 28, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


class Through:
    """A transport that lets a test decide, request by request, what happens."""

    def __init__(self, handler):
        self.handler = handler

    def request(self, method, path, **kwargs):
        return self.handler(method, path, **kwargs)


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture
def server():
    server = FakeServer()
    household = server.put("household", {"head_name": "陈国华", "survey_status": "not_visited"})
    for name in ("陈思雨", "陈浩", "陈思琪"):
        server.put("child", {"name": name, "enrollment_status": "suspected_out_of_school"},
                   household_id=household["id"])
    server.put("household", {"head_name": "徐建军", "survey_status": "not_visited"}, village=OTHER_VILLAGE)
    return server


@pytest.fixture
def sleeps():
    return Sleeps()


def make_client(tmp_path, server, sleeps, name="tablet", **kwargs):
    retry = RetryPolicy(attempts=5, base_delay=0.5, rng=random.Random(1), sleep=sleeps)
    # Every request and answer is checked against the schemas on the client's side too.
    client = TabletClient(tmp_path / f"{name}.sqlite3", transport=kwargs.pop("transport", server),
                          retry=retry, clock=lambda: CLOCK, check=mobile_contract.validate, **kwargs)
    return client


@pytest.fixture
def client(tmp_path, server, sleeps):
    client = make_client(tmp_path, server, sleeps)
    client.enroll("CODE-1", "王丽的平板")
    yield client
    client.close()


def household_of(server, village=VILLAGE):
    return next(r for r in server.records.values() if r["type"] == "household" and r["village_code"] == village)


def children(server):
    return [r for r in server.records.values() if r["type"] == "child"]


def pushes(server):
    return [r for r in server.requests if r.path == "/api/v1/sync/push"]


# -- enrollment and pull ------------------------------------------------------------------------


def test_enroll_keeps_device_and_token_and_later_calls_carry_the_token(client, server, tmp_path, sleeps):
    assert client.device_id in server.tokens.values()
    client.pull()
    assert server.requests[-1].headers["authorization"].startswith("Bearer token-")
    # The store remembers it across restarts of the app.
    client.close()
    again = make_client(tmp_path, server, sleeps)
    assert again.device_id == server.tokens[again.api.token]
    with pytest.raises(ClientError):
        again.enroll("CODE-2", "again")


def test_pull_pages_until_done_and_the_local_hash_is_the_servers_recipe(client, server):
    result = client.pull(limit=2)
    assert result.pages == 3 and result.upserts == 5
    assert result.agreed and not result.repaired
    assert client.cursor == "5"
    assert [r.query.get("cursor") for r in server.requests if r.path.endswith("/changes")] == [None, "2", "4"]
    local = [(r["type"], r["id"], r["version"]) for r in client.records()]
    assert client.scope_hash() == server_scope_hash(local) == server.server_hash()
    assert {r["fields"]["name"] for r in client.records("child")} == {"陈思雨", "陈浩", "陈思琪"}


def test_cursor_is_stored_only_after_its_page_is_applied(client, server):
    server.check_shapes = False  # the second page is broken on purpose
    client.api.check = None
    original = server._changes

    def broken_second_page(query):
        page = original(query)
        if query.get("cursor") == "2":
            page["changes"].append({"op": "explode"})
        return page

    server._changes = broken_second_page
    with pytest.raises(ProtocolError):
        client.pull(limit=2)
    # Page one is in, with its cursor; nothing of page two (its good changes were rolled back).
    assert client.cursor == "2"
    assert len(client.records()) == 2
    server._changes = original
    result = client.pull(limit=2)
    assert server.requests[-2].query["cursor"] == "2"  # resumed where it stopped
    assert result.agreed and len(client.records()) == 5


def test_a_page_lost_on_the_network_is_fetched_again_from_the_same_cursor(client, server, sleeps):
    client.pull(limit=2)
    server.put("child", {"name": "新生"}, household_id=household_of(server)["id"])
    server.fail_next = [503, 502]
    result = client.pull(limit=2)
    assert result.agreed and len(sleeps) == 2
    assert [r.query.get("cursor") for r in server.requests[-3:]] == ["5", "5", "5"]


def test_a_crash_mid_pull_resumes_from_the_last_applied_page(client, server, sleeps):
    client.pull(limit=2)
    for i in range(4):
        server.put("child", {"name": f"新生{i}"}, household_id=household_of(server)["id"])
    calls = {"n": 0}
    original = server.request

    def dies_on_second_page(method, path, **kwargs):
        if path.endswith("/changes"):
            calls["n"] += 1
            if calls["n"] >= 2:
                raise TransportError("battery died")
        return original(method, path, **kwargs)

    client.transport = Through(dies_on_second_page)
    with pytest.raises(RetriesExhausted):
        client.pull(limit=2)
    assert client.cursor == "7"
    assert len(client.records()) == 7
    client.transport = server
    assert client.pull(limit=2).agreed
    assert len(client.records()) == 9


def test_deletes_scope_exits_and_a_scope_hash_mismatch_repaired(client, server):
    client.pull()
    kids = children(server)
    server.delete("child", kids[0]["id"])
    server.exit_scope("household", household_of(server, OTHER_VILLAGE)["id"])
    # A change the log never mentions (a bug, a restored backup): only the hash can tell.
    kids[1]["version"] += 1
    kids[1]["fields"]["enrollment_status"] = "enrolled"
    result = client.pull()
    assert result.deletes == 1 and result.scope_exits == 1
    assert result.repaired and result.agreed
    assert client.record("child", kids[0]["id"]) is None
    assert client.record("child", kids[1]["id"])["fields"]["enrollment_status"] == "enrolled"
    assert client.records("household", OTHER_VILLAGE) == []
    repair = next(r for r in server.requests if r.path.endswith("/repair"))
    assert repair.json["have"][f"child:{kids[1]['id']}"] == 1
    # The repair's cursor is kept: the next pull goes on from there, with nothing to redo.
    server.log.append({"op": "upsert", "type": "child", "id": kids[1]["id"]})
    assert client.cursor == str(len(server.log) - 1)
    assert client.pull().upserts == 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["household", "child", "visit", "task"]), st.uuids().map(str),
                          st.integers(min_value=1, max_value=10**6))))
def test_the_clients_scope_hash_is_the_servers_recipe(records):
    assert client_scope_hash(records) == server_scope_hash(records)
    assert client_scope_hash(reversed(records)) == client_scope_hash(records)


# -- offline edits ------------------------------------------------------------------------------


def test_edits_apply_locally_at_once_and_queue_submissions_in_device_seq_order(client, server):
    client.pull()
    household = household_of(server)
    kid = children(server)[0]
    first = client.edit("child", kid["id"], {"enrollment_status": "dropped_out", "dropout_reason": "poverty"},
                        location={"lat": 32.53, "lon": 120.4, "accuracy_m": 8})
    second = client.edit("household", household["id"], {"survey_status": "visited"})
    new = client.create("child", {"name": "陈小宝", "gender": "M"}, household_id=household["id"])
    visit = client.create("visit", {"outcome": "refused"}, child_id=kid["id"])
    assert [q.device_seq for q in (first, second, new, visit)] == [1, 2, 3, 4]
    assert UUID.match(new.record_id) and UUID.match(new.submission_id)
    assert client.record("child", kid["id"])["fields"]["enrollment_status"] == "dropped_out"
    assert client.record("child", new.record_id)["version"] is None
    queued = [o["submission"] for o in client.outbox()]
    assert [s["record"]["base_version"] for s in queued] == [1, 1, None, None]
    assert queued[2]["record"]["village_code"] == VILLAGE
    assert queued[3]["record"]["child_id"] == kid["id"] and queued[3]["form_id"] == "followup_visit"
    assert queued[0]["captured_at"] == "2026-05-28T09:30:00+08:00"
    mobile_contract.validate("push_request", {"submissions": queued})
    # Nothing that is not the device's own edit was queued, and nothing was sent yet.
    assert pushes(server) == []
    # Server records are untouched until the push; the local hash still says the server's.
    assert client.scope_hash() == server.server_hash()


def test_what_a_tablet_may_not_do_is_refused_before_any_request(client, server):
    client.pull()
    kid = children(server)[0]
    with pytest.raises(ClientError):
        client.create("child", {"name": "x"}, household_id=str(uuid.uuid4()), village_code="320685999999")
    with pytest.raises(ClientError):
        client.edit("task", str(uuid.uuid4()), {"status": "done"})
    with pytest.raises(ClientError):
        client.edit("child", str(uuid.uuid4()), {"name": "nobody"})
    visit = client.create("visit", {"outcome": "refused"}, child_id=kid["id"])
    with pytest.raises(ClientError):
        client.edit("visit", visit.record_id, {"outcome": "returned"})


def test_push_settles_the_outbox_and_the_next_pull_brings_the_versions(client, server):
    client.pull()
    kid = children(server)[0]
    client.edit("child", kid["id"], {"enrollment_status": "enrolled"})
    new = client.create("child", {"name": "陈小宝"}, household_id=kid["household_id"])
    result = client.push()
    assert result.statuses == {"applied": 2} and client.outbox() == []
    assert server.records[("child", new.record_id)]["fields"] == {"name": "陈小宝", "id_number_status": "missing"}
    pulled = client.pull()
    assert pulled.agreed
    assert client.record("child", new.record_id)["version"] == 1
    assert client.record("child", kid["id"])["version"] == 2


def test_sync_is_push_then_pull(client, server):
    client.pull()
    kid = children(server)[0]
    client.edit("child", kid["id"], {"enrollment_status": "enrolled"})
    result = client.sync()
    assert result.push.statuses["applied"] == 1 and result.pull.agreed
    paths = [r.path.removeprefix("/api/v1") for r in server.requests[-3:]]
    assert paths == ["/sync/push", "/sync/manifest", "/sync/changes"]


def test_pending_edits_stay_visible_when_a_pull_brings_a_newer_server_copy(client, server):
    client.pull()
    kid = children(server)[0]
    client.edit("child", kid["id"], {"enrollment_status": "enrolled"})
    server.put("child", {"grade": 7}, household_id=kid["household_id"], record_id=kid["id"])
    client.pull()
    shown = client.record("child", kid["id"])
    assert shown["version"] == 2
    assert shown["fields"]["grade"] == 7 and shown["fields"]["enrollment_status"] == "enrolled"
    assert client.server_copies()[f"child:{kid['id']}"]["fields"]["enrollment_status"] == "suspected_out_of_school"


# -- retries, rejections, attachments -----------------------------------------------------------


def test_retries_after_lost_answers_keep_the_same_submission_ids(client, server, sleeps):
    client.pull()
    for kid in children(server):
        client.edit("child", kid["id"], {"enrollment_status": "enrolled"})
    queued = [o["submission"]["submission_id"] for o in client.outbox()]
    server.fail_next = [503]  # refused before handling
    server.fail_after_handling = 1  # handled, but the answer is lost
    result = client.push()
    sent = [[s["submission_id"] for s in r.json["submissions"]] for r in pushes(server)]
    assert sent == [queued, queued, queued]
    assert len({r.raw_body for r in pushes(server)}) == 1  # byte for byte the same request
    assert result.statuses == {"applied": 3}  # the answers that got through: the original receipts
    assert client.outbox() == []
    assert len(server.submissions) == 3
    assert len(sleeps) == 2 and sleeps[0] <= 0.5 and sleeps[1] <= 1.0


def test_backoff_grows_exponentially_with_jitter_and_gives_up_without_losing_anything(client, server, sleeps):
    client.pull()
    client.edit("child", children(server)[0]["id"], {"enrollment_status": "enrolled"})
    server.fail_next = [503, 429, 500, 502, 504]
    with pytest.raises(RetriesExhausted):
        client.push()
    assert len(sleeps) == 4
    assert all(0 <= s <= 0.5 * 2 ** i for i, s in enumerate(sleeps))
    assert len(client.outbox()) == 1
    assert client.push().statuses == {"applied": 1}


def test_retry_after_is_honoured():
    policy = RetryPolicy(rng=random.Random(3))
    assert policy.delay(1, "7") == 7.0
    assert policy.delay(1, "9999") == policy.max_delay
    assert 0 <= policy.delay(4, "Wed, 21 Oct 2026 07:28:00 GMT") <= 4.0


def test_unknown_reference_stays_in_the_outbox_and_other_refusals_are_kept_with_reasons(client, server):
    client.pull()
    kid, other = children(server)[:2]
    household = household_of(server)
    # A visit for a child another tablet created and has not pushed yet.
    server.put("child", {"name": "外来"}, household_id=household["id"], record_id=str(uuid.uuid4()))
    pending_child = list(server.records)[-1][1]
    client.pull()
    del server.records[("child", pending_child)]
    visit = client.create("visit", {"outcome": "refused"}, child_id=pending_child)
    client.edit("child", kid["id"], {"enrollment_status": "dropped_out"})
    created = client.create("child", {"name": "错"}, household_id=household["id"])
    server.reject[kid["id"]] = ("dropout_reason", "form.required")
    server.reject[created.record_id] = ("birth_date", "form.date")
    client.edit("child", other["id"], {"enrollment_status": "enrolled"})

    result = client.push()
    assert result.statuses == {"rejected": 3, "applied": 1}
    assert [h["submission_id"] for h in result.held] == [visit.submission_id]
    assert [o["submission"]["submission_id"] for o in client.outbox()] == [visit.submission_id]
    assert client.outbox()[0]["last_error"][0]["code"] == "sync.unknown_reference"
    rejected = client.rejected()
    assert [r["errors"][0]["code"] for r in rejected] == ["form.required", "form.date"]
    assert rejected[0]["submission"]["record"]["fields"] == {"enrollment_status": "dropped_out"}
    # The tablet no longer shows what the server refused.
    assert client.record("child", kid["id"])["fields"]["enrollment_status"] == "suspected_out_of_school"
    assert client.record("child", created.record_id) is None
    # Once the child reaches the server, the visit goes through with its original id.
    server.put("child", {"name": "外来"}, household_id=household["id"], record_id=pending_child)
    again = client.push()
    assert again.statuses == {"applied": 1} and client.outbox() == []
    assert pushes(server)[-1].json["submissions"][0]["submission_id"] == visit.submission_id


def test_missing_attachments_are_uploaded_and_the_submission_sent_again(client, server):
    client.pull()
    kid = children(server)[0]
    photo = "县人民医院诊断证明".encode() * 50
    queued = client.edit("child", kid["id"], {"enrollment_status": "sick_deferral"},
                         attachments={"certificate_photo": photo})
    submission = client.outbox()[0]["submission"]
    assert submission["attachments"] == [submission["record"]["fields"]["certificate_photo"]]
    result = client.push()
    assert result.uploaded == submission["attachments"]
    assert server.attachments == {submission["attachments"][0].removeprefix("sha256:"): photo}
    assert result.statuses == {"rejected": 1, "applied": 1}
    assert client.outbox() == [] and client.rejected() == []
    sent = [r.json["submissions"][0]["submission_id"] for r in pushes(server)]
    assert sent == [queued.submission_id, queued.submission_id]


def test_a_file_the_tablet_lost_moves_its_submission_to_rejected_with_the_reason(client, server):
    client.pull()
    kid = children(server)[0]
    client.edit("child", kid["id"], {"certificate_photo": "sha256:" + "ab" * 32})
    result = client.push()
    assert result.missing_files == ["sha256:" + "ab" * 32]
    assert client.outbox() == []
    assert [e["code"] for e in client.rejected()[0]["errors"]] == ["sync.missing_attachment",
                                                                   "client.attachment_lost"]


def test_files_missing_from_an_applied_submission_are_uploaded_without_holding_it(client, server, sleeps):
    server.apply_without_attachments = True  # what the real server does
    client.pull()
    kid = children(server)[0]
    photo = "走访照片".encode() * 100
    queued = client.edit("child", kid["id"], {"enrollment_status": "sick_deferral"},
                         attachments={"certificate_photo": photo})
    ref = client.outbox()[0]["submission"]["attachments"][0]
    real_request = server.request

    def uploads_fail(method, path, **kwargs):
        if method == "PUT":
            raise TransportError("signal lost")
        return real_request(method, path, **kwargs)

    client.transport = Through(uploads_fail)
    with pytest.raises(RetriesExhausted):
        client.push()
    assert client.outbox() == []  # applied: settled, whatever the files
    assert server.attachments == {}
    client.transport = server
    result = client.push()  # nothing to send, but the requested file goes up first
    assert result.uploaded == [ref] and result.sent == 0
    assert server.attachments == {ref.removeprefix("sha256:"): photo}
    # A re-send gets the stored receipt back, stale list included: the file goes again (PUT is
    # idempotent) and nothing sticks in the outbox.
    with client.store.transaction():
        client._insert_outbox(pushes(server)[0].json["submissions"][0])
    again = client.push()
    assert again.statuses == {"applied": 1} and client.outbox() == []  # its original receipt
    assert pushes(server)[-1].json["submissions"][0]["submission_id"] == queued.submission_id


def test_sync_retry_is_sent_again_at_once_with_the_same_id(client, server):
    client.pull()
    kid = children(server)[0]
    queued = client.edit("child", kid["id"], {"enrollment_status": "enrolled"})
    server.race_once.add(kid["id"])
    result = client.push()
    assert result.statuses == {"rejected": 1, "applied": 1}
    assert client.outbox() == [] and client.rejected() == []
    assert [r.json["submissions"][0]["submission_id"] for r in pushes(server)] == [queued.submission_id] * 2


def test_a_batch_too_large_is_split_and_batches_follow_the_limit(client, server):
    client.pull()
    for i in range(5):
        client.edit("child", children(server)[i % 3]["id"], {"note": f"第{i}次"})
    assert client.push(batch_size=2).batches == 3
    for i in range(4):
        client.edit("child", children(server)[0]["id"], {"note": "长" * 300 + str(i)})
    server.limits["max_request_bytes"] = 3000  # the server's limit, below what the tablet knew
    result = client.push()
    assert result.statuses == {"applied": 4} and client.outbox() == []
    assert [len(r.json["submissions"]) for r in pushes(server)[-3:]] == [4, 2, 2]


def test_one_submission_the_server_refuses_as_a_request_does_not_block_the_others(client, server):
    client.pull()
    kids = children(server)
    client.edit("child", kids[0]["id"], {"enrollment_status": "enrolled"})
    huge = client.edit("child", kids[1]["id"], {"note": "长" * 2000})
    client.edit("child", kids[2]["id"], {"enrollment_status": "dropped_out"})
    server.limits["max_request_bytes"] = 3000
    result = client.push()
    assert result.statuses == {"applied": 2, "rejected": 1} and client.outbox() == []
    [kept] = client.rejected()
    assert kept["submission"]["submission_id"] == huge.submission_id
    assert kept["errors"][0]["code"] == "request.too_large"
    assert "note" not in client.record("child", kids[1]["id"])["fields"]

    client.edit("child", kids[0]["id"], {"grade": 5})
    client.edit("child", kids[1]["id"], {"grade": 6})
    server.unreadable.add(kids[0]["id"])
    result = client.push()
    assert result.statuses == {"applied": 1, "rejected": 1}
    assert client.rejected()[-1]["errors"][0]["field"] == "submissions.0.record.fields"


def test_a_revoked_device_is_told_so(client, server):
    server.revoked.add(client.device_id)
    with pytest.raises(DeviceRevoked) as caught:
        client.pull()
    assert caught.value.code == "auth.device_revoked" and caught.value.status == 401


def test_the_same_id_with_other_content_is_refused_and_kept(client, server):
    client.pull()
    kid = children(server)[0]
    queued = client.edit("child", kid["id"], {"enrollment_status": "enrolled"})
    client.push()
    # A buggy tablet re-queues the id with other content: the refusal is kept, not dropped.
    with client.store.transaction():
        client.store.db.execute(
            "insert into outbox (submission_id, device_seq, record_type, record_id, body, created_at) "
            "values (?, 99, 'child', ?, ?, '2026-05-28T10:00:00+08:00')",
            (queued.submission_id, kid["id"], json.dumps({
                "submission_id": queued.submission_id, "device_seq": 99, "form_id": "child_survey",
                "form_version": "2026.1", "captured_at": "2026-05-28T10:00:00+08:00", "location": None,
                "record": {"type": "child", "id": kid["id"], "base_version": 1,
                           "household_id": kid["household_id"], "village_code": VILLAGE,
                           "fields": {"enrollment_status": "dropped_out"}},
                "attachments": []})),
        )
    result = client.push()
    assert result.rejected[0]["errors"][0]["code"] == "sync.submission_id_reused"
    assert client.rejected()[0]["submission"]["submission_id"] == queued.submission_id


def test_a_merged_duplicate_redirects_and_its_queued_edits_follow_the_survivor(client, server):
    client.pull()
    winner, loser = children(server)[:2]
    edit = client.edit("child", loser["id"], {"enrollment_status": "enrolled"})
    visit = client.create("visit", {"outcome": "persuaded"}, child_id=loser["id"])
    server.delete("child", loser["id"], merged_into=winner["id"])
    client.pull()
    assert client.record("child", loser["id"])["id"] == winner["id"]
    queued = [o for o in client.outbox()]
    assert [o["retargeted_from"] for o in queued] == [edit.submission_id, visit.submission_id]
    first, second = (o["submission"] for o in queued)
    assert first["record"]["id"] == winner["id"] and first["device_seq"] == edit.device_seq
    assert first["record"]["base_version"] == 1
    assert first["submission_id"] != edit.submission_id
    assert second["record"]["child_id"] == winner["id"]
    assert client.record("child", winner["id"])["fields"]["enrollment_status"] == "enrolled"
    later = client.edit("child", loser["id"], {"grade": 3})  # an old id from the UI
    assert later.record_id == winner["id"]
    assert client.push().statuses == {"applied": 3}


# -- the wire -----------------------------------------------------------------------------------


def test_gzip_both_ways_above_the_threshold(client, server):
    client.pull()
    assert all(r.headers["accept-encoding"] == "gzip" for r in server.requests)
    kid = children(server)[0]
    client.edit("child", kid["id"], {"enrollment_status": "enrolled"})
    client.push()
    small = pushes(server)[-1]
    assert "content-encoding" not in small.headers and json.loads(small.raw_body) == small.json
    for i in range(20):
        client.edit("child", kid["id"], {"note": f"家访记录：第{i}次，孩子在家帮忙干农活"})
    client.push()
    big = pushes(server)[-1]
    assert big.headers["content-encoding"] == "gzip"
    assert json.loads(gzip.decompress(big.raw_body)) == big.json
    assert len(big.json["submissions"]) == 20
    # Answers came back gzipped (the fake server compresses) and were read all the same.
    assert client.pull().agreed


def test_forms_are_fetched_once_and_checked_against_the_manifests_hash(client, server):
    client.fetch_manifest()
    assert sorted(client.fetch_forms()) == [("child_survey", "2026.1"), ("followup_visit", "2026.1"),
                                            ("household_survey", "2026.1")]
    assert client.fetch_forms() == []
    assert client.form("child_survey", "2026.1")["record_type"] == "child"
    manifest = client.manifest
    manifest["forms"][0]["sha256"] = "0" * 64
    with client.store.transaction():
        client.store.set("manifest", manifest)
    with pytest.raises(ProtocolError):
        client.fetch_forms()


def run_with_faults(tmp_path, sleeps, seed):
    server = FakeServer()
    household = server.put("household", {"head_name": "陈国华"})
    kids = [server.put("child", {"name": n}, household_id=household["id"]) for n in ("甲", "乙", "丙")]
    faulty = FaultyTransport(server, random.Random(seed), fail_before=0.2, drop_response=0.2, duplicate=0.2)
    client = make_client(tmp_path, server, sleeps, name=f"faulty-{seed}-{len(sleeps)}")
    client.enroll("CODE-1", "王丽的平板")
    client.transport = faulty
    client.pull(limit=2)
    for kid in kids:
        client.edit("child", kid["id"], {"enrollment_status": "enrolled"})
    client.sync(batch_size=1)
    faulty.enabled = False
    assert client.sync().pull.agreed
    assert client.outbox() == [] and client.rejected() == []
    assert len(server.submissions) == 3
    assert all(r["fields"]["enrollment_status"] == "enrolled" for r in client.records("child"))
    return dict(faulty.faults)


def test_faulty_transport_is_seeded_and_the_client_survives_its_faults(tmp_path, sleeps):
    faults = run_with_faults(tmp_path, sleeps, 7)
    assert set(faults) == {"fail_before", "drop_response", "duplicate"}
    assert run_with_faults(tmp_path, sleeps, 7) == faults


def test_errors_without_the_contract_shape_still_raise_clearly(client):
    def proxy_page(method, path, **kwargs):
        return Response(404, {"Content-Type": "text/html"}, b"<html>nginx</html>")

    client.transport = Through(proxy_page)
    with pytest.raises(ValidationError):  # the contract check notices the stray answer
        client.pull()
    client.api.check = None
    with pytest.raises(ApiError) as caught:
        client.pull()
    assert caught.value.code == "http.404" and caught.value.status == 404


def test_store_survives_reopening_and_is_plain_sqlite(client, server, tmp_path, sleeps):
    client.pull()
    client.edit("child", children(server)[0]["id"], {"enrollment_status": "enrolled"})
    path = client.store.path
    client.close()
    db = sqlite3.connect(path)
    assert db.execute("select count(*) from outbox").fetchone() == (1,)
    assert db.execute("select value from meta where key = 'next_device_seq'").fetchone() == ("2",)
    db.close()
    reopened = make_client(tmp_path, server, sleeps)
    assert reopened.edit("child", children(server)[1]["id"], {"grade": 3}).device_seq == 2


# -- purity -------------------------------------------------------------------------------------


def test_the_contract_and_client_load_no_web_or_database_framework():
    script = (
        "import sys, mobile_contract, mobile_contract.client, mobile_contract.client.flask_transport, "
        "mobile_contract.client.drill; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'flask', 'werkzeug', 'sqlalchemy', 'jsonschema', 'requests', 'server', 'psycopg'}))"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
