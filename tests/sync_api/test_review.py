"""Supervisors review what sync could not decide: conflicts, possible duplicates; and the
attachment and compression parts of the contract."""

import base64
import gzip
import hashlib
import json
import uuid

import pytest
from sqlalchemy import select

from server.sync.models import Submission, Tombstone


@pytest.fixture
def conflicted(client, forms, area, enroll):
    one, two = enroll([area["a"]]), enroll([area["a"]], line="school")
    changes, cursor, _ = one.pull_all()
    child = next(c["record"] for c in changes if c["record"]["type"] == "child")
    common = {"base_version": child["version"], "household_id": child["household_id"],
              "village_code": child["village_code"]}
    one.push(one.submission("child", child["id"], {"enrollment_status": "dropped_out"}, **common))
    receipt, = two.push(two.submission("child", child["id"], {"enrollment_status": "enrolled"}, **common))
    return {"one": one, "two": two, "child": child, "cursor": cursor, "conflict_id": receipt["conflicts"][0]["conflict_id"]}


def test_supervisor_lists_and_resolves_a_conflict_and_tablets_get_the_decision(
        client, area, conflicted, make_person, login):
    supervisor = login(make_person("town_supervisor", town=area["town"]))
    listed = client.get("/api/v1/conflicts?status=open", headers=supervisor).json
    assert listed["total"] == 1
    item = listed["items"][0]
    assert item["field"] == "enrollment_status" and item["record_label"]
    assert {v["value"] for v in item["values"]} == {"dropped_out", "enrolled"}
    resolved = client.post(f"/api/v1/conflicts/{item['conflict_id']}/resolve", headers=supervisor,
                           json={"value": "enrolled", "note": "学校确认在读"})
    assert resolved.status_code == 200, resolved.json
    assert resolved.json["status"] == "resolved" and resolved.json["resolution"]["value"] == "enrolled"
    again = client.post(f"/api/v1/conflicts/{item['conflict_id']}/resolve", headers=supervisor, json={"value": "enrolled"})
    assert again.status_code == 409 and again.json["code"] == "conflicts.already_resolved"
    later, _, _ = conflicted["one"].pull_all(conflicted["cursor"])
    record = next(c["record"] for c in later if c["record"]["id"] == conflicted["child"]["id"])
    assert record["fields"]["enrollment_status"] == "enrolled" and record["conflicts"] == []


def test_resolution_value_is_checked_against_the_form(client, area, conflicted, make_person, login):
    supervisor = login(make_person("city"))
    response = client.post(f"/api/v1/conflicts/{conflicted['conflict_id']}/resolve", headers=supervisor,
                           json={"value": "on_the_moon"})
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "value"


def test_conflicts_are_scoped(client, area, conflicted, make_town, make_person, login):
    other = login(make_person("town_supervisor", town=make_town()))
    assert client.get("/api/v1/conflicts", headers=other).json["total"] == 0
    response = client.post(f"/api/v1/conflicts/{conflicted['conflict_id']}/resolve", headers=other,
                           json={"value": "enrolled"})
    assert response.status_code == 404
    surveyor = login(conflicted["one"].surveyor)
    assert client.get("/api/v1/conflicts", headers=surveyor).status_code == 403


def _new_child(name="李小花", number=None):
    fields = {"name": name, "gender": "F", "birth_date": "2014-03-05", "enrollment_status": "dropped_out",
              "dropout_reason": "working", "dropout_reason_note": "外出打工", "disability": False,
              "left_behind": True, "migrant": False}
    if number:
        fields["id_number"] = number
    return fields


def test_a_child_created_on_two_tablets_is_flagged_and_merged_into_one(client, forms, area, enroll, session,
                                                                       make_person, login):
    one, two = enroll([area["a"]]), enroll([area["a"]], line="school")
    household = area["households"][area["a"].code][0]
    first_id, second_id = uuid.uuid4(), uuid.uuid4()
    number = "32068520140305122X"
    from server.people.id_number import check_digit
    number = number[:17] + check_digit(number[:17])
    one.push(one.submission("child", first_id, _new_child(number=number), household_id=household.id))
    fields = _new_child(number=number) | {"guardian_phone": "13900000000"}
    two.push(two.submission("child", second_id, fields, household_id=household.id))
    supervisor = login(make_person("town_supervisor", town=area["town"]))
    pairs = client.get("/api/v1/duplicates?status=open", headers=supervisor).json
    assert pairs["total"] == 1 and pairs["items"][0]["reason"] == "same_id_number"
    pair = pairs["items"][0]
    assert {c["id"] for c in pair["children"]} == {str(first_id), str(second_id)}
    _, cursor, _ = one.pull_all()
    merged = client.post(f"/api/v1/duplicates/{pair['id']}/merge", headers=supervisor, json={"survivor": str(first_id)})
    assert merged.status_code == 200, merged.json
    later, _, _ = one.pull_all(cursor)
    deletes = [c for c in later if c["op"] == "delete"]
    assert deletes == [{"op": "delete", "type": "child", "id": str(second_id), "merged_into": str(first_id)}]
    survivor = next(c["record"] for c in later if c["op"] == "upsert" and c["record"]["id"] == str(first_id))
    assert survivor["fields"]["guardian_phone"] == "13900000000"  # taken from the other copy: nothing lost
    assert session.get(Tombstone, ("child", second_id)).merged_into == first_id
    # an edit still queued on the losing copy lands on the survivor
    receipt, = two.push(two.submission("child", second_id, {"grade": 7}, base_version=1, household_id=household.id))
    assert receipt["status"] in ("applied", "merged", "conflict") and receipt["record"]["id"] == str(first_id)


