"""People and teams (issue 15 item 2): the bureau creates accounts and teams, a town supervisor
manages its own town's teams' members and nobody else's; bad input is a 422 naming the field."""

from __future__ import annotations

from sqlalchemy import select

from server.accounts.models import AccessToken, Team, team_members, team_villages
from server.audit.models import AuditEvent

V = "/api/v1/staff"


def _fields(response):
    return {e["field"]: e["code"] for e in response.json["errors"]}


def _world(session, make_town, make_village, make_person):
    town_a, town_b = make_town(), make_town()
    va1, va2 = make_village(town_a), make_village(town_a)
    vb = make_village(town_b)
    team_a = Team(name="甲组", town_code=town_a.code, line="government")
    team_b = Team(name="乙组", town_code=town_b.code, line="government")
    session.add_all([team_a, team_b])
    session.flush()
    session.execute(team_villages.insert(), [{"team_id": team_a.id, "village_code": va1.code},
                                             {"team_id": team_b.id, "village_code": vb.code}])
    return {"town_a": town_a, "town_b": town_b, "va1": va1, "va2": va2, "vb": vb, "team_a": team_a, "team_b": team_b,
            "city": make_person("city"), "sup_a": make_person("town_supervisor", town=town_a),
            "sup_b": make_person("town_supervisor", town=town_b)}


def test_the_city_creates_an_account_with_a_generated_password_shown_once(client, session, login, make_town,
                                                                          make_village, make_person):
    w = _world(session, make_town, make_village, make_person)
    headers = login(w["city"])
    response = client.post(f"{V}/people", headers=headers, json={
        "username": "new.surveyor", "full_name": "王新", "role": "surveyor", "line": "government",
        "town_code": w["town_a"].code, "phone": "13800001111"})
    assert response.status_code == 201, response.json
    created = response.json
    assert created["town_name"] == w["town_a"].name and created["active"] is True
    password = created["initial_password"]
    assert len(password) >= 12
    assert client.post("/api/v1/auth/login", json={"username": "new.surveyor", "password": password}).status_code == 200
    event = session.scalar(select(AuditEvent).where(AuditEvent.subject_type == "person",
                                                    AuditEvent.subject_id == str(created["id"])))
    assert event.person_id == w["city"].id and event.detail["what"] == "create"
    assert password not in str(event.detail)
    # a password the city chose is not echoed
    response = client.post(f"{V}/people", headers=headers, json={
        "username": "sup.new", "full_name": "李督导", "role": "town_supervisor", "town_code": w["town_a"].code,
        "password": "a chosen password 1"})
    assert response.status_code == 201 and response.json["initial_password"] is None


def test_bad_accounts_are_422s_naming_the_field(client, session, login, make_town, make_village, make_person):
    w = _world(session, make_town, make_village, make_person)
    headers = login(w["city"])

    def post(**body):
        return client.post(f"{V}/people", headers=headers, json={"full_name": "某人", **body})

    taken = post(username=w["sup_a"].username.upper(), role="city")
    assert taken.status_code == 422 and _fields(taken) == {"username": "staff.username_taken"}
    assert _fields(post(username="x", role="city")).keys() == {"username"}
    assert _fields(post(username="ok_name", role="wizard")).keys() == {"role"}
    assert _fields(post(username="ok_name", role="town_supervisor")) == {"town_code": "staff.town_required"}
    assert _fields(post(username="ok_name", role="town_supervisor", town_code="999999999999")) == {
        "town_code": "staff.unknown_town"}
    assert _fields(post(username="ok_name", role="surveyor")) == {"line": "staff.line_required"}
    assert _fields(post(username="ok_name", role="school")) == {"school_id": "staff.unknown_school"}
    assert _fields(post(username="ok_name", role="city", phone="call me")).keys() == {"phone"}
    assert _fields(post(username="ok_name", role="city", password="short")) == {"password": "auth.weak_password"}
    assert _fields(post(username="ok_name", role="city", full_name="   ")).keys() == {"full_name"}
    assert _fields(client.post(f"{V}/people", headers=headers, json={})).keys() == {"username", "full_name", "role"}


def test_only_the_city_creates_accounts_and_a_supervisor_lists_its_own_town(client, session, login, make_town,
                                                                            make_village, make_person):
    w = _world(session, make_town, make_village, make_person)
    surveyor_b = make_person("surveyor", line="government")
    session.execute(team_members.insert().values(team_id=w["team_b"].id, person_id=surveyor_b.id))
    placed_a = make_person("surveyor", town=w["town_a"], line="government")
    headers = login(w["sup_a"])
    refused = client.post(f"{V}/people", headers=headers, json={"username": "sneaky", "full_name": "某",
                                                                "role": "city"})
    assert refused.status_code == 403
    listed = client.get(f"{V}/people?page_size=500", headers=headers).json
    names = {p["username"] for p in listed["items"]}
    assert {w["sup_a"].username, placed_a.username} <= names
    assert not names & {surveyor_b.username, w["sup_b"].username, w["city"].username}
    assert client.get(f"{V}/teams", headers=headers).json == [
        t for t in client.get(f"{V}/teams", headers=login(w["city"])).json if t["town_code"] == w["town_a"].code]


