"""Fixtures for the tablet contract: a small county, published forms, enrolled tablets."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

import pytest

from server.forms import service as forms_service

_seq = itertools.count(1)


@pytest.fixture
def forms(session):
    """The built-in forms, published (as scripts/run.sh does)."""
    rows = forms_service.publish_builtin(session)
    session.flush()
    return {r.form_id: r for r in rows}


@pytest.fixture
def area(make_town, make_village, make_household, make_child):
    """One town with two villages (A, B) and a third village (C) in another town."""
    town = make_town()
    a, b = make_village(town), make_village(town)
    c = make_village(make_town())
    # one household per village with a surveyed GPS point, one still at its village centroid
    households = {v.code: [make_household(v, location="SRID=4326;POINT(120.4101 32.5102)", location_approximate=False,
                                          location_accuracy_m=6.0),
                           make_household(v, location="SRID=4326;POINT(120.41 32.51)")]
                  for v in (a, b, c)}
    children = {v.code: [make_child(h, enrollment_status="suspected_out_of_school") for h in households[v.code]]
                for v in (a, b, c)}
    return {"town": town, "a": a, "b": b, "c": c, "households": households, "children": children}


class Tablet:
    """A thin test driver of the contract's endpoints for one enrolled device."""

    def __init__(self, client, device_id: str, token: str):
        self.client, self.device_id, self.token = client, device_id, token
        self.headers = {"Authorization": f"Bearer {token}"}
        self.seq = 0

    def get(self, path, **kwargs):
        return self.client.get(f"/api/v1{path}", headers=self.headers, **kwargs)

    def post(self, path, json):
        return self.client.post(f"/api/v1{path}", headers=self.headers, json=json)

    def pull_all(self, cursor=None, limit=500):
        """Page to the end; return (changes, cursor, scope_hash)."""
        changes = []
        while True:
            query = {"limit": limit} | ({"cursor": cursor} if cursor else {})
            response = self.get("/sync/changes", query_string=query)
            assert response.status_code == 200, response.json
            body = response.json
            changes += body["changes"]
            cursor = body["cursor"]
            if not body["has_more"]:
                return changes, cursor, body["scope_hash"]

    def submission(self, record_type, record_id, fields, *, base_version=None, household_id=None, village_code=None,
                   form_id=None, captured_at=None, seq=None, child_id=None, attachments=()):
        if seq is None:
            self.seq += 1
            seq = self.seq
        form_id = form_id or {"household": "household_survey", "child": "child_survey",
                              "visit": "followup_visit"}[record_type]
        record = {"type": record_type, "id": str(record_id), "base_version": base_version,
                  "household_id": str(household_id) if household_id else None, "village_code": village_code,
                  "fields": fields}
        if child_id:
            record["child_id"] = str(child_id)
        return {"submission_id": str(uuid.uuid4()), "device_seq": seq, "form_id": form_id, "form_version": "2026.1",
                "captured_at": (captured_at or dt.datetime.now(dt.UTC)).isoformat(),
                "location": {"lat": 32.51, "lon": 120.41, "accuracy_m": 8}, "record": record,
                "attachments": list(attachments)}

    def push(self, *submissions):
        response = self.post("/sync/push", {"submissions": list(submissions)})
        assert response.status_code == 200, response.json
        return response.json["receipts"]


@pytest.fixture
def enroll(client, make_person, login):
    """Enroll a tablet for a new surveyor whose team covers `villages`."""

    def do(villages, line="government", issuer=None) -> Tablet:
        surveyor = make_person("surveyor", villages=villages, line=line)
        issuer_headers = login(issuer or make_person("city"))
        code = client.post("/api/v1/devices/enrollment-codes", headers=issuer_headers,
                           json={"surveyor_id": surveyor.id})
        assert code.status_code == 201, code.json
        enrolled = client.post("/api/v1/devices/enroll", json={
            "enrollment_code": code.json["enrollment_code"], "device_name": f"平板{next(_seq)}", "platform": "test"})
        assert enrolled.status_code == 200, enrolled.json
        tablet = Tablet(client, enrolled.json["device_id"], enrolled.json["token"])
        tablet.surveyor = surveyor
        return tablet

    return do
