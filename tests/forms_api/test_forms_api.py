"""Forms on the server: publish from XLSForm, serve compiled and as XForm, retire, and keep
submissions made with an older version valid, mapped forward."""

import dataclasses
import io
import uuid

from sqlalchemy import select

from server.sync.models import Submission
from server.visits.models import Visit
from survey_forms import builtin
from tests.sync_api.conftest import (  # noqa: F401
    Tablet,  # noqa: F401 - the fixtures below come from there
    area,
    enroll,
    forms,
)


def _upload(client, headers, data: bytes, name="form.xlsx"):
    return client.post("/api/v1/forms", headers=headers, data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _followup_v2() -> bytes:
    questions = []
    for q in builtin.FOLLOWUP_VISIT.questions:
        if q.name == "visit_photo":
            continue  # removed in 2026.2
        if q.name == "note":
            q = dataclasses.replace(q, name="remark", label="备注", renamed_from="note")
        questions.append(q)
    return dataclasses.replace(builtin.FOLLOWUP_VISIT, version="2026.2", questions=tuple(questions)).to_xlsx()


def test_list_fetch_compiled_and_xform(client, forms, make_person, login):  # noqa: F811
    headers = login(make_person("surveyor"))
    listed = client.get("/api/v1/forms", headers=headers).json
    assert {(f["form_id"], f["version"], f["in_use"]) for f in listed} == {
        ("household_survey", "2026.1", True), ("child_survey", "2026.1", True), ("followup_visit", "2026.1", True)}
    compiled = client.get("/api/v1/forms/child_survey/versions/2026.1", headers=headers)
    assert compiled.status_code == 200 and compiled.headers["ETag"].strip('"') == compiled.json["sha256"]
    status = next(f for f in compiled.json["fields"] if f["name"] == "enrollment_status")
    assert {"value": "dropped_out", "label": "辍学"} in status["choices"] and status["merge_policy"] == "latest"
    xform = client.get("/api/v1/forms/child_survey/versions/2026.1/xform", headers=headers)
    assert xform.status_code == 200 and b"<h:html" in xform.data and "就学状态".encode() in xform.data
    assert client.get("/api/v1/forms/child_survey/versions/1999", headers=headers).status_code == 404


def test_publishing_needs_the_city_and_reports_sheet_and_row(client, forms, make_person, login):  # noqa: F811
    assert _upload(client, login(make_person("surveyor")), _followup_v2()).status_code == 403
    city = login(make_person("city"))
    broken = builtin.xlsx_bytes({
        "survey": [["type", "name", "label"], ["text", "visitors", "走访人员"], ["select_one nowhere", "outcome", "结果"]],
        "choices": [["list_name", "name", "label"], ["yes_no", "yes", "是"]],
        "settings": [["form_id", "version", "record_type"], ["broken_visit", "1", "visit"]],
    })
    response = _upload(client, city, broken)
    assert response.status_code == 422 and response.json["code"] == "forms.invalid_xlsform"
    assert any(e["field"] and e["field"].startswith("survey!3") for e in response.json["errors"]), response.json
    unbound = builtin.xlsx_bytes({
        "survey": [["type", "name", "label"], ["text", "shoe_size", "鞋码"]],
        "settings": [["form_id", "version", "record_type"], ["child_extra", "1", "child"]],
    })
    response = _upload(client, city, unbound)
    assert response.status_code == 422 and response.json["errors"][0]["code"] == "forms.unknown_record_field"


def test_version_two_while_version_one_submissions_are_still_accepted_and_mapped_forward(
        client, session, forms, area, enroll, make_person, login):  # noqa: F811
    city = login(make_person("city"))
    tablet = enroll([area["a"]])
    child = area["children"][area["a"].code][0]
    published = _upload(client, city, _followup_v2())
    assert published.status_code == 201, published.json
    assert published.json["version"] == "2026.2" and published.json["in_use"] is True
    same_again = _upload(client, city, _followup_v2())
    assert same_again.status_code == 201 and same_again.json["sha256"] == published.json["sha256"]
    manifest = tablet.get("/sync/manifest").json
    assert {"form_id": "followup_visit", "version": "2026.2", "sha256": published.json["sha256"]} in manifest["forms"]

    # A tablet still offline with 2026.1 sends a visit with the old field names.
    old = tablet.submission("visit", uuid.uuid4(), {
        "visitors": "王老师、李主任", "visit_date": "2026-06-12", "outcome": "refused", "next_step": "revisit",
        "note": "家长不同意", "visit_photo": "sha256:" + "a" * 64}, child_id=child.id)
    receipt, = tablet.push(old)
    assert receipt["status"] == "applied", receipt
    visit = session.get(Visit, uuid.UUID(receipt["record"]["id"]))
    assert visit.answers.get("remark") == "家长不同意"  # renamed forward
    assert "visit_photo" not in visit.answers  # removed in 2026.2 ...
    stored = session.scalar(select(Submission).where(Submission.submission_id == uuid.UUID(old["submission_id"])))
    assert stored.payload["record"]["fields"]["visit_photo"] == "sha256:" + "a" * 64  # ... kept verbatim

    # Retiring 2026.2 makes 2026.1 the one tablets get again; 2026.2 submissions still count.
    assert client.post("/api/v1/forms/followup_visit/versions/2026.2/retire", headers=city).status_code == 204
    manifest = tablet.get("/sync/manifest").json
    assert {f["version"] for f in manifest["forms"] if f["form_id"] == "followup_visit"} == {"2026.1"}
    newer = tablet.submission("visit", uuid.uuid4(), {
        "visitors": "王老师", "visit_date": "2026-06-13", "outcome": "persuaded", "next_step": "school_confirm",
        "remark": "同意返校"}, child_id=child.id)
    newer["form_version"] = "2026.2"
    receipt, = tablet.push(newer)
    assert receipt["status"] == "applied", receipt


def test_a_published_version_cannot_change(client, forms, make_person, login):  # noqa: F811
    city = login(make_person("city"))
    changed = dataclasses.replace(builtin.FOLLOWUP_VISIT, title="改过的标题").to_xlsx()
    response = _upload(client, city, changed)
    assert response.status_code == 409 and response.json["code"] == "forms.version_exists"
