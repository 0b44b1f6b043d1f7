"""Cross-matching roster and register: each child's starting status, students in no roster,
and the per-village and per-town summary, through the caller's scope."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from server.campaigns.models import Campaign
from server.demo.loader import campaign_dates
from server.people import id_number
from server.people.models import Child
from tests.imports.conftest import file_bytes

ROSTER = ["姓名", "性别", "公民身份号码", "出生日期", "区镇", "村(社区)", "户号", "户主姓名"]
REGISTER = ["姓名", "性别", "身份证件号", "学籍号", "学校名称", "学校标识码", "年级", "班级", "在校状态"]


def person(name, birth, seq, region="320685"):
    number = id_number.make(region, birth, seq)
    return {"name": name, "birth": birth, "id": number, "gender": "男" if seq % 2 else "女"}


@pytest.fixture
def place(session, make_town, make_village, make_school):
    town = make_town(name="城东镇")
    east = make_village(town, name="东河村")
    west = make_village(town, name="西河社区")
    primary = make_school(town, "primary", name="城东小学")
    junior = make_school(town, "junior", name="城东初级中学")
    session.add(Campaign(name="2027年控辍保学", school_year=2026, active=True, **campaign_dates(2026)))
    session.flush()
    return town, east, west, primary, junior


@pytest.fixture
def known(place):
    town, east, west, primary, junior = place
    kids = {
        "attending": person("甲", dt.date(2016, 5, 1), 11),
        "suspended": person("乙", dt.date(2015, 3, 1), 12),
        "transferred": person("丙", dt.date(2014, 2, 1), 13),
        "nowhere": person("丁", dt.date(2017, 1, 1), 14),
        "too_old": person("戊", dt.date(2008, 1, 1), 15),
        "moved_school": person("己", dt.date(2013, 6, 1), 16),
        "field_confirmed": person("庚", dt.date(2018, 1, 1), 17),
    }
    migrant = person("辛", dt.date(2016, 9, 9), 21, region="510722")
    village_of = {k: (west if k == "field_confirmed" else east) for k in kids}
    roster = [[k["name"], k["gender"], k["id"], k["birth"].isoformat(), town.name, village_of[key].name,
               f"H{i}", "户主"] for i, (key, k) in enumerate(kids.items())]

    def reg(k, school, grade, status):
        return [k["name"], k["gender"], k["id"], "G" + k["id"], school.name, school.code, f"{grade}", "1班", status]

    register = [
        reg(kids["attending"], primary, 4, "在读"),
        reg(kids["suspended"], primary, 5, "休学"),
        reg(kids["transferred"], primary, 6, "转出"),
        reg(kids["moved_school"], primary, 6, "转出"),
        reg(kids["moved_school"], junior, 7, "在读"),
        reg(kids["field_confirmed"], primary, 2, "在读"),
        reg(migrant, primary, 4, "在读"),
    ]
    return kids, migrant, roster, register, place


def status_of(session, vault, kid):
    return session.scalar(select(Child).where(Child.id_number_lookup == vault.lookup(kid["id"])))


@pytest.mark.parametrize("register_first", [False, True])
def test_each_roster_child_gets_its_starting_status(known, upload, city, session, vault, register_first):
    kids, _migrant, roster, register, (_town, _east, _west, primary, junior) = known
    if register_first:
        upload(city, "register", file_bytes(REGISTER, register))
        upload(city, "roster", file_bytes(ROSTER, roster))
    else:
        upload(city, "roster", file_bytes(ROSTER, roster))
        upload(city, "register", file_bytes(REGISTER, register))

    got = {key: status_of(session, vault, kid) for key, kid in kids.items()}
    assert {key: c.enrollment_status for key, c in got.items()} == {
        "attending": "enrolled_unconfirmed", "suspended": "suspended", "transferred": "transferred_out",
        "nowhere": "suspected_out_of_school", "too_old": "not_school_age",
        "moved_school": "enrolled_unconfirmed", "field_confirmed": "enrolled_unconfirmed",
    }
    assert (got["attending"].school_id, got["attending"].grade) == (primary.id, 4)
    assert (got["moved_school"].school_id, got["moved_school"].grade) == (junior.id, 7)
    assert got["nowhere"].school_id is None


def test_a_status_decided_in_the_field_is_not_overwritten_by_a_later_register(known, upload, city, session,
                                                                               vault):
    kids, _migrant, roster, register, _place = known
    upload(city, "roster", file_bytes(ROSTER, roster))
    upload(city, "register", file_bytes(REGISTER, register))
    child = status_of(session, vault, kids["field_confirmed"])
    child.enrollment_status = "enrolled"  # a school confirmed 报到
    nowhere = status_of(session, vault, kids["nowhere"])
    nowhere.enrollment_status, nowhere.dropout_reason = "dropped_out", "working"
    session.flush()

    later = [row for row in register if row[2] != kids["field_confirmed"]["id"]]
    upload(city, "register", file_bytes(REGISTER, later))

    session.refresh(child)
    session.refresh(nowhere)
    assert child.enrollment_status == "enrolled"
    assert nowhere.enrollment_status == "dropped_out"


def test_register_students_in_no_roster_are_listed(known, upload, city, client):
    kids, migrant, roster, register, _place = known
    upload(city, "roster", file_bytes(ROSTER, roster))
    shown = upload(city, "register", file_bytes(REGISTER, register))
    assert shown["summary"]["not_in_roster"] == 1

    listed = client.get("/api/v1/imports/register-not-in-roster", headers=city).json
    assert listed["register_import_id"] == shown["id"]
    assert [(s["name"], s["grade"], s["status"]) for s in listed["items"]] == [(migrant["name"], 4, "attending")]
    assert listed["items"][0]["id_number"] == id_number.mask(migrant["id"])


def test_the_summary_counts_children_by_status_per_village_and_town_within_scope(
        known, upload, city, client, make_person, login):
    kids, _migrant, roster, register, (town, east, west, _p, _j) = known
    upload(city, "roster", file_bytes(ROSTER, roster))
    upload(city, "register", file_bytes(REGISTER, register))

    summary = client.get("/api/v1/imports/match-summary", headers=city).json
    (town_counts,) = [t for t in summary["towns"] if t["code"] == town.code]
    assert town_counts["children"] == len(kids)
    assert {s: n for s, n in town_counts["by_status"].items() if n} == {
        "enrolled_unconfirmed": 3, "suspended": 1, "transferred_out": 1, "suspected_out_of_school": 1,
        "not_school_age": 1,
    }
    villages = {v["code"]: v for v in summary["villages"]}
    assert villages[east.code]["children"] == 6 and villages[west.code]["children"] == 1

    # A team working in the west village sees that village only.
    surveyor = login(make_person("surveyor", villages=[west]))
    scoped = client.get("/api/v1/imports/match-summary", headers=surveyor).json
    assert [v["code"] for v in scoped["villages"]] == [west.code]
    assert scoped["total"]["children"] == 1
    assert scoped["total"]["by_status"]["enrolled_unconfirmed"] == 1