def test_deactivating_ends_every_login_and_a_reset_password_too(client, session, login, make_town, make_village,
                                                               make_person):
    w = _world(session, make_town, make_village, make_person)
    target = make_person("town_supervisor", town=w["town_a"])
    their = login(target)
    assert client.get("/api/v1/me", headers=their).status_code == 200
    city = login(w["city"])
    response = client.post(f"{V}/people/{target.id}/deactivate", headers=city)
    assert response.status_code == 200 and response.json == {"id": target.id, "active": False, "tokens_revoked": 1}
    assert client.get("/api/v1/me", headers=their).status_code == 401
    live = session.scalars(select(AccessToken).where(AccessToken.person_id == target.id,
                                                     AccessToken.revoked_at.is_(None))).all()
    assert live == []
    assert client.post("/api/v1/auth/login", json={"username": target.username,
                                                   "password": "correct horse battery"}).status_code == 401
    # the city cannot lock itself out
    own = client.post(f"{V}/people/{w['city'].id}/deactivate", headers=city)
    assert own.status_code == 422 and _fields(own) == {"person_id": "staff.not_yourself"}
    assert client.post(f"{V}/people/{target.id}/reactivate", headers=city).json["active"] is True
    theirs = login(target)
    reset = client.post(f"{V}/people/{target.id}/password", headers=city, json={})
    assert reset.status_code == 200 and len(reset.json["initial_password"]) >= 12
    assert client.get("/api/v1/me", headers=theirs).status_code == 401
    assert client.post("/api/v1/auth/login", json={"username": target.username,
                                                   "password": reset.json["initial_password"]}).status_code == 200
    weak = client.post(f"{V}/people/{target.id}/password", headers=city, json={"password": target.username})
    assert weak.status_code == 422 and _fields(weak) == {"password": "auth.weak_password"}
    assert client.post(f"{V}/people/999999/deactivate", headers=city).status_code == 404
    assert client.post(f"{V}/people/{target.id}/deactivate", headers=login(w["sup_a"])).status_code == 403


def test_the_city_creates_a_team_with_villages_of_its_town_only(client, session, login, make_town, make_village,
                                                               make_person):
    w = _world(session, make_town, make_village, make_person)
    city = login(w["city"])
    wrong = client.post(f"{V}/teams", headers=city, json={"name": "新组", "town_code": w["town_a"].code,
                                                         "line": "school", "village_codes": [w["vb"].code]})
    assert wrong.status_code == 422 and _fields(wrong) == {"village_codes": "staff.village_not_in_town"}
    assert _fields(client.post(f"{V}/teams", headers=city, json={"name": "新组", "town_code": w["town_a"].code,
                                                                "line": "both"})).keys() == {"line"}
    made = client.post(f"{V}/teams", headers=city, json={"name": "新组", "town_code": w["town_a"].code,
                                                        "line": "school", "village_codes": [w["va2"].code]})
    assert made.status_code == 201, made.json
    assert [v["code"] for v in made.json["villages"]] == [w["va2"].code] and made.json["leader"] is None
    both = client.put(f"{V}/teams/{made.json['id']}/villages", headers=city,
                      json={"village_codes": [w["va1"].code, w["va2"].code]})
    assert [v["code"] for v in both.json["villages"]] == sorted([w["va1"].code, w["va2"].code])
    assert client.put(f"{V}/teams/{made.json['id']}/villages", headers=login(w["sup_a"]),
                      json={"village_codes": []}).status_code == 403


