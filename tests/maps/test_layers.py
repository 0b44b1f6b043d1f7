"""GeoJSON layers, the choropleth and the points outside their village, scoped by role."""

from __future__ import annotations

import json

import pytest

ID_LIKE = ("id_number", "id_number_cipher", "id_number_lookup")


def _ids(body, key="id"):
    return {f["properties"][key] for f in body["features"]}


def _get(client, headers, url):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_data(as_text=True))


@pytest.mark.parametrize("who, expected", [
    ("supervisor_a", {"a1_out", "a1_left", "a1_new", "a1_astray", "a2_done"}),
    ("surveyor_a1", {"a1_out", "a1_left", "a1_new", "a1_astray"}),
    ("supervisor_b", {"b1_out"}),
])
def test_household_layer_shows_only_the_villages_of_the_scope(client, login, world, who, expected):
    body = _get(client, login(getattr(world, who)), "/api/v1/maps/households")
    assert _ids(body) == {str(world.households[k].id) for k in expected}
    assert all(k not in json.dumps(body) for k in ID_LIKE)


@pytest.mark.parametrize("who, expected", [
    ("supervisor_a", {"a1_out", "a1_left", "a1_astray", "a2_done"}),
    ("surveyor_a1", {"a1_out", "a1_left", "a1_astray"}),
    ("supervisor_b", {"b1_out"}),
])
def test_child_layer_is_scoped_and_carries_no_id_number(client, login, world, who, expected):
    body = _get(client, login(getattr(world, who)), "/api/v1/maps/children")
    assert _ids(body) == {str(world.children[k].id) for k in expected}
    text = json.dumps(body, ensure_ascii=False)
    assert all(k not in text for k in ID_LIKE)


def test_household_filters_priority_status_village_and_bbox(client, login, world):
    headers = login(world.supervisor_a)
    hh = world.households
    body = _get(client, headers, "/api/v1/maps/households?priority=out_of_school")
    assert _ids(body) == {str(hh["a1_out"].id)}
    body = _get(client, headers, "/api/v1/maps/households?priority=priority_group")
    assert _ids(body) == {str(hh["a1_left"].id)}
    body = _get(client, headers, "/api/v1/maps/households?priority=unsurveyed")
    assert _ids(body) == {str(hh["a1_new"].id)}
    body = _get(client, headers, "/api/v1/maps/households?status=confirmed")
    assert _ids(body) == {str(hh["a2_done"].id)}
    body = _get(client, headers, f"/api/v1/maps/households?village={world.a2.code}")
    assert _ids(body) == {str(hh["a2_done"].id)}
    body = _get(client, headers, "/api/v1/maps/households?bbox=120.40,32.50,120.412,32.512")
    assert _ids(body) == {str(hh["a1_out"].id), str(hh["a1_left"].id)}
    assert client.get("/api/v1/maps/households?bbox=1,2,3", headers=headers).status_code == 422
    empty = _get(client, headers, "/api/v1/maps/households?bbox=0,0,1,1")
    assert empty == {"type": "FeatureCollection", "features": [], "limit": 10000, "truncated": False}


def test_child_filters_by_status_group(client, login, world):
    body = _get(client, login(world.city), "/api/v1/maps/children?status=out_of_school")
    assert _ids(body) == {str(world.children["a1_out"].id), str(world.children["b1_out"].id)}
    body = _get(client, login(world.city), "/api/v1/maps/children?priority=left_behind")
    assert _ids(body) == {str(world.children["a1_left"].id)}


def test_choropleth_counts_and_rates_per_village(client, login, world, session):
    from sqlalchemy import text
    # 李小红 dropped out (the trigger opened her case) and her case ended returned: she counts
    # as returned. 钱小强 was out of school at an earlier version only: he does not.
    child = world.children["a1_left"]
    session.execute(text("UPDATE children SET enrollment_status = 'dropped_out' WHERE id = :id"), {"id": child.id})
    session.execute(text("UPDATE cases SET status = 'returned', closed_at = now() WHERE child_id = :id"),
                    {"id": child.id})
    session.execute(text("UPDATE children SET enrollment_status = 'enrolled' WHERE id = :id"), {"id": child.id})
    other = world.children["a1_astray"]
    session.execute(text("UPDATE children SET enrollment_status = 'suspected_out_of_school' WHERE id = :id"),
                    {"id": other.id})
    session.execute(text("UPDATE children SET enrollment_status = 'enrolled' WHERE id = :id"), {"id": other.id})
    body = _get(client, login(world.supervisor_a), "/api/v1/maps/villages")
    by_code = {f["properties"]["code"]: f["properties"] for f in body["features"]}
    assert set(by_code) == {world.a1.code, world.a2.code}
    a1 = by_code[world.a1.code]
    assert (a1["households"], a1["surveyed"], a1["children"], a1["out_of_school"], a1["returned"]) == (4, 3, 3, 1, 1)
    assert a1["surveyed_share"] == 0.75
    assert a1["out_of_school_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert a1["returned_share"] == 0.5
    assert body["features"][0]["geometry"]["type"] == "MultiPolygon"
    other = _get(client, login(world.supervisor_b), "/api/v1/maps/villages")
    assert [f["id"] for f in other["features"]] == [world.b1.code]


def test_points_outside_their_village_are_listed_for_review(client, login, world):
    headers = login(world.supervisor_a)
    response = client.get("/api/v1/maps/households/outside", headers=headers)
    assert response.status_code == 200
    assert [r["id"] for r in response.json] == [str(world.households["a1_astray"].id)]
    row = response.json[0]
    assert row["distance_m"] > 5000 and row["point_in_village"] is None
    far = client.get("/api/v1/maps/households/outside?min_distance_m=20000", headers=headers)
    assert far.json == []
    assert client.get("/api/v1/maps/households/outside", headers=login(world.supervisor_b)).json == []


def test_a_household_shows_its_children_with_masked_id_numbers(client, login, world):
    household = world.households["a1_out"]
    response = client.get(f"/api/v1/maps/households/{household.id}", headers=login(world.surveyor_a1))
    assert response.status_code == 200
    (child,) = response.json["children"]
    assert child["name"] == "王小明" and "*" in child["id_number"] and len(child["id_number"]) == 18
    assert response.json["priority"] == "out_of_school"
    other = client.get(f"/api/v1/maps/households/{household.id}", headers=login(world.supervisor_b))
    assert other.status_code == 404


def test_layers_need_a_login(client, world):
    assert client.get("/api/v1/maps/households").status_code == 401
