"""What the API fuzz test (test_openapi_fuzz.py) found, pinned down one example each."""

from __future__ import annotations

import pytest

from server.db import INT4_MAX


@pytest.fixture
def city(make_person, login):
    return login(make_person("city"))


@pytest.mark.parametrize("path", ["/cases/{n}", "/imports/{n}", "/notices/{n}/pdf", "/reports/exports/{n}/xlsx",
                                  "/teams/{n}/tasks"])
def test_an_id_past_the_database_integer_is_no_such_resource(client, city, path):
    for n in (INT4_MAX, INT4_MAX + 1, 10**30):
        response = client.get("/api/v1" + path.format(n=n), headers=city)
        assert response.status_code == 404, (n, response.json)
        assert response.json["code"] == "request.not_found"


@pytest.mark.parametrize("path", ["/cases?page={n}", "/children?page={n}", "/audit-events?page={n}",
                                  "/audit-events?person_id={n}", "/imports/suspected-dropouts?register_import={n}",
                                  "/imports/register-not-in-roster?register_import={n}"])
def test_a_page_or_id_past_the_database_integer_is_refused(client, city, path):
    response = client.get("/api/v1" + path.format(n=INT4_MAX + 1), headers=city)
    assert response.status_code == 422, response.json
    assert response.json["code"] == "request.invalid"
    code = client.post("/api/v1/devices/enrollment-codes", headers=city, json={"surveyor_id": 10**12})
    assert code.status_code == 422 and code.json["errors"][0]["field"] == "surveyor_id", code.json


def test_text_with_a_nul_character_is_refused_by_field(client, city):
    response = client.post("/api/v1/auth/login", json={"username": "city\x00", "password": "x"})
    assert response.status_code == 422, response.json
    assert response.json["errors"][0]["field"] == "username"
    response = client.post("/api/v1/cases/1/support-plans", headers=city,
                           json={"measures": ["上门劝返", "\x00"], "responsible_name": "王老师"})
    assert response.status_code == 422, response.json
    assert [e["field"] for e in response.json["errors"]] == ["measures"]
    response = client.get("/api/v1/audit-events?subject_id=a%00", headers=city)
    assert response.status_code == 422, response.json


def test_a_nul_character_in_a_path_matches_no_route(client, city):
    for method, path in [("GET", "/villages/a%00"), ("GET", "/forms/a%00/versions/1"),
                         ("GET", "/forms/x/versions/a%00/xform"), ("POST", "/towns/a%00/tasks/generate"),
                         ("POST", "/forms/a%00/versions/1/retire")]:
        response = client.open("/api/v1" + path, method=method, headers=city)
        assert response.status_code == 404, (path, response.json)
        assert response.json["code"] == "request.not_found"


def test_a_conflict_resolved_with_text_holding_a_nul_character_is_refused(client, city, session, make_child):
    from server.forms import service as forms_service
    from server.sync.models import Conflict

    forms_service.publish_builtin(session)
    child = make_child()
    conflict = Conflict(record_type="child", record_id=child.id, village_code=child.village_code, field="guardian_name",
                        values=[{"value": "甲", "device_id": None, "captured_at": "2027-06-01T00:00:00Z"},
                                {"value": "乙", "device_id": None, "captured_at": "2027-06-01T00:00:00Z"}])
    session.add(conflict)
    session.flush()
    response = client.post(f"/api/v1/conflicts/{conflict.id}/resolve", headers=city, json={"value": "王\x00", "note": None})
    assert response.status_code == 422, response.json
    assert [(e["field"], e["code"]) for e in response.json["errors"]] == [("value", "form.nul_character")]