def test_a_supervisor_manages_its_towns_team_members_and_not_another_towns(client, session, login, make_town,
                                                                          make_village, make_person):
    w = _world(session, make_town, make_village, make_person)
    surveyor = make_person("surveyor", town=w["town_a"], line="government")
    leader = make_person("team_leader", town=w["town_a"], line="government")
    school_line = make_person("surveyor", town=w["town_a"], line="school")
    elsewhere = make_person("surveyor", town=w["town_b"], line="government")
    sup = login(w["sup_a"])
    team_a, team_b = w["team_a"].id, w["team_b"].id

    added = client.post(f"{V}/teams/{team_a}/members", headers=sup, json={"person_id": surveyor.id})
    assert added.status_code == 200, added.json
    assert [m["id"] for m in added.json["members"]] == [surveyor.id]
    led = client.put(f"{V}/teams/{team_a}/leader", headers=sup, json={"person_id": leader.id})
    assert led.json["leader"]["id"] == leader.id and {m["id"] for m in led.json["members"]} == {surveyor.id, leader.id}
    # the surveyor is not a leader; the other line's surveyor; another town's surveyor
    assert _fields(client.put(f"{V}/teams/{team_a}/leader", headers=sup, json={"person_id": surveyor.id})) == {
        "person_id": "staff.not_joinable"}
    assert _fields(client.post(f"{V}/teams/{team_a}/members", headers=sup, json={"person_id": school_line.id})) == {
        "person_id": "staff.other_line"}
    assert _fields(client.post(f"{V}/teams/{team_a}/members", headers=sup, json={"person_id": elsewhere.id})) == {
        "person_id": "staff.not_joinable"}
    # town B's team is not found for town A's supervisor
    for response in (client.post(f"{V}/teams/{team_b}/members", headers=sup, json={"person_id": surveyor.id}),
                     client.put(f"{V}/teams/{team_b}/leader", headers=sup, json={"person_id": None}),
                     client.delete(f"{V}/teams/{team_b}/members/{surveyor.id}", headers=sup)):
        assert response.status_code == 404 and response.json["code"] == "request.not_found"
    assert session.scalars(select(team_members.c.person_id).where(team_members.c.team_id == team_b)).all() == []
    # the surveyor now reaches team A's village
    me = client.get("/api/v1/me", headers=login(surveyor)).json
    assert me["village_codes"] == [w["va1"].code]
    removed = client.delete(f"{V}/teams/{team_a}/members/{leader.id}", headers=sup)
    assert removed.status_code == 200 and removed.json["leader"] is None
    assert [m["id"] for m in removed.json["members"]] == [surveyor.id]
    assert client.delete(f"{V}/teams/{team_a}/members/{leader.id}", headers=sup).status_code == 404
    whats = session.scalars(select(AuditEvent.detail["what"].astext).where(
        AuditEvent.subject_type == "team", AuditEvent.subject_id == str(team_a)).order_by(AuditEvent.id)).all()
    assert whats == ["add_member", "leader", "remove_member"]


def test_the_city_corrects_a_name_and_a_phone_and_the_trail_says_which(client, session, login, make_town,
                                                                       make_village, make_person):
    w = _world(session, make_town, make_village, make_person)
    target = make_person("surveyor", town=w["town_a"])
    city = login(w["city"])
    response = client.patch(f"{V}/people/{target.id}", headers=city, json={"full_name": " 王小明 ", "phone": "13900001111"})
    assert response.status_code == 200, response.json
    assert (response.json["full_name"], response.json["phone"], response.json["username"]) == (
        "王小明", "13900001111", target.username)
    session.refresh(target)
    assert (target.full_name, target.phone) == ("王小明", "13900001111")
    events = session.scalars(select(AuditEvent).where(AuditEvent.subject_type == "person",
                                                      AuditEvent.subject_id == str(target.id))).all()
    assert [e.detail for e in events] == [{"what": "edit", "fields": ["full_name", "phone"]}]
    assert "13900001111" not in str(events[0].detail)  # which fields, not their values
    # the phone cleared; the same name again changes nothing and is not in the trail
    cleared = client.patch(f"{V}/people/{target.id}", headers=city, json={"full_name": "王小明", "phone": None})
    assert cleared.status_code == 200 and cleared.json["phone"] is None
    events = session.scalars(select(AuditEvent).where(AuditEvent.subject_type == "person",
                                                      AuditEvent.subject_id == str(target.id))).all()
    assert [e.detail["fields"] for e in events] == [["full_name", "phone"], ["phone"]]
    # bad input names the field; nothing else is editable here
    for body, field in (({"full_name": "  "}, "full_name"), ({"phone": "abc"}, "phone"), ({}, "_schema"),
                        ({"role": "city"}, "role"), ({"full_name": "长" * 51}, "full_name")):
        bad = client.patch(f"{V}/people/{target.id}", headers=city, json=body)
        assert bad.status_code == 422 and field in _fields(bad), (body, bad.json)
    session.refresh(target)
    assert (target.full_name, target.role) == ("王小明", "surveyor")
    assert client.patch(f"{V}/people/999999", headers=city, json={"phone": "13900001111"}).status_code == 404
    assert client.patch(f"{V}/people/{target.id}", headers=login(w["sup_a"]),
                        json={"phone": "13900001111"}).status_code == 403
