"""The demo county is realistic where a user would look: places tile, points fall inside,
ID numbers are valid, both lines cover every village, and it is the same for the same seed."""

import collections

import pytest
import shapely
from shapely.geometry import Point

from server.demo import files, generator
from server.people import id_number


@pytest.fixture(scope="module")
def county():
    return generator.generate("medium", seed=11)


def test_same_seed_same_county_other_seed_other_county():
    a, b = generator.generate("tiny", seed=3), generator.generate("tiny", seed=3)
    assert [c.id_number for c in a.children] == [c.id_number for c in b.children]
    assert [h.id for h in a.households] == [h.id for h in b.households]
    c = generator.generate("tiny", seed=4)
    assert [x.id_number for x in c.children] != [x.id_number for x in a.children]


def test_villages_tile_their_towns_and_the_county(county):
    assert len(county.villages) == generator.SIZES["medium"].villages
    union = shapely.union_all([v.polygon for v in county.villages])
    assert union.symmetric_difference(county.outline).area < 1e-6 * county.outline.area + 1e-9
    total = sum(v.polygon.area for v in county.villages)
    assert total == pytest.approx(county.outline.area, rel=1e-6)  # no overlaps
    for v in county.villages:
        town = next(t for t in county.towns if t.code == v.town_code)
        assert town.polygon.buffer(1e-9).contains(v.polygon)
        assert v.code.startswith(v.town_code[:9]) and len(v.code) == 12
        assert v.polygon.contains(v.centroid)


def test_households_stand_inside_their_village(county):
    polygons = {v.code: v.polygon for v in county.villages}
    assert all(polygons[h.village_code].contains(Point(h.lon, h.lat)) for h in county.households)
    numbers = collections.Counter((h.village_code, h.household_number) for h in county.households)
    assert max(numbers.values()) == 1


def test_children_have_valid_unique_id_numbers_matching_their_birth_and_gender(county):
    numbers = [c.id_number for c in county.children]
    assert len(set(numbers)) == len(numbers)
    for c in county.children:
        check = id_number.check(c.id_number, birth_date=c.birth_date, gender=c.gender)
        assert check.ok and not check.warnings, (c.id_number, check)


def test_registers_cover_about_98_5_percent(county):
    in_register = sum(1 for c in county.children if c.school_code) / len(county.children)
    assert 0.97 <= in_register <= 0.995
    reasons = collections.Counter(c.out_of_school_reason for c in county.children if not c.school_code)
    assert len(reasons) >= 5  # a realistic mix, not a single reason
    assert len(county.children) / len(county.households) == pytest.approx(1.33, abs=0.08)


def test_both_lines_cover_every_village(county):
    covered = collections.defaultdict(set)
    for team in county.teams:
        for code in team.village_codes:
            covered[code].add(team.line)
    assert all(covered[v.code] == {"government", "school"} for v in county.villages)
    roles = collections.Counter(p.role for p in county.people)
    assert roles["city"] == 1 and roles["town_supervisor"] == len(county.towns)
    assert roles["school"] == len(county.schools)


def test_roster_and_register_files_in_the_bureau_formats(tmp_path):
    county = generator.generate("tiny", seed=5)
    roster, register = files.write_all(county, tmp_path, "csv")
    head = roster.read_bytes()[:3]
    assert head == b"\xef\xbb\xbf"  # BOM: Excel on Windows reads it as UTF-8
    lines = roster.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].split(",")[:3] == ["姓名", "性别", "公民身份号码"]
    assert len(lines) == len(county.children) + 1
    assert register.read_text(encoding="utf-8-sig").splitlines()[0].split(",")[2] == "身份证件号"


def test_loaded_county_answers_through_the_api(client, tiny_county, login, session):
    from sqlalchemy import select

    from server.accounts.models import Person

    city = session.scalar(select(Person).where(Person.username == "city"))
    headers = login(city)
    towns = client.get("/api/v1/towns", headers=headers).json
    assert sum(t["counts"]["households"] for t in towns) == len(tiny_county.households)
    assert sum(t["counts"]["children"] for t in towns) == len(tiny_county.children)
    out = sum(1 for c in tiny_county.children if not c.school_code)
    assert sum(t["counts"]["out_of_school"] for t in towns) == out
    surveyor = session.scalar(select(Person).where(Person.role == "surveyor"))
    villages = client.get("/api/v1/villages", headers=login(surveyor)).json
    team = next(t for t in tiny_county.teams if surveyor.username in t.members)
    assert sorted(v["code"] for v in villages) == sorted(team.village_codes)
    households = client.get("/api/v1/households?page_size=1", headers=headers).json
    assert households["items"][0]["location"]["approximate"] is True
