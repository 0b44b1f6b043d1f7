"""The bureau's audit trail: reads of children's full records, exports, and every change, with
who, when and what; only the bureau reviews it."""

import datetime as dt


def _trail(client, headers, **query):
    response = client.get("/api/v1/audit-events", headers=headers, query_string=query)
    assert response.status_code == 200, response.json
    return response.json


def test_a_full_read_shows_in_the_trail_with_who_and_when(client, make_person, make_town, make_village,
                                                         make_household, make_child, login):
    town = make_town()
    child = make_child(make_household(make_village(town)))
    reader = make_person("town_supervisor", town=town)
    before = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    assert client.get(f"/api/v1/children/{child.id}", headers=login(reader)).status_code == 200
    trail = _trail(client, login(make_person("city")), action="read_child", subject_id=str(child.id))
    assert trail["total"] == 1
    entry = trail["items"][0]
    assert entry["person"]["id"] == reader.id and entry["person"]["full_name"] == reader.full_name
    assert entry["person"]["role"] == "town_supervisor"
    assert entry["subject_type"] == "child" and entry["source"] == "audit"
    assert dt.datetime.fromisoformat(entry["at"]) >= before


def test_changes_from_tablets_and_decisions_are_in_the_trail(client, area, enroll, forms, make_person, login):
    tablet = enroll([area["a"]])
    child = area["children"][area["a"].code][0]
    receipts = tablet.push(tablet.submission("child", str(child.id), {"enrollment_status": "enrolled",
                                                                      "school_name": "海安市实验小学", "grade": 3}))
    assert receipts[0]["status"] in ("applied", "merged"), receipts
    trail = _trail(client, login(make_person("city")), action="change", subject_id=str(child.id))
    pushed = [e for e in trail["items"] if e["source"] == "sync"]
    assert len(pushed) == 1
    assert pushed[0]["person"]["id"] == tablet.surveyor.id
    assert pushed[0]["device_id"] == tablet.device_id
    assert set(pushed[0]["detail"]["fields"]) >= {"enrollment_status", "school_name", "grade"}


def test_filters_by_person_and_time(client, make_person, make_town, make_village, make_household, make_child,
                                    login):
    town = make_town()
    child = make_child(make_household(make_village(town)))
    first, second = make_person("city"), make_person("town_supervisor", town=town)
    for person in (first, second, second):
        client.get(f"/api/v1/children/{child.id}", headers=login(person))
    bureau = login(make_person("city"))
    assert _trail(client, bureau, person_id=second.id, subject_id=str(child.id))["total"] == 2
    assert _trail(client, bureau, person_id=first.id, subject_id=str(child.id))["total"] == 1
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    assert _trail(client, bureau, since=future)["total"] == 0


def test_only_the_bureau_reviews_the_trail(client, make_person, make_town, login):
    town = make_town()
    for person in (make_person("town_supervisor", town=town), make_person("surveyor"), make_person("team_leader")):
        response = client.get("/api/v1/audit-events", headers=login(person))
        assert response.status_code == 403 and set(response.json) <= {"code", "message", "errors"}
    assert client.get("/api/v1/audit-events").status_code == 401


def test_a_bad_filter_names_the_field(client, make_person, login):
    headers = login(make_person("city"))
    response = client.get("/api/v1/audit-events?action=peek", headers=headers)
    assert response.status_code == 422
    assert any(e["field"] == "action" for e in response.json["errors"])
    response = client.get("/api/v1/audit-events?since=2027-01-02T00:00:00Z&until=2027-01-01T00:00:00Z",
                          headers=headers)
    assert response.status_code == 422 and any(e["field"] == "until" for e in response.json["errors"])
