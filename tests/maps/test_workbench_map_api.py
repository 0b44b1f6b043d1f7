"""What the workbench's map asks of the API: households at surveyed points only, the ones
without a point listed, a cut layer that says so, town borders with counts, a search by name
or by a whole ID number (through the lookup hash, never kept in clear), and the basemap."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from server.audit.models import AuditEvent
from server.cases.models import Case
from server.people import id_number


def _get(client, headers, url):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_data(as_text=True))


def _ids(body):
    return {f["properties"]["id"] for f in body["features"]}


def test_the_layer_keeps_surveyed_points_apart_from_village_centres(client, login, world):
    headers = login(world.supervisor_a)
    hh = world.households
    surveyed = _get(client, headers, "/api/v1/maps/households?approximate=false")
    assert _ids(surveyed) == {str(hh[k].id) for k in ("a1_out", "a1_left", "a1_astray", "a2_done")}
    assert all(not f["properties"]["location_approximate"] for f in surveyed["features"])
    centres = _get(client, headers, "/api/v1/maps/households?approximate=true")
    assert _ids(centres) == {str(hh["a1_new"].id)}
    # each household at its own point, not its village's centre
    points = {tuple(f["geometry"]["coordinates"]) for f in surveyed["features"]}
    assert (120.405, 32.505) in points and (120.43, 32.51) in points and len(points) == 4
    assert client.get("/api/v1/maps/households?approximate=perhaps", headers=headers).status_code == 422


def test_a_layer_cut_by_its_limit_says_so(client, login, world):
    headers = login(world.supervisor_a)
    cut = _get(client, headers, "/api/v1/maps/households?limit=2")
    assert len(cut["features"]) == 2 and cut["truncated"] is True and cut["limit"] == 2
    whole = _get(client, headers, "/api/v1/maps/households?limit=5")
    assert len(whole["features"]) == 5 and whole["truncated"] is False


def test_households_without_a_gps_point_are_listed_most_urgent_first(client, login, world, make_household,
                                                                    make_child):
    headers = login(world.supervisor_a)
    nowhere = make_household(world.a2, location=None, head_name="吴七", group_name="2组", household_number="7")
    make_child(nowhere, name="吴小妹", enrollment_status="dropped_out")
    page = _get(client, headers, "/api/v1/maps/households/without-gps")
    assert [i["id"] for i in page["items"]] == [str(nowhere.id), str(world.households["a1_new"].id)]
    assert page["total"] == 2
    first = page["items"][0]
    assert (first["priority"], first["village_name"], first["group_name"], first["household_number"]) == \
        ("out_of_school", "乙村", "2组", "7")
    assert page["items"][1]["priority"] == "unsurveyed"
    one = _get(client, headers, f"/api/v1/maps/households/without-gps?village={world.a1.code}&page_size=1")
    assert [i["head_name"] for i in one["items"]] == ["赵三"] and one["total"] == 1
    # another town's supervisor sees none of them
    assert _get(client, login(world.supervisor_b), "/api/v1/maps/households/without-gps")["total"] == 0
    assert client.get("/api/v1/maps/households/without-gps?page_size=0", headers=headers).status_code == 422


def test_town_borders_carry_the_towns_counts(client, login, world):
    city = _get(client, login(world.city), "/api/v1/maps/towns")
    by_code = {f["id"]: f for f in city["features"]}
    a = by_code[world.town_a.code]["properties"]
    assert (a["villages"], a["households"], a["out_of_school"], a["without_gps"]) == (2, 5, 1, 1)
    assert by_code[world.town_a.code]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert by_code[world.town_b.code]["properties"]["households"] == 1
    mine = _get(client, login(world.supervisor_b), "/api/v1/maps/towns")
    assert [f["id"] for f in mine["features"]] == [world.town_b.code]


def _search(client, headers, q, status=200, **extra):
    response = client.post("/api/v1/maps/search", json={"q": q, **extra}, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.json


def test_a_child_is_found_by_a_part_of_its_name_in_scope_only(client, login, world, session):
    headers = login(world.supervisor_a)
    found = _search(client, headers, "小")
    names = {i["name"] for i in found["items"]}
    assert names == {"王小明", "李小红", "钱小强", "孙小丽"} and found["by"] == "name"
    assert "周小刚" not in names  # town B's
    exact = _search(client, headers, "王小明")["items"]
    assert [i["id"] for i in exact] == [str(world.children["a1_out"].id)]
    item = exact[0]
    assert item["household_id"] == str(world.households["a1_out"].id)
    assert (item["head_name"], item["village_name"], item["lon"], item["lat"]) == ("王大", "甲村", 120.405, 32.505)
    assert len(item["id_number"]) == 18 and item["id_number"].endswith("*" * 12)
    # a wildcard is a character, not a pattern
    assert _search(client, headers, "%")["items"] == []
    cut = _search(client, headers, "小", limit=2)
    assert len(cut["items"]) == 2 and cut["truncated"] is True


def test_a_whole_id_number_finds_its_child_exactly_and_is_never_kept(client, login, world, make_child, session):
    number = id_number.make("320685", dt.date(2014, 7, 7), 457)
    child = make_child(world.households["a1_new"], name="郑小军", number=number,
                       birth_date=dt.date(2014, 7, 7), gender="M", enrollment_status="dropped_out")
    # an out-of-school child has its case opened by the database
    case = session.scalar(select(Case).where(Case.child_id == child.id))
    assert case is not None
    headers = login(world.supervisor_a)
    found = _search(client, headers, f" {number[:17]}{number[17].lower()} ")
    assert found["by"] == "id_number"
    assert [(i["id"], i["case_id"]) for i in found["items"]] == [(str(child.id), case.id)]
    # a household at its village's centre has no point to show
    assert found["items"][0]["lon"] is None
    assert number not in json.dumps(found)
    # the audit trail holds the lookup hash, never the digits
    event = session.scalars(select(AuditEvent).where(AuditEvent.subject_type == "child")
                            .order_by(AuditEvent.id.desc())).first()
    assert number not in json.dumps(event.detail, default=str) and number not in json.dumps(event.filters or {})
    assert str(child.id) in json.dumps(event.record_ids, default=str)
    # the same number from town B's supervisor: nothing
    assert _search(client, login(world.supervisor_b), number)["items"] == []
    # a part of a number is refused by name, not searched by prefix
    error = _search(client, headers, number[:12], status=422)
    assert error["errors"][0]["field"] == "q"
    _search(client, headers, "   ", status=422)
    # the household card links the child's case
    card = _get(client, headers, f"/api/v1/maps/households/{world.households['a1_new'].id}")
    assert {c["id"]: c["case_id"] for c in card["children"]}[str(child.id)] == case.id


def test_the_basemap_is_the_countys_setting(client, login, world, app):
    headers = login(world.surveyor_a1)
    assert _get(client, headers, "/api/v1/maps/config") == {"basemap_url": "", "basemap_attribution": "",
                                                            "gcj02": False}
    app.config.update(BASEMAP_URL="https://tiles.example.cn/{z}/{x}/{y}.png", BASEMAP_ATTRIBUTION="本县",
                      BASEMAP_GCJ02="true")
    try:
        config = _get(client, headers, "/api/v1/maps/config")
    finally:
        app.config.update(BASEMAP_URL="", BASEMAP_ATTRIBUTION="", BASEMAP_GCJ02="")
    assert config == {"basemap_url": "https://tiles.example.cn/{z}/{x}/{y}.png", "basemap_attribution": "本县",
                      "gcj02": True}
    assert client.get("/api/v1/maps/config").status_code == 401
