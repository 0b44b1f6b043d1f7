"""一个都不少 as a view: every school-age child on file surveyed, in a case or exempt with its
evidence, counted by town, village and team; the unaccounted listed (masked, audited); the days
left in the campaign's phase."""

import datetime as dt

import pytest
from sqlalchemy import select

from server.audit.models import AuditEvent
from server.campaigns.models import Campaign
from server.cases.models import Case
from server.people import id_number
from server.reports import service

URL = "/api/v1/reports/accounted-for"
EVIDENCE = "sha256:" + "ab" * 32


@pytest.fixture
def county(make_town, make_village, make_household, make_child, make_person, make_school, campaign, pinned_today,
           session):
    town = make_town(name="城东镇")
    red = make_village(town, name="红星村")
    east = make_village(town, name="东风村")
    visited = make_household(red, group_name="2组", household_number="015", head_name="王大明",
                             survey_status="visited")
    new = make_household(red, group_name="1组", household_number="003", head_name="李大红")
    east_home = make_household(east, survey_status="confirmed", head_name="周户主")
    kids = {
        "surveyed": make_child(visited, name="王在读", enrollment_status="enrolled_unconfirmed"),
        "case": make_child(new, name="李辍学", enrollment_status="dropped_out"),
        "returned": make_child(new, name="李复学", enrollment_status="enrolled"),
        "exempt_case": make_child(visited, name="王病休", enrollment_status="sick_deferral"),
        "exempt_cert": make_child(visited, name="王缓学", enrollment_status="sick_deferral",
                                  certificate_photo=EVIDENCE),
        "no_evidence": make_child(visited, name="王外地", enrollment_status="moved_out"),
        "not_surveyed": make_child(new, name="李未访", enrollment_status="enrolled_unconfirmed",
                                   number=id_number.make("320685", dt.date(2015, 3, 1), 402)),
        "no_case": make_child(visited, name="王疑似", enrollment_status="suspected_out_of_school"),
        "unresolved": make_child(visited, name="王休学", enrollment_status="suspended"),
        "east": make_child(east_home, name="周在读", enrollment_status="enrolled"),
        "too_old": make_child(new, name="李超龄", birth_date=dt.date(2005, 1, 1), enrollment_status="dropped_out"),
        "not_school_age": make_child(new, name="李非适龄", enrollment_status="not_school_age"),
    }
    opened = dt.datetime(2027, 6, 1, tzinfo=dt.UTC)
    # kids["case"]: confirmed dropped out, its case opened by the trigger (open_case_for_child)
    session.add_all([
        Case(child_id=kids["returned"].id, village_code=red.code, status="returned", opened_from="dropped_out",
             opened_at=opened, closed_at=opened, return_date=dt.date(2027, 6, 20)),
        Case(child_id=kids["exempt_case"].id, village_code=red.code, status="exempted",
             opened_from="suspected_out_of_school", opened_at=opened, closed_at=opened,
             exemption_reason="illness", evidence=EVIDENCE),
    ])
    other_town = make_town(name="角斜镇")
    elsewhere = make_child(make_household(make_village(other_town, name="外镇村")), name="孙外镇",
                           enrollment_status="suspected_out_of_school")
    session.flush()
    return {"town": town, "red": red, "east": east, "kids": kids, "elsewhere": elsewhere, "other": other_town,
            "supervisor": make_person("town_supervisor", town=town), "city": make_person("city"),
            "leader": make_person("team_leader", villages=[red]),
            "other_leader": make_person("team_leader", villages=[elsewhere_village(session, elsewhere)]),
            "school": make_person("school", school=make_school(town)), "surveyor": make_person("surveyor", villages=[red])}


def elsewhere_village(session, child):
    from server.places.models import Village

    return session.get(Village, child.village_code)


