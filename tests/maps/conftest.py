"""A small map: two towns, three villages with polygons, households with points and children."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.sync_api.conftest import enroll, forms  # noqa: F401 - the tablet fixtures

SQUARE = "MULTIPOLYGON((({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0})))"


def square(x0, y0, size=0.02):
    return SQUARE.format(x0=x0, y0=y0, x1=round(x0 + size, 6), y1=round(y0 + size, 6))


@dataclass
class MapWorld:
    town_a: object
    town_b: object
    a1: object
    a2: object
    b1: object
    households: dict
    children: dict
    supervisor_a: object
    supervisor_b: object
    surveyor_a1: object
    city: object


def point(lon, lat):
    return f"SRID=4326;POINT({lon} {lat})"


@pytest.fixture
def world(make_town, make_village, make_household, make_child, make_person):
    town_a, town_b = make_town(), make_town()
    a1 = make_village(town_a, wkt=square(120.40, 32.50), name="甲村")
    a2 = make_village(town_a, wkt=square(120.42, 32.50), name="乙村")
    b1 = make_village(town_b, wkt=square(120.60, 32.60), name="丙村")
    hh = {
        # a1: an out-of-school child, a left-behind child, an unsurveyed household, one point astray
        "a1_out": make_household(a1, location=point(120.405, 32.505), location_approximate=False,
                                 survey_status="visited", head_name="王大"),
        "a1_left": make_household(a1, location=point(120.41, 32.51), location_approximate=False,
                                  survey_status="visited", head_name="李二"),
        "a1_new": make_household(a1, location=point(120.415, 32.515), location_approximate=True,
                                 head_name="赵三"),
        "a1_astray": make_household(a1, location=point(120.50, 32.51), location_approximate=False,
                                    survey_status="visited", head_name="钱四"),
        "a2_done": make_household(a2, location=point(120.43, 32.51), location_approximate=False,
                                  survey_status="confirmed", head_name="孙五"),
        "b1_out": make_household(b1, location=point(120.61, 32.61), location_approximate=False,
                                 survey_status="visited", head_name="周六"),
    }
    ch = {
        "a1_out": make_child(hh["a1_out"], name="王小明", enrollment_status="dropped_out"),
        "a1_left": make_child(hh["a1_left"], name="李小红", enrollment_status="enrolled", left_behind=True),
        "a1_astray": make_child(hh["a1_astray"], name="钱小强", enrollment_status="enrolled"),
        "a2_done": make_child(hh["a2_done"], name="孙小丽", enrollment_status="enrolled"),
        "b1_out": make_child(hh["b1_out"], name="周小刚", enrollment_status="suspected_out_of_school"),
    }
    return MapWorld(
        town_a, town_b, a1, a2, b1, hh, ch,
        supervisor_a=make_person("town_supervisor", town=town_a),
        supervisor_b=make_person("town_supervisor", town=town_b),
        surveyor_a1=make_person("surveyor", villages=[a1]),
        city=make_person("city"),
    )
