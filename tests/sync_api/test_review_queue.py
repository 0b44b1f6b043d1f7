"""The review queue as a supervisor reads it in the workbench: who gave each value (surveyor,
team, line, when), identical values once, the household and village, the note of a decision;
duplicate pairs compared field by field; a dismissal on the audit trail."""

import uuid

from sqlalchemy import select

from server.audit.models import AuditEvent
from server.people.id_number import check_digit


def _push_status(tablet, child, value):
    common = {"base_version": child["version"], "household_id": child["household_id"],
              "village_code": child["village_code"]}
    return tablet.push(tablet.submission("child", child["id"], {"enrollment_status": value}, **common))


def test_each_value_comes_with_its_surveyor_team_line_and_identical_values_once(
        client, forms, area, enroll, make_person, login, session):
    gov, school, teacher = enroll([area["a"]]), enroll([area["a"]], line="school"), enroll([area["a"]], line="school")
    changes, _, _ = gov.pull_all()
    child = next(c["record"] for c in changes if c["record"]["type"] == "child")
    _push_status(gov, child, "dropped_out")
    _push_status(school, child, "enrolled")
    _push_status(teacher, child, "dropped_out")  # the same as the first line's, from another tablet
    supervisor = login(make_person("town_supervisor", town=area["town"]))
    item, = client.get("/api/v1/conflicts?status=open", headers=supervisor).json["items"]
    assert len(item["values"]) == 3
    by_device = {v["device_id"]: v for v in item["values"]}
    given = by_device[gov.device_id]
    assert given["surveyor"] == {"id": gov.surveyor.id, "name": gov.surveyor.full_name}
    assert given["line"] == "government" and given["source"] == "tablet"
    assert given["team"]["name"].startswith("工作组") and given["device_name"].startswith("平板")
    assert given["captured_at"]
    assert by_device[school.device_id]["line"] == "school"
    # identical values once, with everyone who gave them
    options = {o["value"]: o for o in item["options"]}
    assert set(options) == {"dropped_out", "enrolled"}
    assert {g["surveyor"]["id"] for g in options["dropped_out"]["given_by"]} == {gov.surveyor.id, teacher.surveyor.id}
    assert [g["line"] for g in options["dropped_out"]["given_by"]] == ["government", "school"]
    assert len(options["enrolled"]["given_by"]) == 1
    # the household and village the conflict is about
    household = next(h for h in area["households"][area["a"].code] if str(h.id) == child["household_id"])
    context = item["context"]
    assert context["village"] == {"code": area["a"].code, "name": area["a"].name}
    assert context["town"]["code"] == area["town"].code
    assert context["household"]["head_name"] == household.head_name
    assert context["child"]["id"] == child["id"] and context["child"]["name"] == item["record_label"]

    resolved = client.post(f"/api/v1/conflicts/{item['conflict_id']}/resolve", headers=supervisor,
                           json={"value": "enrolled", "note": "学校核实：在校就读"})
    assert resolved.status_code == 200, resolved.json
    body = resolved.json
    assert body["resolution"]["note"] == "学校核实：在校就读"
    assert body["resolution"]["resolved_by_name"].startswith("测试") and body["resolved_at"]
    listed = client.get("/api/v1/conflicts?status=resolved", headers=supervisor).json["items"]
    assert listed[0]["resolution"]["note"] == "学校核实：在校就读"
    stale = client.post(f"/api/v1/conflicts/{item['conflict_id']}/resolve", headers=supervisor,
                        json={"value": "dropped_out", "note": "晚了一步"})
    assert stale.status_code == 409 and stale.json["code"] == "conflicts.already_resolved"