def _get(client, headers, **params):
    response = client.get(URL, query_string=params, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def test_each_child_counts_once_by_how_it_is_accounted_for(client, login, county):
    body = _get(client, login(county["supervisor"]))
    red = next(v for v in body["villages"] if v["code"] == county["red"].code)
    assert red["town_name"] == "城东镇" and red["name"] == "红星村"
    assert (red["children"], red["surveyed"], red["in_case"], red["exempt"]) == (9, 1, 2, 2)
    assert red["accounted"] == 5 and red["unaccounted"] == 4
    assert (red["not_surveyed"], red["no_case"], red["no_evidence"], red["unresolved"]) == (1, 1, 1, 1)
    east = next(v for v in body["villages"] if v["code"] == county["east"].code)
    assert (east["children"], east["surveyed"], east["unaccounted"]) == (1, 1, 0)
    assert [t["code"] for t in body["towns"]] == [county["town"].code]
    assert body["towns"][0]["children"] == 10 and body["towns"][0]["accounted"] == 6
    assert body["total"]["accounted_share"] == pytest.approx(0.6)
    # the leader's team covers 红星村 only
    team = next(t for t in body["teams"] if t["villages"] == 1 and t["town_code"] == county["town"].code)
    assert (team["children"], team["unaccounted"]) == (9, 4)


def test_the_unaccounted_are_listed_with_household_place_and_a_masked_number(client, login, county, session):
    headers = login(county["city"])
    body = _get(client, headers, town=county["town"].code)
    listed = {i["name"]: i for i in body["unaccounted"]["items"]}
    assert set(listed) == {"李未访", "王疑似", "王外地", "王休学"}
    assert body["unaccounted"]["total"] == 4
    child = listed["李未访"]
    assert child["reason"] == "not_surveyed" and child["reason_label"] == "所在户未走访"
    assert (child["village_name"], child["town_name"], child["group_name"], child["household_number"],
            child["head_name"]) == ("红星村", "城东镇", "1组", "003", "李大红")
    assert child["id_number"] == "320685************" and "2015" not in child["id_number"]
    assert listed["王疑似"]["reason"] == "no_case" and listed["王外地"]["reason"] == "no_evidence"
    assert listed["王休学"]["reason"] == "unresolved"
    # 组 order: 1组 before 2组
    assert body["unaccounted"]["items"][0]["name"] == "李未访"
    # the read is audited, naming the children shown
    event = session.scalars(select(AuditEvent).where(AuditEvent.person_id == county["city"].id)
                            .order_by(AuditEvent.id.desc())).first()
    assert event.action == "read" and event.subject_type == "child"
    shown = [county["kids"][k] for k in ("not_surveyed", "no_case", "no_evidence", "unresolved")]
    assert {str(i) for i in event.record_ids} == {str(c.id) for c in shown} | {str(c.household_id) for c in shown}
    assert event.record_count == 4
    # a page at a time
    page = _get(client, headers, town=county["town"].code, page_size=3, page=2)
    assert page["unaccounted"]["total"] == 4 and len(page["unaccounted"]["items"]) == 1


def test_a_scope_holds_only_its_own_places(client, login, county):
    body = _get(client, login(county["supervisor"]))
    names = [i["name"] for i in body["unaccounted"]["items"]]
    assert "孙外镇" not in names and all(v["town_code"] == county["town"].code for v in body["villages"])
    leader = _get(client, login(county["leader"]))
    assert [v["code"] for v in leader["villages"]] == [county["red"].code]
    assert leader["total"]["children"] == 9
    # its own team, not the surveyor's other team over the same village
    assert len(leader["teams"]) == 1 and leader["teams"][0]["unaccounted"] == 4
    city = _get(client, login(county["city"]))
    assert "孙外镇" in [i["name"] for i in city["unaccounted"]["items"]]
    # a team elsewhere is not found; the school and the surveyor are refused
    other_team = next(t["id"] for t in city["teams"] if t["town_code"] == county["other"].code)
    assert client.get(URL, query_string={"team": other_team}, headers=login(county["supervisor"])).status_code == 404
    city_team = _get(client, login(county["city"]), team=other_team)
    assert [i["name"] for i in city_team["unaccounted"]["items"]] == ["孙外镇"]
    for who in ("school", "surveyor"):
        assert client.get(URL, headers=login(county[who])).status_code == 403


def test_bad_filters_are_named(client, login, county):
    response = client.get(URL, query_string={"village": "12", "page_size": 0}, headers=login(county["city"]))
    assert response.status_code == 422
    assert {"village", "page_size"} <= {e["field"] for e in response.json["errors"]}


def test_the_phase_and_its_days_left(client, login, county, campaign):
    body = _get(client, login(county["city"]))  # pinned on 2 July 2027: 督察整改 until 10 July
    assert body["phase"] == {"key": "enforcement", "name": "督察整改", "starts_on": "2027-07-01",
                             "ends_on": "2027-07-10", "days_left": 8}
    assert body["campaign"]["name"] == campaign.name
    c = Campaign(name="x", school_year=2027, publicity_start=dt.date(2027, 4, 20), survey_start=dt.date(2027, 5, 21),
                 persuasion_start=dt.date(2027, 6, 10), enforcement_start=dt.date(2027, 7, 1),
                 enforcement_end=dt.date(2027, 7, 10))
    assert service.current_phase(c, dt.date(2027, 5, 28))["key"] == "survey"
    assert service.current_phase(c, dt.date(2027, 6, 9)) | {} == {
        "key": "survey", "name": "摸底建档", "starts_on": dt.date(2027, 5, 21), "ends_on": dt.date(2027, 6, 9),
        "days_left": 0}
    assert service.current_phase(c, dt.date(2027, 6, 10))["key"] == "persuasion"
    assert service.current_phase(c, dt.date(2027, 4, 1)) | {} == {
        "key": "not_started", "name": "尚未开始", "starts_on": dt.date(2027, 4, 20), "ends_on": dt.date(2027, 4, 20),
        "days_left": 19}
    assert service.current_phase(c, dt.date(2027, 8, 1))["key"] == "ended"
    assert service.current_phase(None, dt.date(2027, 8, 1)) is None