def test_attachments_are_content_addressed_and_reported_missing(client, forms, area, enroll, tmp_path, app):
    app.config["ATTACHMENTS_DIR"] = str(tmp_path)
    tablet = enroll([area["a"]])
    photo = b"\x89PNG\r\n\x1a\n fake certificate photo" * 10
    digest = hashlib.sha256(photo).hexdigest()
    household = area["households"][area["a"].code][0]
    receipt, = tablet.push(tablet.submission("household", household.id, {"survey_status": "visited"}, base_version=1,
                                             attachments=[f"sha256:{digest}"]))
    assert receipt["status"] == "applied" and receipt["missing_attachments"] == [f"sha256:{digest}"]
    assert client.head(f"/api/v1/attachments/{digest}", headers=tablet.headers).status_code == 404
    wrong = client.put(f"/api/v1/attachments/{digest}", headers=tablet.headers, data=photo + b"x")
    assert wrong.status_code == 422 and wrong.json["code"] == "attachment.hash_mismatch"
    assert client.put(f"/api/v1/attachments/{digest}", headers=tablet.headers, data=photo).status_code == 201
    assert client.put(f"/api/v1/attachments/{digest}", headers=tablet.headers, data=photo).status_code == 200
    assert client.head(f"/api/v1/attachments/{digest}", headers=tablet.headers).status_code == 200
    assert (tmp_path / digest[:2] / digest).read_bytes() == photo


def test_gzip_both_ways(client, forms, area, enroll, session):
    tablet = enroll([area["a"]])
    household = area["households"][area["a"].code][0]
    body = json.dumps({"submissions": [tablet.submission("household", household.id, {"notes": "门口有狗，" * 100},
                                                         base_version=1)]}).encode()
    response = client.post("/api/v1/sync/push", data=gzip.compress(body), headers={
        **tablet.headers, "Content-Encoding": "gzip", "Content-Type": "application/json", "Accept-Encoding": "gzip"})
    assert response.status_code == 200
    receipts = json.loads(gzip.decompress(response.data)) if response.headers.get("Content-Encoding") else response.json
    assert receipts["receipts"][0]["status"] == "applied", receipts
    pulled = client.get("/api/v1/sync/changes", headers={**tablet.headers, "Accept-Encoding": "gzip"})
    assert pulled.headers["Content-Encoding"] == "gzip"
    page = json.loads(gzip.decompress(pulled.data))
    assert any(c["record"]["fields"].get("notes", "") and c["record"]["fields"]["notes"].startswith("门口有狗")
               for c in page["changes"])
    assert session.scalar(select(Submission).where(Submission.record_id == household.id)) is not None
    bomb = gzip.compress(b"{" + b" " * (40 * 1024 * 1024) + b"}")
    refused = client.post("/api/v1/sync/push", data=bomb, headers={**tablet.headers, "Content-Encoding": "gzip",
                                                                    "Content-Type": "application/json"})
    assert refused.status_code == 413 and refused.json["code"] == "request.too_large"


def test_batch_limit_refuses_the_whole_request(client, forms, area, enroll, app):
    tablet = enroll([area["a"]])
    limit = app.extensions["notoneless.sync_limits"].max_batch_submissions
    household = area["households"][area["a"].code][0]
    subs = [tablet.submission("household", household.id, {"notes": str(i)}, base_version=1) for i in range(limit + 1)]
    response = tablet.post("/sync/push", {"submissions": subs})
    assert response.status_code == 413 and response.json["code"] == "sync.batch_too_large"


def test_revoked_tablet_gets_401_device_revoked(client, forms, area, enroll, make_person, login):
    tablet = enroll([area["a"]])
    supervisor = login(make_person("city"))
    assert client.post(f"/api/v1/devices/{tablet.device_id}/revoke", headers=supervisor).status_code == 204
    response = tablet.get("/sync/manifest")
    assert response.status_code == 401 and response.json["code"] == "auth.device_revoked"


def test_enrollment_code_is_one_time_and_shown_as_a_qr(client, area, make_person, login):
    surveyor = make_person("surveyor", villages=[area["a"]])
    supervisor = login(make_person("town_supervisor", town=area["town"]))
    code = client.post("/api/v1/devices/enrollment-codes", headers=supervisor, json={"surveyor_id": surveyor.id}).json
    assert base64.b64decode(code["qr_png_base64"])[:8] == b"\x89PNG\r\n\x1a\n"
    first = client.post("/api/v1/devices/enroll", json={"enrollment_code": code["enrollment_code"], "device_name": "a"})
    second = client.post("/api/v1/devices/enroll", json={"enrollment_code": code["enrollment_code"], "device_name": "b"})
    assert first.status_code == 200
    assert second.status_code == 400 and second.json["code"] == "devices.invalid_enrollment_code"
    outsider = make_person("surveyor", villages=[area["c"]])
    refused = client.post("/api/v1/devices/enrollment-codes", headers=supervisor, json={"surveyor_id": outsider.id})
    assert refused.status_code == 422
