"""The contract end to end through the HTTP API: enroll, manifest, pull, push, merge."""

import uuid

from sync.scope_hash import scope_hash


def test_enroll_manifest_and_first_pull_of_the_scope_only(client, forms, area, enroll):
    tablet = enroll([area["a"]])
    manifest = tablet.get("/sync/manifest").json
    assert [v["code"] for v in manifest["villages"]] == [area["a"].code]
    assert {f["form_id"] for f in manifest["forms"]} == {"household_survey", "child_survey", "followup_visit"}
    changes, cursor, hash_ = tablet.pull_all(limit=3)
    records = [c["record"] for c in changes if c["op"] == "upsert"]
    assert {r["village_code"] for r in records} == {area["a"].code}
    assert len(records) == 4  # 2 households + 2 children of village A
    assert hash_ == scope_hash((r["type"], r["id"], r["version"]) for r in records)
    child = next(r for r in records if r["type"] == "child")
    # No ID number nor any part of one on a tablet: its status only (sync-contract.md).
    assert "id_number" not in child["fields"] and child["fields"]["id_number_status"] == "on_file"


def test_push_applies_and_the_next_pull_brings_the_new_version(client, forms, area, enroll):
    tablet = enroll([area["a"]])
    changes, cursor, _ = tablet.pull_all()
    child = next(c["record"] for c in changes if c["record"]["type"] == "child")
    receipt, = tablet.push(tablet.submission("child", child["id"], {"enrollment_status": "dropped_out",
                                                                    "dropout_reason": "weary_of_study"},
                                             base_version=child["version"], household_id=child["household_id"],
                                             village_code=child["village_code"]))
    assert receipt["status"] == "applied", receipt
    assert receipt["record"]["version"] == child["version"] + 1
    later, _, hash_ = tablet.pull_all(cursor)
    assert [c["record"]["id"] for c in later] == [child["id"]]
    assert later[0]["record"]["fields"]["enrollment_status"] == "dropped_out"


def test_two_tablets_same_field_different_values_make_a_conflict(client, forms, area, enroll):
    one, two = enroll([area["a"]]), enroll([area["a"]], line="school")
    changes, _, _ = one.pull_all()
    child = next(c["record"] for c in changes if c["record"]["type"] == "child")
    common = {"base_version": child["version"], "household_id": child["household_id"],
              "village_code": child["village_code"]}
    first, = one.push(one.submission("child", child["id"], {"enrollment_status": "dropped_out"}, **common))
    second, = two.push(two.submission("child", child["id"], {"enrollment_status": "enrolled",
                                                             "school_name": "海安市城东镇中心小学"}, **common))
    assert first["status"] == "applied" and second["status"] == "conflict"
    conflict = second["conflicts"][0]
    assert conflict["field"] == "enrollment_status"
    assert {v["value"] for v in conflict["values"]} == {"dropped_out", "enrolled"}
    record = next(c["record"] for c in one.pull_all()[0] if c["record"]["id"] == child["id"])
    assert record["conflicts"][0]["field"] == "enrollment_status"
    assert record["fields"]["school_name"] == "海安市城东镇中心小学"


def test_same_submission_twice_same_receipt_and_reused_id_refused(client, forms, area, enroll):
    tablet = enroll([area["a"]])
    household = area["households"][area["a"].code][0]
    submission = tablet.submission("household", household.id, {"survey_status": "visited"}, base_version=1,
                                   village_code=area["a"].code)
    first, = tablet.push(submission)
    again, = tablet.push(submission)
    assert again == first
    changed = dict(submission, record=dict(submission["record"], fields={"survey_status": "confirmed"}))
    reused, = tablet.push(changed)
    assert reused["status"] == "rejected" and reused["errors"][0]["code"] == "sync.submission_id_reused"
    record = next(c["record"] for c in tablet.pull_all()[0] if c["record"]["id"] == str(household.id))
    assert record["fields"]["survey_status"] == "visited" and record["version"] == 2


def test_out_of_scope_write_is_refused_alone(client, forms, area, enroll):
    tablet = enroll([area["a"]])
    inside = area["households"][area["a"].code][0]
    outside = area["households"][area["c"].code][0]
    bad, good = tablet.push(
        tablet.submission("household", outside.id, {"survey_status": "visited"}, base_version=1,
                          village_code=area["c"].code),
        tablet.submission("household", inside.id, {"survey_status": "visited"}, base_version=1,
                          village_code=area["a"].code))
    assert bad["status"] == "rejected" and bad["errors"][0]["code"] == "sync.out_of_scope"
    assert good["status"] == "applied"


def test_new_child_and_unknown_reference(client, forms, area, enroll):
    tablet = enroll([area["a"]])
    household = area["households"][area["a"].code][0]
    child_id = uuid.uuid4()
    fields = {"name": "新生儿", "gender": "F", "birth_date": "2015-05-01", "enrollment_status": "never_enrolled",
              "dropout_reason": "poverty", "dropout_reason_note": "家庭困难", "disability": False,
              "left_behind": False, "migrant": False}
    visit, = tablet.push(tablet.submission("visit", uuid.uuid4(), {
        "visitors": "王老师", "visit_date": "2027-06-12", "outcome": "refused", "next_step": "revisit",
        "deadline": "2027-06-20"}, child_id=child_id))
    assert visit["status"] == "rejected" and visit["errors"][0]["code"] == "sync.unknown_reference"
    created, = tablet.push(tablet.submission("child", child_id, fields, household_id=household.id,
                                             village_code=area["a"].code))
    assert created["status"] == "applied" and created["record"]["version"] == 1


