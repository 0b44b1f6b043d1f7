"""Hostile bodies: read only after the token, capped, never a 500 (issue 13 items 1 and 7)."""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import TEST_PASSWORD

HUGE_HAVE = {"have": {f"child:{i:08d}-0000-4000-8000-000000000000": i for i in range(150_000)}}


def _spec_operations(client):
    spec = client.get("/api/openapi.json").json
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "delete", "patch") and operation.get("security"):
                yield path, method, operation


@pytest.mark.parametrize("endpoint", ["/api/v1/sync/repair", "/api/v1/sync/push"])
def test_a_huge_body_without_a_token_is_refused_before_it_is_read(client, endpoint):
    body = json.dumps(HUGE_HAVE | {"submissions": "not a list"})
    started = time.perf_counter()
    response = client.post(endpoint, data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 401 and response.json["code"] == "auth.missing_token"
    # Parsing and validating the 150,000 entries takes seconds; refusing at the door takes none.
    assert time.perf_counter() - started < 0.5


def test_changes_checks_the_token_before_its_query(client):
    response = client.get("/api/v1/sync/changes", query_string={"limit": "not a number"})
    assert response.status_code == 401 and response.json["code"] == "auth.missing_token"


def test_no_operation_that_needs_a_token_reads_its_body_first(client):
    """Every operation the OpenAPI document marks as needing a token answers 401 to a body that
    is not even JSON: a 400 or 422 would mean the body was parsed before the token was looked at."""
    checked = 0
    for path, method, _operation in _spec_operations(client):
        url = path.replace("{", "").replace("}", "")
        url = "/".join("1" if part in ("id", "import_id", "case_id", "export_id", "notice_id", "code_id",
                                       "conflict_id", "team_id", "z", "x", "y") else part
                       for part in url.split("/"))
        response = client.open(url, method=method.upper(), data=b"[" * 5000,
                               headers={"Content-Type": "application/json"},
                               query_string={"page": "x", "limit": "x"})
        assert response.status_code in (401, 404, 405), (method, path, response.status_code, response.json)
        if response.status_code == 401:
            checked += 1
    assert checked > 50


def test_repair_caps_the_have_map(client, forms, area, enroll):
    tablet = enroll([area["a"]])
    response = tablet.post("/sync/repair", json=HUGE_HAVE)
    assert response.status_code == 422 and response.json["code"] == "request.too_many_items"
    assert response.json["errors"][0]["field"] == "have"


def test_a_submission_naming_too_many_attachments_is_refused_alone(client, forms, area, enroll):
    import uuid

    tablet = enroll([area["a"]])
    household = area["households"][area["a"].code][0]
    many = [f"sha256:{i:064x}" for i in range(21)]
    bad = tablet.submission("household", household.id, {"head_name": "甲"}, base_version=1,
                            village_code=area["a"].code, attachments=many)
    good = tablet.submission("household", uuid.uuid4(), {"head_name": "乙"}, village_code=area["a"].code)
    receipts = tablet.push(bad, good)
    assert receipts[0]["status"] == "rejected" and receipts[0]["errors"][0]["field"] == "attachments"
    assert receipts[1]["status"] != "rejected"


def test_repeated_query_lists_are_capped(client, make_person, login):
    headers = login(make_person("city"))
    response = client.get("/api/v1/children", headers=headers,
                          query_string=[("status", "dropped_out")] * 101)
    assert response.status_code == 422 and response.json["code"] == "request.too_many_items"
    assert client.get("/api/v1/children", headers=headers,
                      query_string=[("status", "dropped_out")] * 3).status_code == 200


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"a":' * 100_000, b"[" * 40 + b"]" * 40])
def test_deeply_nested_json_is_a_400_before_and_after_login(client, make_person, body):
    person = make_person("city")
    for path in ("/api/v1/auth/login", "/api/v1/devices/enroll"):
        response = client.post(path, data=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400 and response.json["code"] == "request.malformed", path
    ok = client.post("/api/v1/auth/login", json={"username": person.username, "password": TEST_PASSWORD})
    headers = {"Authorization": f"Bearer {ok.json['token']}", "Content-Type": "application/json"}
    response = client.post("/api/v1/reports/exports", data=body, headers=headers)
    assert response.status_code == 400 and response.json["code"] == "request.malformed"
