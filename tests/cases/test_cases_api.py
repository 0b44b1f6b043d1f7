"""Cases over HTTP: opening, scope, transitions with who/when, overdue, visits, support plans."""

import datetime as dt
import re

from sqlalchemy import text

from server.cases.models import CaseEvent
from server.people.models import Household
from server.visits.models import Visit

SHA = "sha256:" + "b" * 64


def _open(client, login, person):
    response = client.post("/api/v1/cases/open", headers=login(person))
    assert response.status_code == 200, response.json
    return response.json


def test_cases_open_as_children_are_confirmed_out_of_school(client, login, town_cases):
    supervisor = town_cases["people"]["supervisor"]
    # The database opened them when the statuses were written: the service finds nothing to do.
    assert _open(client, login, supervisor)["opened"] == 0
    listed = client.get("/api/v1/cases", headers=login(supervisor)).json
    names = {c["child_name"] for c in listed["items"]}
    assert names == {"王小明", "王小红"}
    # Opened with the 劝返复学 deadline, which has passed on the pinned day: both overdue.
    assert {c["due_on"] for c in listed["items"]} == {"2027-06-30"}
    assert all(c["overdue"] for c in listed["items"])
    # A team leader sees the same village's cases; the city sees the other town's too.
    assert client.get("/api/v1/cases", headers=login(town_cases["people"]["leader"])).json["total"] == 2
    assert client.get("/api/v1/cases", headers=login(town_cases["people"]["city"])).json["total"] >= 3


def test_opening_by_the_service_is_idempotent_and_scoped(client, login, town_cases, session, make_child):
    """For children confirmed before the trigger existed (an upgraded database)."""
    session.execute(text("ALTER TABLE children DISABLE TRIGGER children_open_case"))
    make_child(name="旧数据", enrollment_status="dropped_out")  # a village of another town
    late = make_child(session.get(Household, town_cases["kids"]["enrolled"].household_id), name="后确认", enrollment_status="never_enrolled")
    session.execute(text("ALTER TABLE children ENABLE TRIGGER children_open_case"))
    supervisor = town_cases["people"]["supervisor"]
    first = _open(client, login, supervisor)
    assert first["opened"] == 1  # only the one in this town
    assert _open(client, login, supervisor)["opened"] == 0
    detail = client.get(f"/api/v1/cases/{first['case_ids'][0]}", headers=login(supervisor)).json
    assert detail["child_id"] == str(late.id) and detail["events"][0]["to_status"] == "identified"
    city = town_cases["people"]["city"]
    assert _open(client, login, city)["opened"] == 1
    assert _open(client, login, city)["opened"] == 0


def test_the_ladder_with_events_and_overdue_filter(client, login, town_cases, session):
    supervisor = town_cases["people"]["supervisor"]
    headers = login(supervisor)
    _open(client, login, supervisor)
    case = next(c for c in client.get("/api/v1/cases", headers=headers).json["items"] if c["child_name"] == "王小明")
    url = f"/api/v1/cases/{case['id']}/transitions"

    refused = client.post(url, json={"to": "escalated", "deadline": "2027-07-08"}, headers=headers)
    assert refused.status_code == 409 and refused.json["code"] == "cases.transition_not_allowed"

    assert client.post(url, json={"to": "persuading", "note": "第一次走访"}, headers=headers).status_code == 200
    missing = client.post(url, json={"to": "escalated"}, headers=headers)
    assert missing.status_code == 422 and missing.json["errors"][0]["code"] == "cases.deadline_required"
    escalated = client.post(url, json={"to": "escalated", "deadline": "2027-07-08"}, headers=headers).json
    assert escalated["status"] == "escalated" and escalated["due_on"] == "2027-07-08"
    assert escalated["overdue"] is False
    assert [e["to_status"] for e in escalated["events"]] == ["identified", "persuading", "escalated"]
    assert escalated["events"][-1]["person_id"] == supervisor.id and escalated["events"][-1]["at"]

    overdue = client.get("/api/v1/cases?overdue=true", headers=headers).json
    assert [c["child_name"] for c in overdue["items"]] == ["王小红"]
    not_overdue = client.get("/api/v1/cases?overdue=false&status=escalated", headers=headers).json
    assert [c["child_name"] for c in not_overdue["items"]] == ["王小明"]
    assert session.query(CaseEvent).filter_by(case_id=case["id"]).count() == 3


