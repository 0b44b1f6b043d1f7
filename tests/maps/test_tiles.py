"""Vector tiles decoded with mapbox-vector-tile: the right features, scoped, and no one's name."""

from __future__ import annotations

import math

import mapbox_vector_tile
import pytest

PERSONAL = {"name", "head_name", "id_number", "birth_date", "phone", "guardian_name", "address"}


def tile_of(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def _decode(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(response.data)


def _properties(tile):
    return [f["properties"] for layer in tile.values() for f in layer["features"]]


POINTS = {"a1_out": (120.405, 32.505), "a1_left": (120.41, 32.51), "a1_new": (120.415, 32.515),
          "a1_astray": (120.50, 32.51), "a2_done": (120.43, 32.51), "b1_out": (120.61, 32.61)}
SCOPES = {"supervisor_a": {"a1_out", "a1_left", "a1_new", "a1_astray", "a2_done"},
          "surveyor_a1": {"a1_out", "a1_left", "a1_new", "a1_astray"}, "supervisor_b": {"b1_out"}}


@pytest.mark.parametrize("who", SCOPES)
def test_household_tile_at_street_zoom_is_scoped_and_names_no_one(client, login, world, who):
    x, y = tile_of(*POINTS["a1_out"], 14)
    tile = _decode(client.get(f"/api/v1/tiles/households/14/{x}/{y}.mvt", headers=login(getattr(world, who))))
    ids = {p["id"] for p in _properties(tile)}
    expected = {k for k in SCOPES[who] if tile_of(*POINTS[k], 14) == (x, y)}
    assert ids == {str(world.households[k].id) for k in expected}
    assert (who == "supervisor_b") == (not ids)
    for props in _properties(tile):
        assert not PERSONAL & set(props)
    if ids:
        by_id = {p["id"]: p for p in _properties(tile)}
        assert by_id[str(world.households["a1_out"].id)]["priority"] == "out_of_school"


def test_low_zoom_tiles_carry_aggregates_only(client, login, world):
    x, y = tile_of(120.41, 32.51, 8)
    headers = login(world.supervisor_a)
    tile = _decode(client.get(f"/api/v1/tiles/households/8/{x}/{y}.mvt", headers=headers))
    props = _properties(tile)
    assert sum(p["households"] for p in props) == 5
    assert sum(p["out_of_school"] for p in props) == 1
    assert all(set(p) <= {"households", "out_of_school_households", "out_of_school", "unsurveyed"} for p in props)
    children = _decode(client.get(f"/api/v1/tiles/children/8/{x}/{y}.mvt", headers=headers))
    assert sum(p["children"] for p in _properties(children)) == 4
    assert all(set(p) == {"children", "out_of_school"} for p in _properties(children))


def test_children_tile_at_street_zoom_has_statuses_not_names(client, login, world):
    x, y = tile_of(120.405, 32.505, 14)
    tile = _decode(client.get(f"/api/v1/tiles/children/14/{x}/{y}.mvt", headers=login(world.city)))
    props = _properties(tile)
    assert "dropped_out" in {p["enrollment_status"] for p in props}
    for p in props:
        assert not PERSONAL & set(p)


def test_village_tile_has_counts_per_scoped_village(client, login, world):
    x, y = tile_of(120.42, 32.51, 11)
    tile = _decode(client.get(f"/api/v1/tiles/villages/11/{x}/{y}.mvt", headers=login(world.surveyor_a1)))
    props = _properties(tile)
    assert [p["village_code"] for p in props] == [world.a1.code]
    assert props[0]["households"] == 4 and props[0]["out_of_school"] == 1


def test_tiles_have_an_etag_and_cache_headers(client, login, world):
    x, y = tile_of(120.41, 32.51, 14)
    headers = login(world.supervisor_a)
    url = f"/api/v1/tiles/households/14/{x}/{y}.mvt"
    first = client.get(url, headers=headers)
    assert first.headers["ETag"] and "private" in first.headers["Cache-Control"]
    again = client.get(url, headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    other = client.get(url, headers=login(world.supervisor_b))
    assert other.headers["ETag"] != first.headers["ETag"]


def test_bad_tile_addresses_are_refused(client, login, world):
    headers = login(world.city)
    assert client.get("/api/v1/tiles/roads/1/0/0.mvt", headers=headers).json["code"] == "maps.unknown_layer"
    assert client.get("/api/v1/tiles/households/2/4/0.mvt", headers=headers).json["code"] == "maps.invalid_tile"