def test_bad_field_values_name_the_field(client, forms, area, enroll):
    tablet = enroll([area["a"]])
    household = area["households"][area["a"].code][0]
    receipt, = tablet.push(tablet.submission("household", household.id, {"survey_status": "bogus", "colour": 1},
                                             base_version=1, village_code=area["a"].code))
    assert receipt["status"] == "rejected"
    assert {(e["field"], e["code"]) for e in receipt["errors"]} >= {("survey_status", "form.choice"),
                                                                    ("colour", "form.unknown_field")}


def test_household_points_travel_as_located_or_approximate(client, forms, area, enroll):
    tablet = enroll([area["a"]])
    changes, _, _ = tablet.pull_all()
    households = {c["record"]["id"]: c["record"]["fields"] for c in changes if c["record"]["type"] == "household"}
    surveyed, approximate = (households[str(h.id)] for h in area["households"][area["a"].code])
    assert surveyed["location"] == {"lat": 32.5102, "lon": 120.4101, "accuracy_m": 6.0}
    assert surveyed["approximate_location"] is None
    assert approximate["location"] is None and approximate["approximate_location"]["lat"] == 32.51
    household = area["households"][area["a"].code][1]
    receipt, = tablet.push(tablet.submission("household", household.id, {
        "location": {"lat": 32.5123, "lon": 120.4156, "accuracy_m": 4}, "survey_status": "visited"}, base_version=1))
    assert receipt["status"] == "applied", receipt
    record = next(c["record"] for c in tablet.pull_all()[0] if c["record"]["id"] == str(household.id))
    assert record["fields"]["location"] == {"lat": 32.5123, "lon": 120.4156, "accuracy_m": 4}
    assert record["fields"]["approximate_location"] is None


def test_a_conflict_that_keeps_the_value_still_reaches_tablets_that_already_pulled(client, forms, area, enroll):
    one, two = enroll([area["a"]]), enroll([area["a"]], line="school")
    changes, _, _ = one.pull_all()
    child = next(c["record"] for c in changes if c["record"]["type"] == "child")
    common = {"base_version": child["version"], "household_id": child["household_id"],
              "village_code": child["village_code"]}
    early = "2020-01-01T08:00:00+08:00"  # captured before the first edit: `latest` keeps the first value
    one.push(one.submission("child", child["id"], {"enrollment_status": "dropped_out"}, **common))
    _, cursor, _ = one.pull_all()
    receipt, = two.push(two.submission("child", child["id"], {"enrollment_status": "enrolled"}, **common,
                                       captured_at=__import__("datetime").datetime.fromisoformat(early)))
    assert receipt["status"] == "conflict"
    later, _, _ = one.pull_all(cursor)
    record = next(c["record"] for c in later if c["record"]["id"] == child["id"])
    assert record["fields"]["enrollment_status"] == "dropped_out"
    assert [c["field"] for c in record["conflicts"]] == ["enrollment_status"]


def test_the_database_made_envelope_says_what_the_python_one_says(client, session, vault, forms, area, enroll):
    """Pulls build records in SQL for speed; merges read them in Python: both must agree."""
    import json as _json

    from server.sync import queries, records, service

    tablet = enroll([area["a"]])
    household = area["households"][area["a"].code][0]
    child = area["children"][area["a"].code][0]
    tablet.push(tablet.submission("household", household.id, {"vulnerable_family_types": ["poor"], "notes": "“引号”\n换行"},
                                  base_version=1))
    visit_id = uuid.uuid4()
    tablet.push(tablet.submission("visit", visit_id, {"visitors": "王老师", "visit_date": "2026-06-12",
                                                      "outcome": "refused", "next_step": "revisit",
                                                      "visit_photo": "sha256:" + "b" * 64}, child_id=child.id))
    for record_type, record_id in [("household", household.id), ("child", child.id), ("visit", visit_id),
                                   ("household", area["households"][area["a"].code][1].id)]:
        row = queries.rows_of(session, record_type, [record_id])[record_id]
        python = records.envelope(record_type, row, [])
        made = _json.loads(service._upserts(session, [(record_type, record_id)])[(record_type, record_id)])
        python = _json.loads(_json.dumps(python))
        # The same instant may be written with or without trailing zeros in its fraction.
        for record in (made, python):
            record["updated_at"] = __import__("datetime").datetime.fromisoformat(record["updated_at"])
        assert made == python, record_type


def test_the_database_computes_the_contract_scope_hash(session, area):
    from server.sync import queries
    from sync.scope_hash import scope_hash

    villages = [area["a"].code, area["b"].code]
    expected = scope_hash((t, str(i), v) for t, i, v in queries.scope_versions(session, villages))
    assert queries.combine_hashes(queries.village_hashes(session, villages).values()) == expected != "0" * 32
    assert queries.combine_hashes(queries.village_hashes(session, []).values()) == "0" * 32


def test_each_village_hash_xored_is_the_scope_hash(session, area):
    from server.sync import queries
    from sync.scope_hash import scope_hash

    villages = [area["a"].code, area["b"].code, "320685999999"]  # the last has no records
    halves = queries.village_hashes(session, villages)
    assert halves["320685999999"] == (0, 0)
    for village in villages[:2]:
        alone = scope_hash((t, str(i), v) for t, i, v in queries.scope_versions(session, [village]))
        assert queries.combine_hashes([halves[village]]) == alone != "0" * 32
    both = scope_hash((t, str(i), v) for t, i, v in queries.scope_versions(session, villages[:2]))
    assert queries.combine_hashes(halves.values()) == both