def test_a_school_confirms_returns_to_itself_only(client, login, town_cases, session):
    people, kids = town_cases["people"], town_cases["kids"]
    _open(client, login, people["supervisor"])
    case = next(c for c in client.get("/api/v1/cases", headers=login(people["school"])).json["items"]
                if c["child_name"] == "王小明")
    url = f"/api/v1/cases/{case['id']}/transitions"
    body = {"to": "returned", "school_id": town_cases["school"].id, "return_date": "2027-07-01"}
    # Another school's student's case is not the other school's to see, let alone confirm.
    wrong = client.post(url, json=body, headers=login(people["other_school"]))
    assert wrong.status_code == 404 and wrong.json["code"] == "request.not_found"
    leader = client.post(url, json=body, headers=login(people["leader"]))
    assert leader.status_code == 403
    done = client.post(url, json=body, headers=login(people["school"]))
    assert done.status_code == 200, done.json
    assert done.json["status"] == "returned" and done.json["closed_at"] and done.json["overdue"] is False
    session.refresh(kids["dropout"])
    assert kids["dropout"].enrollment_status == "enrolled"
    # Closed: the child may get a new case later, but this one moves no more.
    again = client.post(url, json={"to": "persuading"}, headers=login(people["supervisor"]))
    assert again.status_code == 409


def test_exemption_needs_evidence_and_updates_the_child(client, login, town_cases, session):
    people, kids = town_cases["people"], town_cases["kids"]
    headers = login(people["leader"])
    _open(client, login, people["supervisor"])
    case = next(c for c in client.get("/api/v1/cases", headers=headers).json["items"] if c["child_name"] == "王小红")
    url = f"/api/v1/cases/{case['id']}/transitions"
    no_photo = client.post(url, json={"to": "exempted", "reason": "illness"}, headers=headers)
    assert no_photo.status_code == 422 and no_photo.json["errors"][0]["code"] == "cases.evidence_required"
    ok = client.post(url, json={"to": "exempted", "reason": "illness", "evidence": SHA}, headers=headers)
    assert ok.status_code == 200, ok.json
    session.refresh(kids["never"])
    assert (kids["never"].enrollment_status, kids["never"].certificate_photo) == ("sick_deferral", SHA)


def test_visits_and_support_plans_attach_to_the_case(client, login, town_cases, session):
    people, kids = town_cases["people"], town_cases["kids"]
    child = kids["dropout"]
    session.add(Visit(child_id=child.id, household_id=child.household_id, village_code=child.village_code,
                      visit_date=dt.date(2027, 6, 15), outcome="refused", visitors="李老师, 村主任张某"))
    session.flush()
    _open(client, login, people["supervisor"])
    headers = login(people["leader"])
    case = next(c for c in client.get("/api/v1/cases", headers=headers).json["items"] if c["child_name"] == "王小明")
    plan = client.post(f"/api/v1/cases/{case['id']}/support-plans", headers=headers,
                       json={"measures": ["减免住宿费", "结对帮扶教师每周家访"], "responsible_name": "李老师",
                             "review_on": "2027-09-15"})
    assert plan.status_code == 201, plan.json
    detail = client.get(f"/api/v1/cases/{case['id']}", headers=headers).json
    assert [v["visitors"] for v in detail["visits"]] == ["李老师, 村主任张某"]
    assert detail["support_plans"][0]["measures"] == ["减免住宿费", "结对帮扶教师每周家访"]
    assert "exempted" in detail["allowed_next"]
    # What the server writes on the timeline (the case opened, the plan made) reads in Chinese,
    # as the steps people take do.
    notes = [e["note"] for e in detail["events"] if e["note"]]
    assert notes[0] == "确认失学辍学，建档立案" and "制定帮扶方案（一生一案）" in notes, notes
    assert all(re.search(r"[\u4e00-\u9fff]", note) for note in notes), notes


def test_other_towns_cases_are_not_found(client, login, town_cases):
    _open(client, login, town_cases["people"]["city"])
    city = client.get("/api/v1/cases", headers=login(town_cases["people"]["city"])).json["items"]
    elsewhere = next(c for c in city if c["town_code"] != town_cases["town"].code)
    response = client.get(f"/api/v1/cases/{elsewhere['id']}", headers=login(town_cases["people"]["supervisor"]))
    assert response.status_code == 404
