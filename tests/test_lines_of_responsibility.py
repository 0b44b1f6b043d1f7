"""Issue 12 item 6: scopes that follow the campaign's lines of responsibility.

Each test does what a user did to reach beyond their line, through the API:
- a school read a sibling's dropout reason on the map's household card, listed its town's
  children on the map layer, read every team's visit list and other children's cases;
- a government-line team leader issued an enrollment code for the school-line team's leader
  (whose tablet's manifest then named that person) and rebuilt and exported that team's list.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from server.accounts.models import Team, team_members, team_villages
from server.cases.models import Case
from server.devices import service as devices
from server.devices.models import Device, EnrollmentCode
from server.maps.models import Task

V = "/api/v1"


def _case(session, child):
    case = session.scalar(select(Case).where(Case.child_id == child.id))
    if case is None:  # the trigger opens one when a campaign is active; else as it would
        case = Case(child_id=child.id, village_code=child.village_code, status="identified",
                    opened_from=child.enrollment_status)
        session.add(case)
        session.flush()
    return case


@pytest.fixture
def town(make_town, make_village, make_household, make_child, make_school, session):
    town = make_town(name="一镇")
    village = make_village(town)
    school = make_school(town)
    home = make_household(village, location="SRID=4326;POINT(120.41 32.51)", location_approximate=False)
    other_home = make_household(village, location="SRID=4326;POINT(120.42 32.52)", location_approximate=False)
    student = make_child(home, name="本校学生", enrollment_status="dropped_out", school_id=school.id,
                         dropout_reason="weary_of_study")
    sibling = make_child(home, name="兄弟姐妹", enrollment_status="dropped_out", dropout_reason="early_marriage")
    neighbour = make_child(other_home, name="邻家孩子", enrollment_status="dropped_out", dropout_reason="working")
    return {"town": town, "village": village, "school": school, "home": home, "other_home": other_home,
            "student": student, "sibling": sibling, "neighbour": neighbour,
            "cases": {k: _case(session, c) for k, c in (("student", student), ("sibling", sibling),
                                                         ("neighbour", neighbour))}}


def test_a_school_sees_its_own_students_and_their_cases_only(town, make_person, login, client, session):
    school = login(make_person("school", school=town["school"]))
    team = make_person("team_leader", villages=[town["village"]], line="government")
    team_id = session.scalar(select(team_members.c.team_id).where(team_members.c.person_id == team.id))

    card = client.get(f"{V}/maps/households/{town['home'].id}", headers=school)
    assert card.status_code == 200
    assert [c["name"] for c in card.json["children"]] == ["本校学生"]
    assert "dropout_reason" not in card.json["children"][0]
    assert client.get(f"{V}/maps/households/{town['other_home'].id}", headers=school).status_code == 404

    layer = client.get(f"{V}/maps/children", headers=school).json
    assert [f["properties"]["name"] for f in layer["features"]] == ["本校学生"]
    points = client.get(f"{V}/maps/households", headers=school).json
    assert [f["id"] for f in points["features"]] == [str(town["home"].id)]
    assert points["features"][0]["properties"]["out_of_school"] == 1  # its student, not the sibling

    children = client.get(f"{V}/children?page_size=100", headers=school).json
    assert [c["name"] for c in children["items"]] == ["本校学生"]
    assert client.get(f"{V}/children/{town['sibling'].id}", headers=school).status_code == 404

    cases = client.get(f"{V}/cases?page_size=100", headers=school).json
    assert [c["id"] for c in cases["items"]] == [town["cases"]["student"].id]
    assert client.get(f"{V}/cases/{town['cases']['neighbour'].id}", headers=school).status_code == 404

    assert client.get(f"{V}/teams/{team_id}/tasks", headers=school).status_code == 404
    rates = client.get(f"{V}/reports/rates?by=school", headers=school)
    assert rates.status_code == 200
    assert [(r["code"], r["school_age"]) for r in rates.json["rows"]] == [(town["school"].code, 1)]


def test_a_school_confirms_a_return_naming_it_but_not_another_schools_case(town, make_person, make_school,
                                                                         login, client, session):
    own = login(make_person("school", school=town["school"]))
    elsewhere = login(make_person("school", school=make_school(town["town"])))
    today = dt.date.today().isoformat()
    body = {"to": "returned", "school_id": town["school"].id, "return_date": today}
    case_id = town["cases"]["student"].id
    assert client.post(f"{V}/cases/{case_id}/transitions", headers=elsewhere, json=body).status_code == 404
    assert client.post(f"{V}/cases/{case_id}/transitions", headers=own, json=body).status_code == 200
    # Returned to it, the case stays the school's to read.
    assert client.get(f"{V}/cases/{case_id}", headers=own).status_code == 200


@pytest.fixture
def two_lines(town, make_person, session):
    """The government-line and the school-line team over the same village, each with a leader and a surveyor."""
    out = {}
    for line in ("government", "school"):
        leader = make_person("team_leader", villages=[town["village"]], line=line)
        team_id = session.scalar(select(team_members.c.team_id).where(team_members.c.person_id == leader.id))
        surveyor = make_person("surveyor", line=line)
        session.execute(team_members.insert().values(team_id=team_id, person_id=surveyor.id))
        session.flush()
        out[line] = {"leader": leader, "surveyor": surveyor, "team": session.get(Team, team_id)}
    return out


def test_a_team_leader_manages_only_the_team_it_leads(two_lines, town, make_person, login, client, session):
    gov, other = two_lines["government"], two_lines["school"]
    leader = login(gov["leader"])

    # An enrollment code for the other line's leader: refused like an unknown id, no code made.
    refused = client.post(f"{V}/devices/enrollment-codes", headers=leader, json={"surveyor_id": other["leader"].id})
    assert refused.status_code == 422
    assert session.scalar(select(EnrollmentCode).where(EnrollmentCode.person_id == other["leader"].id)) is None
    issued = client.post(f"{V}/devices/enrollment-codes", headers=leader, json={"surveyor_id": gov["surveyor"].id})
    assert issued.status_code == 201
    listed = client.get(f"{V}/devices/surveyors", headers=leader).json
    assert {p["id"] for p in listed} == {gov["leader"].id, gov["surveyor"].id}

    # The other team's visit list: neither rebuilt, nor exported, nor read.
    team_id = other["team"].id
    assert client.post(f"{V}/teams/{team_id}/tasks/generate", headers=leader, json={}).status_code == 404
    assert session.scalar(select(Task).where(Task.team_id == team_id)) is None
    assert client.get(f"{V}/teams/{team_id}/tasks.gpx", headers=leader).status_code == 404
    assert client.get(f"{V}/teams/{team_id}/tasks", headers=leader).status_code == 404
    own = client.post(f"{V}/teams/{gov['team'].id}/tasks/generate", headers=leader, json={})
    assert own.status_code == 200 and own.json

    # The other team's tablet: not revoked.
    code, _ = devices.issue_code(session, other["leader"], _scope(session, other["leader"]), other["surveyor"].id,
                                 dt.timedelta(hours=1))
    device, _token = devices.enroll(session, code, "学校线平板", "test", dt.timedelta(days=30))
    assert client.post(f"{V}/devices/{device.id}/revoke", headers=leader).status_code == 404
    assert session.get(Device, device.id).revoked_at is None
    assert str(device.id) not in {d["device_id"] for d in client.get(f"{V}/devices", headers=leader).json}


def test_a_surveyor_manages_nothing_and_a_town_supervisor_its_towns_teams(two_lines, town, make_person, login,
                                                                         make_town, make_village, client, session):
    surveyor = login(two_lines["government"]["surveyor"])
    team_id = two_lines["government"]["team"].id
    assert client.post(f"{V}/devices/enrollment-codes", headers=surveyor,
                       json={"surveyor_id": two_lines["government"]["surveyor"].id}).status_code == 403
    assert client.get(f"{V}/teams/{team_id}/tasks", headers=surveyor).status_code == 200  # its own list

    supervisor = login(make_person("town_supervisor", town=town["town"]))
    for line in ("government", "school"):
        assert client.post(f"{V}/devices/enrollment-codes", headers=supervisor,
                           json={"surveyor_id": two_lines[line]["leader"].id}).status_code == 201
        assert client.post(f"{V}/teams/{two_lines[line]['team'].id}/tasks/generate", headers=supervisor,
                           json={}).status_code == 200
    far = make_town(name="二镇")
    far_team = Team(name="二镇工作组", town_code=far.code, line="government")
    session.add(far_team)
    session.flush()
    session.execute(team_villages.insert().values(team_id=far_team.id, village_code=make_village(far).code))
    assert client.post(f"{V}/teams/{far_team.id}/tasks/generate", headers=supervisor, json={}).status_code == 404
    assert client.post(f"{V}/towns/{far.code}/tasks/generate", headers=supervisor).status_code == 404


def _scope(session, person):
    from server.accounts.scope import scope_of

    return scope_of(session, person)


def test_a_case_naming_a_school_for_the_return_is_before_that_school_until_it_confirms(
        town, make_person, make_school, login, client, session):
    case_id = town["cases"]["neighbour"].id  # a child of no school
    school = login(make_person("school", school=town["school"]))
    assert client.get(f"{V}/cases/{case_id}", headers=school).status_code == 404
    leader = login(make_person("team_leader", villages=[town["village"]], line="school"))
    named = client.post(f"{V}/cases/{case_id}/return-school", headers=leader,
                        json={"school_id": town["school"].id, "note": "家长说已回校"})
    assert named.status_code == 200 and named.json["status"] == "identified"
    assert client.get(f"{V}/cases/{case_id}", headers=school).status_code == 200
    # The child is not its student yet: its record stays out of reach until the return is confirmed.
    assert client.get(f"{V}/children/{town['neighbour'].id}", headers=school).status_code == 404
    done = client.post(f"{V}/cases/{case_id}/transitions", headers=school,
                       json={"to": "returned", "school_id": town["school"].id,
                             "return_date": dt.date.today().isoformat()})
    assert done.status_code == 200 and done.json["status"] == "returned"
    assert client.get(f"{V}/children/{town['neighbour'].id}", headers=school).status_code == 200
    assert client.post(f"{V}/cases/{case_id}/return-school", headers=school,
                       json={"school_id": town["school"].id}).status_code == 403
