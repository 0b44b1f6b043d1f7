"""Least access by area: each role sees only its villages, in every listing."""

import pytest


@pytest.fixture
def two_towns(make_town, make_village, make_household, make_child):
    a, b = make_town(name="甲镇"), make_town(name="乙镇")
    a1, a2, b1 = make_village(a), make_village(a), make_village(b)
    for village, n in ((a1, 2), (a2, 3), (b1, 4)):
        for _ in range(n):
            make_child(make_household(village), enrollment_status="enrolled_unconfirmed")
    make_child(make_household(a1), enrollment_status="dropped_out")
    return a, b, a1, a2, b1


def _codes(response):
    assert response.status_code == 200, response.json
    return sorted(item["code"] for item in response.json)


def test_city_sees_every_town(client, two_towns, make_person, login):
    a, b, *_ = two_towns
    codes = _codes(client.get("/api/v1/towns", headers=login(make_person("city"))))
    assert {a.code, b.code} <= set(codes)


def test_town_supervisor_sees_only_its_town(client, two_towns, make_person, login):
    a, b, a1, a2, b1 = two_towns
    headers = login(make_person("town_supervisor", town=a))
    assert _codes(client.get("/api/v1/towns", headers=headers)) == [a.code]
    assert _codes(client.get("/api/v1/villages", headers=headers)) == sorted([a1.code, a2.code])
    towns = client.get("/api/v1/towns", headers=headers).json
    assert towns[0]["counts"]["children"] == 6 and towns[0]["counts"]["out_of_school"] == 1
    assert towns[0]["counts"]["children_by_status"]["dropped_out"] == 1
    children = client.get("/api/v1/children?page_size=100", headers=headers).json
    assert children["total"] == 6
    assert {c["village_code"] for c in children["items"]} == {a1.code, a2.code}
    # another town's village is not found, not forbidden: its existence is not told
    assert client.get(f"/api/v1/villages/{b1.code}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/children?village={b1.code}", headers=headers).json["total"] == 0


def test_surveyor_sees_only_its_teams_villages(client, two_towns, make_person, login):
    a, b, a1, a2, b1 = two_towns
    headers = login(make_person("surveyor", villages=[a2], line="school"))
    assert _codes(client.get("/api/v1/villages", headers=headers)) == [a2.code]
    assert _codes(client.get("/api/v1/towns", headers=headers)) == [a.code]
    me = client.get("/api/v1/me", headers=headers).json
    assert me["village_codes"] == [a2.code]
    children = client.get("/api/v1/children", headers=headers).json
    assert children["total"] == 3
    households = client.get("/api/v1/households", headers=headers).json
    assert households["total"] == 3 and {h["village_code"] for h in households["items"]} == {a2.code}
    village = client.get(f"/api/v1/villages/{a2.code}", headers=headers).json
    assert village["boundary"]["type"] == "MultiPolygon" and village["counts"]["children"] == 3


def test_a_person_without_a_team_sees_nothing(client, two_towns, make_person, login):
    headers = login(make_person("surveyor"))
    assert client.get("/api/v1/villages", headers=headers).json == []
    assert client.get("/api/v1/children", headers=headers).json["total"] == 0


def test_school_account_sees_only_its_students(client, two_towns, make_school, make_person, make_household,
                                               make_child, login):
    a, b, a1, a2, b1 = two_towns
    school = make_school(b)
    home = make_household(b1)
    student = make_child(home, enrollment_status="enrolled_unconfirmed", school_id=school.id)
    headers = login(make_person("school", school=school))
    # Its students' villages, and within them its students only (b1 has four other children).
    assert _codes(client.get("/api/v1/villages", headers=headers)) == [b1.code]
    children = client.get("/api/v1/children?page_size=100", headers=headers).json
    assert [c["id"] for c in children["items"]] == [str(student.id)]
    households = client.get("/api/v1/households?page_size=100", headers=headers).json
    assert [h["id"] for h in households["items"]] == [str(home.id)]