def test_a_note_too_long_is_refused_naming_the_field(client, forms, area, enroll, make_person, login):
    gov, school = enroll([area["a"]]), enroll([area["a"]], line="school")
    changes, _, _ = gov.pull_all()
    child = next(c["record"] for c in changes if c["record"]["type"] == "child")
    _push_status(gov, child, "dropped_out")
    receipt, = _push_status(school, child, "enrolled")
    supervisor = login(make_person("city"))
    response = client.post(f"/api/v1/conflicts/{receipt['conflicts'][0]['conflict_id']}/resolve",
                           headers=supervisor, json={"value": "enrolled", "note": "长" * 501})
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "note"


def _pair(client, area, enroll, make_person, login, phone="13900000000"):
    one, two = enroll([area["a"]]), enroll([area["a"]], line="school")
    household = area["households"][area["a"].code][0]
    number = "32068520140305122"
    number += check_digit(number)
    first, second = uuid.uuid4(), uuid.uuid4()
    fields = {"name": "李小花", "gender": "F", "birth_date": "2014-03-05", "enrollment_status": "dropped_out",
              "id_number": number, "disability": False, "left_behind": True, "migrant": False}
    one.push(one.submission("child", first, fields, household_id=household.id))
    two.push(two.submission("child", second, fields | {"guardian_phone": phone, "enrollment_status": "enrolled"},
                            household_id=household.id))
    supervisor = login(make_person("town_supervisor", town=area["town"]))
    pair, = client.get("/api/v1/duplicates?status=open", headers=supervisor).json["items"]
    return pair, supervisor, {str(first): one, str(second): two}


def test_a_duplicate_pair_is_compared_field_by_field(client, forms, area, enroll, make_person, login):
    pair, _, tablets = _pair(client, area, enroll, make_person, login)
    a, b = pair["children"]
    assert {a["id"], b["id"]} == set(tablets)
    # field by field, with the differences named by the server (ID numbers by their lookup hash:
    # masked digits could look alike while the numbers differ)
    assert set(pair["differences"]) == {"guardian_phone", "enrollment_status"}
    assert "id_number" not in pair["differences"] and pair["same_id_number"] is True
    for child in (a, b):
        assert child["fields"]["name"] == "李小花"
        assert child["fields"]["id_number"].startswith("320685") and "*" in child["fields"]["id_number"]
        assert child["household"]["head_name"] and child["village"]["name"] == area["a"].name
        assert child["recorded_by"]["source"] == "tablet", child["recorded_by"]
        assert child["recorded_by"]["surveyor"]["id"] == tablets[child["id"]].surveyor.id
        assert child["recorded_by"]["line"] in ("government", "school")


def test_dismissing_a_pair_is_on_the_audit_trail_and_a_second_decision_is_refused(
        client, forms, area, enroll, make_person, login, session):
    pair, supervisor, _ = _pair(client, area, enroll, make_person, login)
    response = client.post(f"/api/v1/duplicates/{pair['id']}/dismiss", headers=supervisor)
    assert response.status_code == 200 and response.json["outcome"] == "distinct"
    event = session.scalar(select(AuditEvent).where(AuditEvent.subject_type == "duplicate_candidate",
                                                    AuditEvent.subject_id == str(pair["id"])))
    assert event is not None and event.action == "change" and event.detail["outcome"] == "distinct"
    assert set(event.detail["children"]) == {c["id"] for c in pair["children"]}
    again = client.post(f"/api/v1/duplicates/{pair['id']}/merge", headers=supervisor,
                        json={"survivor": pair["children"][0]["id"]})
    assert again.status_code == 409 and again.json["code"] == "duplicates.already_resolved"


def test_the_labels_name_the_roster_fields_no_form_asks(client, forms, make_person, login):
    labels = client.get("/api/v1/labels", headers=login(make_person("city"))).json["fields"]
    assert labels["child"]["class_name"]["label"] == "班级"
    assert labels["child"]["vulnerable_family_types"]["choices"]["parents_away"] == "家长外出务工"
    # a field a form asks keeps the form's words
    assert labels["child"]["guardian_phone"]["label"] != "guardian_phone"
