"""ODK Collect as a tablet: a device's form list, XForms, manifest with its entity lists, and
submissions shaped as the OpenRosa and ODK entities specifications describe, merged field by
field by the same push our own tablets use."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import uuid
from urllib.parse import urlsplit

from sqlalchemy import text

from server.people import id_number
from tests.openrosa.conftest import message
from tests.openrosa.instances import PNG, instance

HOUSEHOLD = "household_survey"


def _household_answers(entity_row: dict, **changes) -> dict:
    """The household form as the prefill leaves it from the entity list, then the changes."""
    answers = {"household_pick": entity_row["name"], "household/head_name": entity_row["head_name"],
               "household/phone": entity_row["phone"], "household/address": entity_row["address"],
               "household/group_name": entity_row["group_name"],
               "household/household_number": entity_row["household_number"],
               "location": entity_row["location"], "survey_status": entity_row["survey_status"] or "visited",
               "vulnerable_family_types": entity_row["vulnerable_family_types"], "notes": entity_row["notes"]}
    answers.update(changes)
    return answers


def _update(row: dict, branch: str | None = None) -> dict:
    return {"id": row["name"], "baseVersion": row["__version"], "trunkVersion": row["__version"],
            "branchId": branch or str(uuid.uuid4())}


def test_the_form_list_the_forms_and_their_hashes(collect, area):
    device = collect([area["a"]])
    listed = device.form_list()
    assert set(listed) == {"household_survey", "child_survey", "followup_visit"}
    entry = listed[HOUSEHOLD]
    assert entry["version"] == "2026.1" and entry["name"] == "住户摸底调查表"
    xform = device.get(entry["downloadUrl"])
    assert xform.status_code == 200 and xform.headers["X-OpenRosa-Version"] == "1.0"
    assert entry["hash"] == "md5:" + hashlib.md5(xform.data).hexdigest()
    assert b'dataset="households"' in xform.data


def test_the_manifest_gives_the_devices_villages_as_entity_lists(collect, area):
    device = collect([area["a"]])
    media = device.media("child_survey")
    assert set(media) == {"households.csv", "children.csv"}
    assert {m["type"] for m in media.values()} == {"entityList"}
    for name, item in media.items():
        body = device.get(item["downloadUrl"]).data
        assert item["hash"] == "md5:" + hashlib.md5(body).hexdigest(), name
    mine = {str(h.id) for h in area["households"][area["a"].code]}
    assert {r["name"] for r in device.entity_list("households")} == mine
    children = device.entity_list("children")
    assert {r["name"] for r in children} == {str(c.id) for c in area["children"][area["a"].code]}
    assert {r["household"] for r in children} <= mine
    first = children[0]
    assert first["__version"] == "1" and "id_number" not in first and "child_name" in first
    # The hash stays while the content does.
    assert device.media("child_survey") == media


def test_preflight_says_how_large_a_submission_may_be(collect, area):
    device = collect([area["a"]])
    for method in (device.client.head, device.client.get):
        response = method(f"{device.base}/submission")
        assert response.status_code == 204
        assert response.headers["X-OpenRosa-Version"] == "1.0"
        assert int(response.headers["X-OpenRosa-Accept-Content-Length"]) > 1_000_000


def test_an_update_lands_on_the_record_and_the_same_bytes_again_are_stored_once(collect, area, session):
    device = collect([area["a"]])
    household = area["households"][area["a"].code][0]
    row = device.entity("households", household.id)
    xform = device.xform(HOUSEHOLD)
    hash_before = device.media(HOUSEHOLD)["households.csv"]["hash"]
    xml = instance(xform, _household_answers(row, **{"household/phone": "13912345678"}), entity=_update(row))
    first = device.submit(xml)
    assert first.status_code == 201, first.data
    assert "提交成功" in message(first)
    assert device.entity("households", household.id)["phone"] == "13912345678"
    assert device.entity("households", household.id)["__version"] == "2"
    assert device.media(HOUSEHOLD)["households.csv"]["hash"] != hash_before  # Collect fetches it again
    again = device.submit(xml)
    assert again.status_code == 201
    stored = session.execute(text("SELECT count(*) FROM submissions WHERE record_id = :id"), {"id": household.id})
    assert stored.scalar() == 1
    assert session.execute(text("SELECT count(*) FROM openrosa_instances")).scalar() == 1


def test_the_same_instance_id_with_other_content_is_refused(collect, area):
    device = collect([area["a"]])
    household = area["households"][area["a"].code][0]
    row = device.entity("households", household.id)
    xform = device.xform(HOUSEHOLD)
    instance_id = f"uuid:{uuid.uuid4()}"
    entity = _update(row)
    assert device.submit(instance(xform, _household_answers(row, **{"household/phone": "13912345678"}),
                                  entity=entity, instance_id=instance_id)).status_code == 201
    other = device.submit(instance(xform, _household_answers(row, **{"household/phone": "13800000000"}),
                                   entity=entity, instance_id=instance_id))
    assert other.status_code == 409
    assert "第一次" in message(other)
    assert device.entity("households", household.id)["phone"] == "13912345678"


def test_two_devices_different_values_are_a_conflict_with_both_the_same_value_is_none(collect, area, session):
    one, two = collect([area["a"]]), collect([area["a"]], line="school")
    household = area["households"][area["a"].code][0]
    row = one.entity("households", household.id)
    xform = one.xform(HOUSEHOLD)
    assert one.submit(instance(xform, _household_answers(row, **{"household/phone": "13911111111"}),
                               entity=_update(row))).status_code == 201
    # The second tablet started from the same version and typed another number.
    answer = two.submit(instance(xform, _household_answers(row, **{"household/phone": "13922222222"}),
                                 entity=_update(row)))
    assert answer.status_code == 201, answer.data
    assert "等待督导核实" in message(answer)
    values = session.execute(text(
        "SELECT values FROM conflicts WHERE record_id = :id AND field = 'phone' AND status = 'open'"),
        {"id": household.id}).scalar_one()
    assert sorted(v["value"] for v in values) == ["13911111111", "13922222222"]
    # The same address typed on both tablets is no conflict.
    row = one.entity("households", household.id)
    for device in (one, two):
        assert device.submit(instance(xform, _household_answers(row, **{"household/address": "幸福村3组"}),
                                      entity=_update(row))).status_code == 201
    assert session.execute(text("SELECT count(*) FROM conflicts WHERE record_id = :id AND field = 'address'"),
                           {"id": household.id}).scalar() == 0


def test_a_base_version_behind_the_servers_merges_field_by_field(collect, area, session):
    one, two = collect([area["a"]]), collect([area["a"]])
    household = area["households"][area["a"].code][0]
    row = one.entity("households", household.id)  # version 1, on both tablets
    xform = one.xform(HOUSEHOLD)
    assert one.submit(instance(xform, _household_answers(row, **{"household/phone": "13911111111"}),
                               entity=_update(row))).status_code == 201
    # The second tablet, offline, still at version 1, changes only the notes.
    assert two.submit(instance(xform, _household_answers(row, notes="家长在外务工"),
                               entity=_update(row))).status_code == 201
    now = one.entity("households", household.id)
    assert (now["phone"], now["notes"], now["__version"]) == ("13911111111", "家长在外务工", "3")
    assert session.execute(text("SELECT count(*) FROM conflicts WHERE record_id = :id"),
                           {"id": household.id}).scalar() == 0


def test_a_tablet_of_another_village_neither_lists_nor_updates_the_household(collect, area):
    mine, other = collect([area["a"]]), collect([area["c"]])
    household = area["households"][area["a"].code][0]
    assert str(household.id) not in {r["name"] for r in other.entity_list("households")}
    row = mine.entity("households", household.id)
    refused = other.submit(instance(other.xform(HOUSEHOLD), _household_answers(row, **{"household/phone": "13900000000"}),
                                    entity=_update(row)))
    assert refused.status_code == 403
    assert "不在本平板所包的村" in message(refused)
    assert mine.entity("households", household.id)["phone"] == row["phone"]


def test_a_new_child_is_an_entity_creation(collect, area, session):
    device = collect([area["a"]])
    household = area["households"][area["a"].code][0]
    new_id = uuid.uuid4()
    xml = instance(device.xform("child_survey"), {
        "household_pick": str(household.id), "new_child_id": str(new_id), "basic/name": "王小花",
        "basic/gender": "F", "basic/birth_date": "2015-09-01", "schooling/enrollment_status": "dropped_out",
        "schooling/dropout_reason": "poverty", "disability_group/disability": "no", "family/left_behind": "yes",
        "family/migrant": "no"},
        entity={"id": str(new_id), "create": "1", "update": "0", "baseVersion": "", "trunkVersion": "",
                "branchId": ""})
    answer = device.submit(xml)
    assert answer.status_code == 201, answer.data
    child = session.execute(text("SELECT name, household_id, enrollment_status, left_behind FROM children"
                                 " WHERE id = :id"), {"id": new_id}).one()
    assert tuple(child) == ("王小花", household.id, "dropped_out", True)
    assert str(new_id) in {r["name"] for r in device.entity_list("children")}


def test_a_photo_in_a_split_upload_becomes_one_submission(collect, area, session):
    device = collect([area["a"]])
    child = area["children"][area["a"].code][0]
    row = device.entity("children", child.id)
    xml = instance(device.xform("child_survey"), {
        "household_pick": row["household"], "child_pick": row["name"], "basic/name": row["child_name"],
        "basic/gender": row["gender"], "basic/birth_date": row["birth_date"],
        "schooling/enrollment_status": "sick_deferral", "schooling/certificate_photo": "cert.png",
        "disability_group/disability": "no", "family/left_behind": "no", "family/migrant": "no"},
        entity={"id": row["name"], "update": "1", "create": "0", "baseVersion": row["__version"],
                "trunkVersion": row["__version"], "branchId": str(uuid.uuid4())})
    part = device.submit(xml, {}, incomplete=True)
    assert part.status_code == 201
    assert session.execute(text("SELECT count(*) FROM submissions WHERE record_id = :id"), {"id": child.id}).scalar() == 0
    last = device.submit(xml, {"cert.png": PNG})
    assert last.status_code == 201, last.data
    photo, status = session.execute(text("SELECT certificate_photo, enrollment_status FROM children WHERE id = :id"),
                                    {"id": child.id}).one()
    assert photo == "sha256:" + hashlib.sha256(PNG).hexdigest() and status == "sick_deferral"


def test_an_edit_names_the_instance_it_replaces_and_goes_through_the_merge(collect, area, session):
    device = collect([area["a"]])
    household = area["households"][area["a"].code][0]
    row = device.entity("households", household.id)
    xform = device.xform(HOUSEHOLD)
    first_id = f"uuid:{uuid.uuid4()}"
    entity = _update(row)
    assert device.submit(instance(xform, _household_answers(row, **{"household/phone": "13911111111"}), entity=entity,
                                  instance_id=first_id)).status_code == 201
    edit = instance(xform, _household_answers(row, **{"household/phone": "13933333333"}), entity=entity,
                    deprecated_id=first_id, end="2026-05-28T11:00:00.000+08:00")
    assert device.submit(edit).status_code == 201
    # The same tablet's later edit: its own newer value, never a conflict with itself.
    assert device.entity("households", household.id)["phone"] == "13933333333"
    assert session.execute(text("SELECT count(*) FROM conflicts WHERE record_id = :id"),
                           {"id": household.id}).scalar() == 0


def test_a_refusal_tells_the_surveyor_which_question_in_chinese(collect, area):
    device = collect([area["a"]])
    row = device.entity("households", area["households"][area["a"].code][0].id)
    refused = device.submit(instance(device.xform(HOUSEHOLD), _household_answers(row, **{"household/phone": "12345"}),
                                     entity=_update(row)))
    assert refused.status_code == 400
    assert "联系电话" in message(refused)
    broken = device.submit(b"<data id='household_survey'><meta><instanceID>uuid:x")
    assert broken.status_code == 400 and "损坏" in message(broken)


def test_a_typed_id_number_is_never_kept_in_clear(collect, area, session):
    device = collect([area["a"]])
    child = area["children"][area["a"].code][0]
    row = device.entity("children", child.id)
    xform = device.xform("child_survey")

    def typed(number: str) -> bytes:
        return instance(xform, {
            "household_pick": row["household"], "child_pick": row["name"], "basic/name": row["child_name"],
            "basic/gender": row["gender"], "basic/birth_date": row["birth_date"], "basic/id_number": number,
            "schooling/enrollment_status": row["enrollment_status"], "schooling/dropout_reason": "poverty",
            "disability_group/disability": "no", "family/left_behind": "no", "family/migrant": "no"},
            entity={"id": row["name"], "update": "1", "baseVersion": row["__version"],
                    "trunkVersion": row["__version"], "branchId": str(uuid.uuid4())})

    number = id_number.make("110105", dt.date(2015, 9, 1), 2)
    answer = device.submit(typed(number))
    assert answer.status_code == 201, message(answer)
    kept = session.execute(text("SELECT xml FROM openrosa_instances")).scalar_one()
    assert number not in kept and "[protected]" in kept
    payload = session.execute(text("SELECT payload::text FROM submissions WHERE record_id = :id"),
                              {"id": child.id}).scalar_one()
    assert number not in payload
    # A wrong check digit is refused with a message the surveyor can act on.
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    refused = device.submit(typed(wrong))
    assert refused.status_code == 400 and "公民身份号码" in message(refused)


def test_the_settings_qr_gives_collect_its_server_and_a_revoked_device_is_refused(collect, area, client, login,
                                                                                 make_person):
    device = collect([area["a"]])
    general = device.settings["general"]
    assert general["server_url"].endswith(device.base) and general["username"] == ""
    city = login(make_person("city"))
    # Re-issued (a lost QR): the new URL works, the old one no longer does.
    reissued = client.post(f"/api/v1/devices/{device.device_id}/collect-settings", headers=city)
    assert reissued.status_code == 200, reissued.json
    old_base = device.base
    device.base = urlsplit(reissued.json["server_url"]).path
    assert device.base != old_base and len(device.form_list()) == 3
    assert device.client.get(f"{old_base}/formList").status_code == 403
    assert client.post(f"/api/v1/devices/{device.device_id}/revoke", headers=city).status_code == 204
    refused = device.client.get(f"{device.base}/formList")
    assert refused.status_code == 403 and "停用" in message(refused)
    unknown = device.client.get("/api/v1/openrosa/not-a-token/formList")
    assert unknown.status_code == 403


def test_a_form_the_bureau_publishes_with_an_entities_sheet_serves_both_kinds_of_client(
        collect, area, client, login, make_person, session):
    import dataclasses

    from survey_forms import builtin

    # The bureau's own household form (a new version): our tablets get its compiled form,
    # Collect its XForm with the entity declaration, and a Collect submission made with it lands.
    upload = dataclasses.replace(builtin.HOUSEHOLD_SURVEY, version="2026.3").to_xlsx()
    city = login(make_person("city"))
    published = client.post("/api/v1/forms", headers=city, data={"file": (io.BytesIO(upload), "household.xlsx")},
                            content_type="multipart/form-data")
    assert published.status_code == 201, published.json
    compiled = client.get("/api/v1/forms/household_survey/versions/2026.3", headers=city).json
    assert [f["record_field"] for f in compiled["fields"]][:2] == ["head_name", "phone"]
    device = collect([area["a"]])
    assert device.form_list()["household_survey"]["version"] == "2026.3"
    household = area["households"][area["a"].code][1]
    row = device.entity("households", household.id)
    answer = device.submit(instance(device.xform(HOUSEHOLD), _household_answers(row, **{"household/phone": "13955555555"}),
                                    entity=_update(row)))
    assert answer.status_code == 201, message(answer)
    assert device.entity("households", household.id)["phone"] == "13955555555"


def test_a_version_published_before_its_entities_gets_the_new_xform_not_a_new_meaning(session, forms):
    from server.forms import queries as form_queries
    from server.forms import service as forms_service

    row = form_queries.version(session, HOUSEHOLD, "2026.1")
    compiled_before, xform_now = row.compiled, row.xform
    row.xform = xform_now.replace(' entities:entities-version="2024.1.0"', "")  # as published before entities
    session.flush()
    forms_service.publish_builtin(session)
    session.refresh(row)
    assert row.xform == xform_now and row.compiled == compiled_before


def test_a_visit_picks_its_child_and_a_file_that_is_no_photo_is_refused(collect, area, session):
    device = collect([area["a"]])
    child = area["children"][area["a"].code][0]
    xform = device.xform("followup_visit")
    answers = {"child_pick": str(child.id), "visitors": "张老师、李主任", "visit_date": "2026-05-28",
               "outcome": "persuaded", "next_step": "revisit", "visit_photo": "visit.png"}
    refused = device.submit(instance(xform, answers), {"visit.png": b"<html>not a photo</html>"})
    assert refused.status_code == 415 and "附件只能是照片" in message(refused)
    answer = device.submit(instance(xform, answers), {"visit.png": PNG})
    assert answer.status_code == 201, message(answer)
    visit = session.execute(text("SELECT child_id, visitors, outcome FROM visits WHERE child_id = :id"),
                            {"id": child.id}).one()
    assert tuple(visit) == (child.id, "张老师、李主任", "persuaded")
    empty = device.client.post(f"{device.base}/submission", data={}, content_type="multipart/form-data")
    assert empty.status_code == 400 and "xml_submission_file" in message(empty)


def test_the_integrity_url_tells_which_held_entities_left_the_list(collect, area, session):
    device = collect([area["a"]])
    assert device.media("household_survey")["households.csv"]["integrityUrl"].endswith(
        "/entity-lists/households/integrity")
    mine, elsewhere = area["households"][area["a"].code]
    other_village = area["households"][area["c"].code][0]
    session.execute(text("UPDATE households SET village_code = :v WHERE id = :id"),
                    {"v": area["c"].code, "id": elsewhere.id})  # moved out of the tablet's villages
    ids = ",".join([str(mine.id), str(elsewhere.id), str(other_village.id), "not-a-uuid"])
    response = device.get(f"{device.base}/entity-lists/households/integrity?id={ids}")
    assert response.status_code == 200
    import xml.etree.ElementTree as ET  # noqa: S405 - our own answer

    deleted = {e.get("id"): e.findtext("deleted") for e in ET.fromstring(response.data).iter("entity")}
    assert deleted == {str(mine.id): "false", str(elsewhere.id): "true", str(other_village.id): "true",
                       "not-a-uuid": "true"}
